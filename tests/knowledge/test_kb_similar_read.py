"""KnowledgeBase.similar's full read of a space (``_similar_cache._read``) reads the trial columns only, in
``(search_id, number)`` order, the per-search ones (task, search, mode) once per search, and builds the frame
column by column: its frame, pending ids, row counts and summary equal those of the former statement (a join
with the searches and tasks per row) and row loop, kept here as the reference, on SQLite and PostgreSQL."""

import dataclasses

import numpy as np
import pandas as pd
import sqlalchemy as sa

import nasbook
from nasbook.knowledge import _similar_cache as sc
from nasbook.knowledge._arch_summary import ArchSummary
from nasbook.space import CellSpace, GraphSpace
from nasbook.storage import TABLES
from nasbook.trial import TrialState

SPACE = GraphSpace()


def _former_select(space_id):
    _S, _T, _K = TABLES["searches"], TABLES["trials"], TABLES["tasks"]
    return (sa.select(_T.c.id, _S.c.id, _K.c.name, _S.c.name, _T.c.state, _T.c.arch_id, sa.type_coerce(_T.c.arch, sa.Text),
                      _T.c.value, _T.c.epochs, _T.c.number)
            .select_from(_T.join(_S, _S.c.id == _T.c.search_id).outerjoin(_K, _K.c.key == _S.c.task_key))
            .where(_S.c.space_id == space_id))


def _former_frame(rows, modes, space_id, pending, counts):
    cols = {c: [] for c in ("task", "search", "space_id", "state", "arch_id", "arch", "value", "mode", "epochs",
                            "_sid", "_num")}
    for tid, sid, task, search, state, arch_id, arch, value, epochs, number in rows:
        counts[sid] = counts.get(sid, 0) + 1
        if state != "complete":
            pending.add(int(tid))
            continue
        for c, v in zip(cols, (task, search, space_id, state, arch_id, arch, value, modes.get(int(sid), "max"),
                               epochs, sid, number)):
            cols[c].append(v)
    df = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in cols.items()})
    df["value"] = df["value"].astype("float64")
    df["epochs"] = df["epochs"].astype("Int64")
    df["_sid"] = df["_sid"].astype("int64")
    df["_num"] = df["_num"].astype("int64")
    return df


def _former(kb, space_id, token):
    top = int(token[2] or 0)
    stmt = _former_select(space_id).where(TABLES["trials"].c.id <= top)
    rows = kb._rows(stmt.order_by(TABLES["searches"].c.id, TABLES["trials"].c.number))
    pending, counts = set(), {}
    return _former_frame(rows, sc._modes(kb, token), space_id, pending, counts), pending, counts


def _new(kb, space_id, token):
    top = int(token[2] or 0)
    stmt = sc._select(space_id).where(TABLES["trials"].c.id <= top)
    rows = sc._frames.fetch_tuples(kb, stmt.order_by(TABLES["trials"].c.search_id, TABLES["trials"].c.number))
    pending, counts = set(), {}
    frame = sc._frame(rows, sc._modes(kb, token), space_id, pending, counts, sc._catalog(kb, space_id))
    return frame, pending, counts


def _same(got, want):
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    for c in ("task", "search", "space_id", "state", "arch_id", "arch", "mode"):  # the same Python types per cell
        assert [type(v) for v in got[c]] == [type(v) for v in want[c]], c


def _store(kb, rng):
    archs = list({a.id: a for a in (SPACE.sample(rng) for _ in range(60))}.values())

    def rows(part, n, **extra):
        return [{"arch": part[i], "value": float(v), **extra}
                for i, v in zip(rng.integers(0, len(part), n), np.round(rng.random(n), 2))]

    kb.ingest(rows(archs[:30], 40), task="t-a", space=SPACE, name="a1")
    kb.ingest(rows(archs[20:50], 40), task="t-b", space=SPACE, mode="min", name="b1")
    kb.ingest(rows(archs[:10], 5) + [{"arch": archs[1], "value": float("inf")}], task="t-a", space=SPACE, name="a2")
    kb.ingest([{"arch": a, "value": float(rng.random()), "epochs": e} for e in (1, 3) for a in archs[40:]],
              task="t-c", space=SPACE, name="c1")
    cells = CellSpace(n_nodes=4)
    kb.ingest([{"arch": cells.sample(rng), "value": 0.5} for _ in range(12)], task="t-a", space=cells,
              name="elsewhere")  # another space, same task
    st = kb.storage
    rec = st.get_search("a1")
    loaded, _ = st.load_trials(rec.id, SPACE)
    # unfinished, failed and value-less trials numbered out of id order (the new read orders by number)
    st.add_trial(rec.id, dataclasses.replace(loaded[0], number=9_000, state=TrialState.RUNNING, value=None))
    st.add_trial(rec.id, dataclasses.replace(loaded[1], number=-5, state=TrialState.FAILED, value=None))
    st.add_trial(rec.id, dataclasses.replace(loaded[2], number=700, state=TrialState.COMPLETE, value=None))
    return archs


