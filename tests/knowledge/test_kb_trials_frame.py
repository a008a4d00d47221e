"""``kb.trials(...)``, ``kb.searches``, ``kb.tasks`` and the repr, read the fast way (each distinct spec decoded
once, per-search columns read once, ``columns=``), pinned to what the code before it returned: the same
DataFrame (dtypes, order, index) on a store of several searches, tasks and spaces with failed, pruned and
multi-fidelity trials, on SQLite and PostgreSQL (``url``)."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import nasbook
from nasbook import KnowledgeBase
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, StorageError
from nasbook.knowledge import _frames
from nasbook.knowledge._frames import TRIAL_COLUMNS, _search_configs, _typed, load_json
from nasbook.space import CellSpace, ChainSpace, GraphSpace
from nasbook.storage import TABLES
from nasbook.testing import ToyTask

_S, _T, _K = TABLES["searches"], TABLES["trials"], TABLES["tasks"]
GRAPH, CELL, CHAIN = GraphSpace(), CellSpace(n_nodes=4), ChainSpace(kind="mlp", max_depth=3)


def _old_trials_frame(kb, where):
    """``trials_frame`` as it was before (commit f1675a6): one row loop, every JSON text decoded per row."""
    q = (sa.select(_S.c.id, _K.c.name, _S.c.task_key, _S.c.name, _S.c.strategy, _S.c.space_id, _T.c.number,
                   _T.c.state, _T.c.arch_id, sa.type_coerce(_T.c.arch, sa.Text), _T.c.value,
                   sa.type_coerce(_T.c.metrics, sa.Text), _T.c.epochs, _T.c.finished_at)
         .select_from(_T.join(_S, _S.c.id == _T.c.search_id).outerjoin(_K, _K.c.key == _S.c.task_key))
         .where(*where).order_by(_S.c.id, _T.c.number))
    rows = kb._rows(q)
    configs = _search_configs(kb) if rows else {}
    cols = {c: [] for c in TRIAL_COLUMNS}
    for sid, task, key, search, strategy, space_id, number, state, arch_id, arch, value, metrics, epochs, fin in rows:
        config = configs.get(int(sid), {})
        what = f"trial {number} of search {search!r}"
        for c, v in (("task", task), ("task_key", key), ("search", search), ("strategy", strategy),
                     ("space_id", space_id), ("number", number), ("state", state), ("arch_id", arch_id),
                     ("arch", load_json(arch, f"the architecture of {what}")), ("value", value),
                     ("metrics", load_json(metrics, f"the metrics of {what}")), ("metric", config.get("metric")),
                     ("mode", config.get("mode", "max")), ("epochs", epochs), ("finished_at", fin)):
            cols[c].append(v)
    df = pd.DataFrame(cols, columns=list(TRIAL_COLUMNS))
    df["number"] = df["number"].astype("int64")
    df["value"] = df["value"].astype("float64")
    df["epochs"] = df["epochs"].astype("Int64")
    df["finished_at"] = df["finished_at"].astype("float64")
    return _typed(df, "trials")


def _pool(space, n, seed):
    rng = np.random.default_rng(seed)
    return list({a.id: a for a in (space.sample(rng) for _ in range(4 * n))}.values())[:n]


def _rows(archs, n, seed, *, fidelity=False, special=False):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        u = rng.random()
        state = "failed" if u < 0.1 else "pruned" if u < 0.2 else "diverged" if u < 0.25 else "complete"
        row = {"arch": archs[int(rng.integers(len(archs)))], "state": state,
               "value": None if state == "failed" else float(rng.uniform(0.1, 0.9)),
               "metrics": {"test": float(rng.random()), "latency_ms": int(rng.integers(1, 9))} if i % 3 else {},
               "finished_at": 1.7e9 + i if i % 2 else None}
        if fidelity:
            row["epochs"] = int(rng.choice([1, 3, 9]))
        out.append(row)
    if special:  # values and metrics JSON cannot hold without nasbook's dumps: NaN and infinities
        out[0]["metrics"] = {"nan": math.nan, "inf": math.inf, "s": "text", "nested": [1, {"a": None}]}
        out[1]["value"] = math.inf
        out[1]["state"] = "complete"
    return out


@pytest.fixture
def kb(url):
    """Six searches over six tasks and three spaces: ingested ones (failed, pruned, diverged trials, a
    multi-fidelity one, a min-mode task, NaN and inf), and two run by Search (finished_at, the loop's rows)."""
    graph, cell = _pool(GRAPH, 40, 100), _pool(CELL, 15, 101)
    with KnowledgeBase(url) as kb:
        kb.ingest(_rows(graph, 120, 1, special=True), task="alpha", space=GRAPH, name="g-alpha")
        kb.ingest(_rows(graph, 90, 2, fidelity=True), task="beta", space=GRAPH, name="g-beta-asha", strategy="asha")
        kb.ingest(_rows(cell, 60, 3), task="alpha", space=CELL, name="c-alpha", metric="loss", mode="min")
        kb.ingest(_rows(cell, 50, 4), task="gamma", space=CELL, name="c-gamma", mode="min")
        for seed, name in ((0, "chain-a"), (1, "chain-b")):
            nasbook.Search(CHAIN, ToyTask(CHAIN, seed=seed), budget=7, seed=seed, kb=kb, name=name).run(progress="none")
        yield kb


FILTERS = [{}, {"states": None}, {"task": "alpha"}, {"task": "alpha", "states": ["failed", "pruned"]},
           {"space": CELL.space_id}, {"space": [GRAPH.space_id, CHAIN.space_id], "states": None},
           {"search": "g-beta-asha", "states": None}, {"search": ["c-gamma", "chain-b"]}, {"states": "diverged"},
           {"task": "gamma", "space": GRAPH.space_id}]


def test_trials_equal_the_old_frame_under_every_filter(kb):
    for kw in FILTERS:
        want = _old_trials_frame(kb, kb._where(kw.get("task"), kw.get("space"), kw.get("search"),
                                                kw.get("states", ("complete",))))
        got = kb.trials(**kw)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert list(map(str, got.dtypes)) == list(map(str, want.dtypes)) and got.index.equals(want.index), kw
        assert [type(a) for a in got["arch"]] == [type(a) for a in want["arch"]]
    everything = kb.trials(states=None)
    assert len(everything) == 120 + 90 + 60 + 50 + 7 + 7 and everything["epochs"].notna().sum() >= 90
    assert set(everything["state"]) >= {"complete", "failed", "pruned", "diverged"}
    assert math.isnan(everything["metrics"].iloc[0]["nan"]) and everything["value"].iloc[1] == math.inf
    assert everything["finished_at"].notna().all() and everything["finished_at"].nunique() > 20


def test_an_empty_selection_has_the_dtypes_of_a_filled_one(kb):
    got = kb.trials(task="gamma", space=GRAPH.space_id)
    want = _old_trials_frame(kb, kb._where("gamma", GRAPH.space_id, None, ("complete",)))
    assert len(got) == 0
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(kb.trials().dtypes)
    sub = kb.trials(task="gamma", space=GRAPH.space_id, columns=["value", "task", "arch"])
    pd.testing.assert_frame_equal(sub, want[["value", "task", "arch"]], check_exact=True)


def test_results_of_equals_the_old_frame(kb):
    arch = kb.trials(space=GRAPH.space_id)["arch_id"].iloc[0]
    a = GRAPH.from_dict(kb.trials(space=GRAPH.space_id)["arch"].iloc[0])
    assert a.id == arch
    want = _old_trials_frame(kb, [*kb._where(None, GRAPH.space_id, None, ("complete",)), _T.c.arch_id == arch])
    pd.testing.assert_frame_equal(kb.results_of(a), want, check_exact=True)


@pytest.mark.parametrize("columns", [["value", "arch"], ["value"], ["metrics", "task"], list(reversed(TRIAL_COLUMNS)),
                                     ["mode", "metric", "search"], ["arch_id", "epochs", "finished_at", "state"], []])
def test_columns_equals_selecting_them_from_every_column(kb, columns):
    for kw in ({"states": None}, {"task": "alpha"}, {"space": CELL.space_id}):
        full = kb.trials(**kw)
        got = kb.trials(**kw, columns=columns)
        pd.testing.assert_frame_equal(got, full[columns], check_exact=True)
        assert list(got.columns) == columns and len(got) == len(full)


def test_rows_of_one_architecture_share_one_decoded_spec(kb):
    df = kb.trials(space=GRAPH.space_id, states=None)
    by_id = df.groupby("arch_id")["arch"].agg(lambda s: len({id(x) for x in s}))
    assert (by_id == 1).all() and df["arch_id"].duplicated().any()
    assert len({id(m) for m in df["metrics"]}) == len(df)  # metrics: one dict per row, as before


@pytest.mark.parametrize("bad, kind, words", [
    (["value", "acc"], InvalidParameterError, ["columns=", "'acc'", "'value'", "'finished_at'"]),
    (["arch_ids"], InvalidParameterError, ["did you mean 'arch_id'"]),
    (["value", "value"], InvalidParameterError, ["more than once", "'value'"]),
    ("value", InvalidParameterTypeError, ["columns=", "columns=['value']", "str"]),
    (3, InvalidParameterTypeError, ["columns=", "got 3", "int"]),
    ([1], InvalidParameterError, ["columns=", "got 1"]),
])
def test_bad_columns_name_the_parameter_the_allowed_values_and_what_came(kb, bad, kind, words):
    with pytest.raises(kind) as info:
        kb.trials(columns=bad)
    text = str(info.value)
    assert "KnowledgeBase.trials(columns=...)" in text
    for w in words:
        assert w in text, (w, text)


def _damage(kb, column, number, search):
    sid = kb._rows(sa.select(_S.c.id).where(_S.c.name == search))[0][0]
    kb._write(lambda c: c.execute(sa.update(_T).where(_T.c.search_id == sid, _T.c.number == number)
                                  .values({column: sa.type_coerce("{not json", sa.Text)})))


@pytest.mark.parametrize("column", ["arch", "metrics"])
def test_a_damaged_json_text_raises_as_before_naming_its_first_row(url, column):
    archs = _pool(CELL, 3, 100)
    with KnowledgeBase(url) as kb:
        kb.ingest([{"arch": archs[i % 3], "value": 0.1 * i, "metrics": {"i": i}} for i in range(9)], task="t",
                  space=CELL, name="s")
        try:
            _damage(kb, column, 7, "s")
            _damage(kb, column, 4, "s")
        except sa.exc.SQLAlchemyError:  # a server whose JSON column refuses the text: nothing to read back
            pytest.skip("the store refuses damaged JSON")
        what = "architecture" if column == "arch" else "metrics"
        for fn in (lambda: kb.trials(), lambda: _old_trials_frame(kb, kb._where(None, None, None, ("complete",)))):
            with pytest.raises(StorageError, match=f"the {what} of trial 4 of search 's' is damaged"):
                fn()
        other = "metrics" if column == "arch" else "value"
        assert len(kb.trials(columns=[other])) == 9  # a column not read is not decoded


def _old_summary(kb):
    tasks, spaces = kb.tasks, kb.spaces
    n_searches = tasks["n_searches"].sum() if len(tasks) else 0
    n_trials = tasks["n_trials"].sum() if len(tasks) else 0
    return len(tasks), len(spaces), int(n_searches), int(n_trials)


def test_repr_counts_as_the_tables_do(kb, url):
    assert _frames.summary_counts(kb) == _old_summary(kb) == (6, 3, 6, _old_summary(kb)[3])
    text = repr(kb)
    assert "6 tasks, 3 spaces, 6 searches," in text and f"{_old_summary(kb)[3]:,} complete trials>" in text
    with KnowledgeBase(url.replace("kb.db", "empty.db") if "kb.db" in url else ":memory:") as empty:
        assert repr(empty).endswith(": 0 tasks, 0 spaces, 0 searches, 0 complete trials>")


def test_repr_of_a_damaged_task_shows_the_error_as_before(url):
    with KnowledgeBase(url) as kb:
        kb.ingest([{"arch": _pool(CELL, 1, 100)[0], "value": 0.5}], task="t", space=CELL, name="s")
        kb._write(lambda c: c.execute(sa.update(_K).values(meta_features=sa.type_coerce("[oops", sa.Text))))
        with pytest.raises(StorageError) as info:
            kb.tasks  # noqa: B018
        assert str(info.value) in repr(kb) and "meta-features of task 't'" in repr(kb)


def test_tasks_and_searches_keep_their_columns(kb):
    tasks = kb.tasks
    assert list(tasks.columns) == ["task", "class", "n_searches", "n_trials", "best", "best_arch_id", "best_epochs",
                                   "metric", "mode", "meta_features", "landmarks"]
    assert tasks.index.name == "task_key" and tasks.loc[tasks["task"] == "gamma", "mode"].item() == "min"
    complete = kb.trials()
    for key, row in tasks.iterrows():
        assert row["n_trials"] == (complete["task_key"] == key).sum()
    assert json.dumps(sorted(kb.searches["search"])) == json.dumps(sorted(complete["search"].unique()))


def test_the_garbage_collector_is_left_as_found(kb):
    import gc

    assert gc.isenabled()
    kb.trials()
    assert gc.isenabled()
    gc.disable()
    try:
        kb.trials(columns=["value"])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_to_xarray_equals_the_dataset_of_every_column(kb):
    # to_xarray reads the trials without their arch specs (the Dataset has none); the same Dataset as from them all
    import xarray as xr

    for kw in FILTERS:
        want = _frames.to_dataset(kb.trials(**kw), kb.label)
        got = kb.to_xarray(**kw)
        xr.testing.assert_identical(got, want)
        assert got.sizes["trial"] == len(kb.trials(**kw))
