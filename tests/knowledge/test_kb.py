"""KnowledgeBase on SQLite and on a real PostgreSQL server (``store_url``): recording, reading, ingest, Parquet."""

import math

import numpy as np
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook._errors import InvalidParameterError, NasbookError, StorageError
from nasbook.space import ChainSpace
from nasbook.testing import ToyTask

SPACE = ChainSpace(kind="mlp", max_depth=3)


def _search(kb, seed=0, budget=8, **kw):
    return nasbook.Search(SPACE, ToyTask(SPACE, seed=seed), budget=budget, seed=seed, kb=kb, **kw).run(progress="none")


def test_searches_record_into_the_kb_and_read_back_by_task_space_and_search(store_url):
    kb = KnowledgeBase(store_url)
    a = _search(kb, seed=0, name="a")
    _search(kb, seed=0, name="a2", strategy="evolution")
    _search(kb, seed=1, name="b", budget=5)
    assert a.storage.url == kb.url  # no storage given: the kb's store is the search's
    df = kb.trials()
    assert len(df) == 8 + 8 + 5
    assert list(df.columns[:10]) == ["task", "task_key", "search", "strategy", "space_id", "number", "state", "arch_id",
                                     "arch", "value"]
    first = df[df.search == "a"].sort_values("number")
    assert first["arch_id"].tolist() == [t.arch.id for t in a.trials]
    assert first["value"].tolist() == [t.value for t in a.trials]
    assert first["arch"].iloc[0] == a.trials[0].arch.to_dict() or SPACE.from_dict(first["arch"].iloc[0]) == a.trials[0].arch
    assert set(df["mode"]) == {"max"} and set(df["space_id"]) == {SPACE.space_id}
    assert len(kb.trials(task=ToyTask(SPACE, seed=0))) == 16
    assert set(kb.trials(task=ToyTask(SPACE, seed=1))["search"]) == {"b"}
    assert len(kb.trials(search="a2")) == 8 and set(kb.trials(search=["a", "b"])["search"]) == {"a", "b"}
    assert len(kb.trials(space=SPACE)) == 21 and len(kb.trials(states=None)) == 21
    assert set(kb.trials(search="a2")["strategy"]) == {"evolution"}
    tasks = kb.tasks
    assert len(tasks) == 2 and tasks["n_trials"].sum() == 21
    key0 = KnowledgeBase.task_key(ToyTask(SPACE, seed=0))
    assert tasks.loc[key0, "n_searches"] == 2
    assert tasks.loc[key0, "best"] == max(df[df.task_key == key0]["value"])
    assert kb.searches.set_index("search").loc["b", "n_trials"] == 5
    ds = kb.to_xarray(task=ToyTask(SPACE, seed=1))
    assert ds.sizes["trial"] == 5 and np.allclose(ds["value"].values, kb.trials(search="b")["value"].values)
    kb.close()


def test_a_search_with_its_own_store_is_mirrored_exactly_once(store_url, tmp_path):
    kb = KnowledgeBase(store_url)
    own = tmp_path / "own.db"
    s = _search(kb, seed=3, budget=6, storage=own, name="mine")
    assert s.storage.url != kb.url
    assert kb.trials(search="mine")["number"].tolist() == list(range(6))
    row = kb.searches.set_index("search").loc["mine"]
    assert row["mirror_of"] == str(own)
    assert row["state"] == "done" and row["elapsed_s"] > 0  # the mirror row follows the search's own state
    # a crash between the two commits: the kb lacks trials the search's store has; loading catches it up
    with kb.storage.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM nasbook_trials WHERE number >= 3 AND search_id = "
                             "(SELECT id FROM nasbook_searches WHERE name = 'mine')")
    assert len(kb.trials(search="mine")) == 3
    again = nasbook.load_search("mine", own, task=ToyTask(SPACE, seed=3), kb=kb, budget=9).run(progress="none")
    assert again.n_trials == 9
    assert kb.trials(search="mine")["number"].tolist() == list(range(9))  # none lost, none twice
    kb.close()