def test_the_full_read_equals_the_former_join_and_loop(url):
    with nasbook.KnowledgeBase(url) as kb:
        _store(kb, np.random.default_rng(120))
        token = kb._similar_token(SPACE.space_id)
        want, want_pending, want_counts = _former(kb, SPACE.space_id, token)
        got, pending, counts = _new(kb, SPACE.space_id, token)
        assert len(want) > 100 and len(want_pending) == 2  # the reference saw every case
        assert set(want["mode"]) == {"max", "min"} and want["value"].isna().any() and want["epochs"].isna().any()
        _same(got, want)
        assert pending == want_pending
        assert counts == want_counts and list(counts) == list(want_counts)
        a, b = ArchSummary(got).to_arrays(), ArchSummary(want).to_arrays()
        assert a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a)
        kept = sc._read(kb, SPACE, None, token, None)
        assert kept.pending == want_pending and kept.counts == want_counts
        c = kept.summary.to_arrays()
        assert all(c[k].tobytes() == b[k].tobytes() for k in b)


def test_a_search_without_a_task_and_an_empty_space(url):
    with nasbook.KnowledgeBase(url) as kb:
        token = kb._similar_token(SPACE.space_id)
        assert sc._read(kb, SPACE, None, token, None) is None
        got, pending, counts = _new(kb, SPACE.space_id, token)
        want, _, _ = _former(kb, SPACE.space_id, token)
        _same(got, want)
        assert not pending and not counts
        _store(kb, np.random.default_rng(121))
        st = kb.storage
        _S = TABLES["searches"]
        b1 = st.get_search("b1").id
        kb._write(lambda conn: conn.execute(_S.update().where(_S.c.id == b1).values(task_key=None)))  # no task
        token = kb._similar_token(SPACE.space_id)
        got, _, _ = _new(kb, SPACE.space_id, token)
        want, _, _ = _former(kb, SPACE.space_id, token)
        assert want["task"].isna().any()
        _same(got, want)


def test_rows_of_a_search_gone_between_the_reads_are_left_out_as_the_join_left_them():
    rows = [(1, 7, "complete", "x", "{}", 0.5, None, 0), (2, 8, "complete", "y", "{}", 0.25, 3, 0),
            (3, 8, "running", "z", "{}", None, None, 1)]
    pending, counts = set(), {}
    got = sc._frame(rows, {8: "min"}, "sp", pending, counts, {8: ("t", "s8")})
    assert got["arch_id"].tolist() == ["y"] and got["mode"].tolist() == ["min"] and got["task"].tolist() == ["t"]
    assert got["epochs"].dtype == "Int64" and got["epochs"].tolist() == [3]
    assert pending == {3} and counts == {8: 2}


def test_the_read_leaves_the_garbage_collector_as_found(tmp_path, monkeypatch):
    import gc

    with nasbook.KnowledgeBase(str(tmp_path / "kb.db")) as kb:
        _store(kb, np.random.default_rng(122))
        token = kb._similar_token(SPACE.space_id)
        seen = []
        former = sc._read_all
        monkeypatch.setattr(sc, "_read_all", lambda *args: seen.append(gc.isenabled()) or former(*args))
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            try:
                assert sc._read(kb, SPACE, None, token, None) is not None
                assert gc.isenabled() is enabled
            finally:
                gc.enable()
        assert seen == [False, False]  # off while reading


def test_architectures_decode_each_kept_spec_as_spec_does():
    import pytest

    from nasbook._errors import StorageError

    rng = np.random.default_rng(123)
    archs = list({a.id: a for a in (SPACE.sample(rng) for _ in range(8))}.values())
    assert len(archs) > 3
    texts = [a.to_json() for a in archs]
    texts[1] = "  " + texts[1] + "\n"  # whitespace around: json.loads takes it
    frame = pd.DataFrame({"task": "t", "search": "s", "space_id": SPACE.space_id, "state": "complete",
                          "arch_id": [a.id for a in archs], "value": 0.5, "mode": "max", "epochs": None,
                          "arch": pd.Series([*texts[:-1], archs[-1].spec], dtype=object)})  # the last one decoded
    summary = ArchSummary(frame)
    got = summary.architectures([a.id for a in archs])
    assert [(g.space_id, g.id, g.spec) for g in got] == [(SPACE.space_id, a.id, summary.spec(a.id)) for a in archs]
    assert [g.spec for g in got] == [a.spec for a in archs]
    assert got[-1].spec is not summary._specs[archs[-1].id]  # a kept object is copied, as spec() does
    summary._specs[archs[0].id] = texts[0][:-3]  # damaged
    with pytest.raises(StorageError, match="architecture .* is damaged"):
        summary.architectures([archs[0].id])
    summary._specs[archs[0].id] = texts[0] + " x"  # trailing text
    with pytest.raises(StorageError, match="is damaged"):
        summary.architectures([archs[0].id])
