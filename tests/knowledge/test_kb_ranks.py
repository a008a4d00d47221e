"""The per-task ranks the store keeps (schema version 4) give the warm start that ranking every trial gives."""

import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa

import nasbook
from nasbook._errors import StorageError
from nasbook.knowledge import select_warm_start
from nasbook.space import CellSpace, GraphSpace
from nasbook.storage import SCHEMA_VERSION, Storage


def _rows(space, archs, rng, n):
    """``n`` trials drawn from ``archs`` (repeats get other values), 3-decimal values (ties within a task)."""
    picks = rng.integers(0, len(archs), n)
    values = np.round(rng.random(n), 3)  # 3 decimals: ties within a task
    return [{"arch": archs[i], "value": float(v)} for i, v in zip(picks, values)]


def _fill(kb, space, rng, tasks=("t-a", "t-b", "t-c", "t-d"), per_task=300, modes=None):
    archs = list({a.id: a for a in (space.sample(rng) for _ in range(150))}.values())
    for t in tasks:
        mode = (modes or {}).get(t, "max")
        kb.ingest(_rows(space, archs, rng, per_task // 2), task=t, space=space, mode=mode, name=f"{t}-1")
        kb.ingest(_rows(space, archs, rng, per_task // 2), task=t, space=space, mode=mode, name=f"{t}-2")
    return archs


def _same(kb, space, **kw):
    """kb.warm_start from the stored ranks (reading a trial would fail) equals select_warm_start over kb.trials()."""
    want = select_warm_start(kb.trials(), space, **kw)
    trials = kb.trials
    kb.trials = lambda *a, **k: pytest.fail("the stored ranks should answer without reading the trials")
    try:
        got = kb.warm_start(space, **kw)
    finally:
        kb.trials = trials
    assert [a.id for a, _ in got] == [a.id for a, _ in want]
    assert [p for _, p in got] == [p for _, p in want]
    return got


def test_stored_ranks_give_the_same_warm_start_as_ranking_every_trial(url):
    space = GraphSpace()
    rng = np.random.default_rng(0)
    with nasbook.KnowledgeBase(url) as kb:
        _fill(kb, space, rng, modes={"t-d": "min"})
        for kw in ({"n": 10}, {"n": 5, "diversify": False}, {"n": 40}, {"n": 8, "mode": "min"},
                   {"n": 10, "task_weights": {"t-a": 1.0, "t-b": 0.3, "t-d": 2.0}},
                   {"n": 10, "task_weights": {"t-c": 1.0}}):
            got = _same(kb, space, **kw)
        assert got and all(set(p["tasks"]) == {"t-c"} for _, p in got)
        first = _same(kb, space, n=3)[0][1]
        assert first["tasks"] and all(v["searches"] for v in first["tasks"].values())


def test_stored_ranks_follow_new_trials_overwrites_and_a_failed_ingest(url):
    from nasbook.tasks import NasBenchGraph

    space = GraphSpace()
    rng = np.random.default_rng(1)
    with nasbook.KnowledgeBase(url) as kb:
        archs = _fill(kb, space, rng, tasks=("t-a", "t-b"), per_task=200)
        _same(kb, space, n=10)
        # a new search records trials one by one (add_trial then update_trial: running -> complete)
        nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=6, seed=0, storage=kb.storage,
                       name="s-new").run(progress="none")
        _same(kb, space, n=10)
        # a complete trial overwritten with a worse value: the old best must go
        st = kb.storage
        rec = st.get_search("s-new")
        loaded, _ = st.load_trials(rec.id, space)
        best = max(loaded, key=lambda t: t.value)
        import dataclasses

        st.update_trial(rec.id, dataclasses.replace(best, value=-1.0))
        _same(kb, space, n=10)
        # an ingest that fails half-way leaves nothing behind, in the trials or in the ranks
        bad = _rows(space, archs, rng, 120_000) + [{"arch": archs[0], "value": "not a number"}]
        with pytest.raises(nasbook.NasbookError):
            kb.ingest(bad, task="t-a", space=space, name="broken")
        _same(kb, space, n=10)


def test_search_warm_start_from_the_stored_ranks_equals_the_query_time_path(tmp_path):
    from nasbook.tasks import NasBenchGraph

    space = GraphSpace()
    kb = nasbook.KnowledgeBase(str(tmp_path / "kb.db"))
    for d in ("cora", "citeseer"):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=30, seed=3, kb=kb, name=f"r-{d}").run(progress="none")
    search = nasbook.Search(NasBenchGraph("pubmed"), strategy="random", budget=5, seed=0, kb=kb, warm_start=5,
                            name="warm")
    want = select_warm_start(kb.trials(), space, 5, mode="max")
    search.run(progress="none")
    assert [t.arch.id for t in search.trials[:5]] == [a.id for a, _ in want]


def test_two_spaces_fall_back_to_ranking_the_trials(tmp_path):
    rng = np.random.default_rng(2)
    with nasbook.KnowledgeBase(str(tmp_path / "kb.db")) as kb:
        _fill(kb, GraphSpace(), rng, tasks=("t-a",), per_task=100)
        _fill(kb, CellSpace(), rng, tasks=("t-b",), per_task=100)
        space = CellSpace()
        got = kb.warm_start(space, 5)  # GraphSpace's trials are not CellSpace's: dropped, as select_warm_start does
        want = select_warm_start(kb.trials(), space, 5)
        assert [a.id for a, _ in got] == [a.id for a, _ in want]


def _downgrade_to_v3(path):
    with sqlite3.connect(path) as db:
        for t in ("nasbook_space_archs", "nasbook_arch_stats", "nasbook_task_ranks"):
            db.execute(f"DROP TABLE {t}")
        db.execute("UPDATE nasbook_meta SET value = '3' WHERE key = 'schema_version'")


def test_a_version_3_file_is_migrated_and_its_trials_ranked(tmp_path):
    path = tmp_path / "old.db"
    space = GraphSpace()
    with nasbook.KnowledgeBase(str(path)) as kb:
        _fill(kb, space, np.random.default_rng(3), tasks=("t-a", "t-b"), per_task=100)
        want = [a.id for a, _ in kb.warm_start(space, 10)]
    _downgrade_to_v3(path)
    with nasbook.KnowledgeBase(str(path)) as kb:
        version = kb.storage.conn.execute(sa.text("SELECT value FROM nasbook_meta WHERE key = 'schema_version'")).scalar()
        assert version == SCHEMA_VERSION
        assert [a.id for a, _ in _same(kb, space, n=10)] == want


def test_a_file_of_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "new.db"
    Storage(str(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE nasbook_meta SET value = ? WHERE key = 'schema_version'", (str(int(SCHEMA_VERSION) + 1),))
    with pytest.raises(StorageError, match="newer nasbook"):
        Storage(str(path))