def test_an_unreachable_kb_warns_and_the_search_goes_on(tmp_path):
    kb = KnowledgeBase(tmp_path / "kb.db")
    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=6, seed=0, storage=tmp_path / "own.db", kb=kb, name="w")
    real = kb.storage.add_trials
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise StorageError("server went away")
        return real(*a, **k)

    kb.storage.add_trials = flaky
    with pytest.warns(nasbook._errors.NasbookWarning, match="could not record"):
        s.run(progress="none")
    assert s.n_trials == 6 and kb.trials(search="w")["number"].tolist() == list(range(6))


def test_meta_features_and_landmarks(store_url):
    kb = KnowledgeBase(store_url)
    task = ToyTask(SPACE, seed=5)
    with pytest.raises(NasbookError, match=r"has no meta-features.*expected a mapping, found none.*add_task_meta"):
        kb.add_task(task) and kb.meta_features(task)
    with pytest.raises(InvalidParameterError, match="no meta_features\\(\\) method"):
        kb.add_task_meta(task)
    kb.add_task_meta(task, meta_features={"n_train": 100, "input_shape": [8]}, landmarks={"abc": 0.5})
    assert kb.meta_features(task) == {"n_train": 100, "input_shape": [8]}
    assert kb.landmarks(task.name if False else KnowledgeBase.task_key(task)) == {"abc": 0.5}
    kb.add_task_meta(task, landmarks={"abc": 0.7, "def": 1})
    assert kb.meta_features(task)["n_train"] == 100 and kb.landmarks(task) == {"abc": 0.7, "def": 1.0}
    with pytest.raises(InvalidParameterError, match="scores"):
        kb.add_task_meta(task, landmarks={"abc": "high"})
    with pytest.raises(InvalidParameterError, match="not in knowledge base.*tasks there"):
        kb.meta_features("no-such-task")


def test_unknown_filters_name_what_exists(tmp_path):
    kb = KnowledgeBase(tmp_path / "kb.db")
    _search(kb, name="a", budget=2)
    other = ChainSpace(kind="mlp", max_depth=2)
    with pytest.raises(InvalidParameterError, match=r"space 'chain-.*' has never been seen.*spaces there: \['chain-"):
        kb.trials(space=other)
    with pytest.raises(InvalidParameterError, match="has never been seen"):
        kb.results_of(other.sample(np.random.default_rng(0)))
    with pytest.raises(InvalidParameterError, match="no search named 'b'.*searches there: \\['a'\\]"):
        kb.trials(search="b")
    with pytest.raises(InvalidParameterError, match="states"):
        kb.trials(states=["done"])
    arch = kb.trials()["arch"].iloc[0]
    assert len(kb.results_of(SPACE.from_dict(arch))) >= 1
    assert kb.space(SPACE.space_id) == SPACE


def test_ingest_a_dataframe_of_an_external_run(store_url):
    import pandas as pd

    kb = KnowledgeBase(store_url)
    rng = np.random.default_rng(0)
    archs = [SPACE.sample(rng) for _ in range(300)]
    df = pd.DataFrame({"arch": [a.to_dict() for a in archs], "value": np.linspace(0, 1, 300),
                       "metrics": [{"loss": float(i), "nan": math.nan} for i in range(300)]})
    name = kb.ingest(df, task="their-benchmark", space=SPACE, mode="min", strategy="smac")
    got = kb.trials(search=name)
    assert len(got) == 300 and got["arch_id"].tolist() == [a.id for a in archs]
    assert got["value"].tolist() == pytest.approx(np.linspace(0, 1, 300).tolist())
    assert got["metrics"].iloc[7]["loss"] == 7.0 and math.isnan(got["metrics"].iloc[7]["nan"])
    assert set(got["mode"]) == {"min"} and set(got["strategy"]) == {"smac"} and set(got["task"]) == {"their-benchmark"}
    assert kb.tasks.set_index("task").loc["their-benchmark", "best"] == 0.0  # min mode
    # all or nothing: a bad row stores nothing
    bad = [{"arch": archs[0].to_dict(), "value": 1.0}, {"arch": {"layers": [["nope", 3]]}, "value": 2.0}]
    n_searches = len(kb.searches)
    with pytest.raises(InvalidParameterError, match="trial 1's architecture is not in"):
        kb.ingest(bad, task="their-benchmark", space=SPACE)
    assert len(kb.searches) == n_searches
    with pytest.raises(InvalidParameterError, match="trial 0 is complete but has no value"):
        kb.ingest([{"arch": archs[0]}], task="x", space=SPACE)
    with pytest.raises(InvalidParameterError, match="from space"):
        kb.ingest([{"arch": ChainSpace(kind="mlp", max_depth=2).sample(rng), "value": 1}], task="x", space=SPACE)


def test_parquet_export_import_round_trip_and_idempotence(store_url, tmp_path):
    kb = KnowledgeBase(store_url)
    _search(kb, seed=0, name="a")
    kb.ingest([{"arch": SPACE.sample(np.random.default_rng(i)), "value": math.inf if i == 0 else i,
                "metrics": {"x": math.nan}} for i in range(50)], task="ext", space=SPACE, name="ext-run")
    kb.add_task_meta("ext", meta_features={"n": 3})
    path = kb.export(tmp_path / "kb.parquet")
    import pyarrow.parquet as pq

    assert b"nasbook" in pq.ParquetFile(path).schema_arrow.metadata
    other = KnowledgeBase.import_(path)
    cols = ["search", "number", "arch_id", "value", "task_key"]
    pd_a = kb.trials(states=None)[cols].reset_index(drop=True)
    pd_b = other.trials(states=None)[cols].reset_index(drop=True)
    assert pd_a.equals(pd_b)
    assert math.isinf(other.trials(search="ext-run")["value"].iloc[0])
    assert math.isnan(other.trials(search="ext-run")["metrics"].iloc[1]["x"])
    assert other.meta_features("ext") == {"n": 3}
    assert sorted(other.import_parquet(path)) == ["a", "ext-run"]  # again: merged, stored once
    assert len(other.trials(states=None)) == len(pd_a)
    with pytest.raises(StorageError, match="different search named 'a'.*prefix"):
        fresh = KnowledgeBase(":memory:")
        _search(fresh, seed=9, name="a")
        fresh.import_parquet(path)
    assert sorted(fresh.import_parquet(path, prefix="shared/")) == ["shared/a", "shared/ext-run"]
    assert len(fresh.trials(search="shared/a")) == 8


def test_repr_counts_tasks_spaces_and_best_per_task(tmp_path):
    kb = KnowledgeBase(tmp_path / "kb.db")
    s = _search(kb, name="a", budget=6)
    text = repr(kb)
    assert "1 task, 1 space, 1 search, 6 complete trials" in text
    bundle = kb._repr_mimebundle_()
    plain, html = bundle["text/plain"], bundle["text/html"]
    assert "Tasks (1)" in plain and "Spaces (1)" in plain
    assert f"{s.best.value:.6g}"[:5] in plain and s.best.arch.id in plain
    assert "ToyTask" in html and SPACE.space_id in html
    assert kb._repr_html_().startswith("<")


def test_an_imported_search_keeps_when_it_ran_and_its_nasbook_version(tmp_path):
    kb = KnowledgeBase(tmp_path / "a.db")
    _search(kb, name="a")
    kb.storage.conn.execute(nasbook.storage.TABLES["searches"].update().values(nasbook_version="0.0.9"))
    kb.storage.conn.commit()
    path = kb.export(tmp_path / "kb.parquet")
    other = KnowledgeBase(tmp_path / "b.db")
    other.import_parquet(path)
    before, after = kb.searches.iloc[0], other.searches.iloc[0]
    assert after["created_at"] == before["created_at"]  # not the time of the import
    assert after["nasbook_version"] == "0.0.9"


def test_an_imported_base_lists_its_tasks_in_the_order_they_were_first_recorded(tmp_path):
    kb = KnowledgeBase(tmp_path / "a.db")
    for seed in (5, 3, 8, 1):  # task keys in another order than the recording's
        _search(kb, seed=seed, name=f"s{seed}", budget=3)
    other = KnowledgeBase(tmp_path / "b.db")
    other.import_parquet(kb.export(tmp_path / "kb.parquet"))
    assert other.tasks["task"].tolist() == kb.tasks["task"].tolist()
    assert other.tasks.index.tolist() == kb.tasks.index.tolist()
