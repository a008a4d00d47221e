"""Schema versions: version-1 files migrate in place, newer ones are refused untouched, and processes
creating or migrating the same file at once never crash."""

import math
import multiprocessing
import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

import nasbook
from nasbook._errors import StorageError
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import SCHEMA_VERSION, Storage
from nasbook.trial import Trial, TrialState

V1_SQL = Path(__file__).parent / "data" / "schema_v1_search.sql"


def _v1_file(path):
    con = sqlite3.connect(path)
    con.executescript(V1_SQL.read_text())
    con.close()
    return path


def _meta(path):
    with sqlite3.connect(path) as con:
        return dict(con.execute("SELECT key, value FROM nasbook_meta"))


def _columns(path, table):
    with sqlite3.connect(path) as con:
        return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


def test_schema_version_is_6():
    assert SCHEMA_VERSION == "6"


def test_a_version_1_file_is_migrated_in_place_and_its_trials_load(tmp_path):
    path = _v1_file(tmp_path / "old.db")
    assert _meta(path)["schema_version"] == "1" and "lineage" not in _columns(path, "nasbook_trials")
    st = Storage(path)
    assert _meta(path)["schema_version"] == SCHEMA_VERSION
    assert _columns(path, "nasbook_trials")[-2:] == ["lineage", "owner"]
    assert _columns(path, "nasbook_leases")
    rec = st.get_search("old-run")
    assert (rec.state, rec.config["task"]["params"]) == ("done", {"dataset": "proteins"})
    trials, tell_seq = st.load_trials(rec.id, GraphSpace(ops=PROTEINS_OPS))
    assert [t.number for t in trials] == list(range(6))
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 5 + [TrialState.RUNNING]
    assert trials[0].value == pytest.approx(0.8213333333)
    assert trials[0].attrs["params_m"] == pytest.approx(0.295792)
    assert math.isnan(trials[1].metrics["loss"]) and trials[1].curves == {"val": [0.5, math.inf]}
    assert all(t.lineage == () for t in trials)
    assert tell_seq == {n: n for n in range(5)}
    # the migrated file takes new rows, lineage included, and a second open changes nothing
    arch = trials[0].arch
    st.add_trial(rec.id, Trial(6, arch, TrialState.COMPLETE, 0.5, lineage=(0, 3)), tell_seq=6)
    st.acquire_lease(rec.id, "me")
    st.close()
    again = Storage(path, create=False)
    assert again.load_trials(rec.id, GraphSpace(ops=PROTEINS_OPS))[0][-1].lineage == (0, 3)
    again.close()
    assert _meta(path)["schema_version"] == SCHEMA_VERSION


def test_a_migrated_search_resumes(tmp_path):
    path = _v1_file(tmp_path / "old.db")
    search = nasbook.load_search("old-run", path, budget=10)
    assert search.n_trials == 5  # the RUNNING trial is queued to run again
    search.run()
    assert [t.number for t in search.trials] == list(range(10))


def test_a_file_from_a_newer_nasbook_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "new.db"
    st = Storage(path)
    st.create_search("s", {})
    st.close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE nasbook_meta SET value = '7' WHERE key = 'schema_version'")
    before = path.read_bytes()
    files = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StorageError, match=r"written by a newer nasbook.*schema version '7'.*upgrade") as info:
        Storage(path)
    assert info.value.__cause__ is None
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    with pytest.raises(StorageError, match="newer nasbook"):
        nasbook.load_search("s", path)


def test_an_unknown_old_or_garbage_version_is_refused(tmp_path):
    for version, match in [("0", "is damaged: its schema version is '0'"), ("two", "schema version is 'two'")]:
        path = tmp_path / f"v{version}.db"
        Storage(path).close()
        with sqlite3.connect(path) as con:
            con.execute("UPDATE nasbook_meta SET value = ? WHERE key = 'schema_version'", (version,))
        with pytest.raises(StorageError, match=match):
            Storage(path)


# -- races -----------------------------------------------------------------------------------------------
def _open_and_write(path, start, results, i):
    start.wait()
    try:
        st = Storage(path)
        sid = st.create_search(f"s{i}", {"i": i})
        space = GraphSpace(ops=PROTEINS_OPS)
        import numpy as np

        st.add_trial(sid, Trial(0, space.sample(np.random.default_rng(i)), TrialState.COMPLETE, float(i)))
        st.close()
        results.put("ok")
    except BaseException as exc:  # noqa: BLE001 - report every failure to the parent
        results.put(f"{type(exc).__name__}: {exc}"[:300])


def _race(path, n):
    ctx = multiprocessing.get_context("fork")  # children start at once: the import is already done
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_open_and_write, args=(path, start, results, i)) for i in range(n)]
    for p in procs:
        p.start()
    start.set()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return Counter(out)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("round_", range(3))
def test_processes_creating_the_same_new_file_at_once_never_crash(tmp_path, round_):
    path = tmp_path / "new.db"
    outcome = _race(path, 20)
    assert outcome == Counter({"ok": 20}), outcome
    st = Storage(path, create=False)
    assert sorted(st.search_names()) == sorted(f"s{i}" for i in range(20))
    assert [r.n_trials for r in st.list_searches()] == [1] * 20
    st.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_processes_opening_the_same_version_1_file_at_once_migrate_it_once(tmp_path):
    path = _v1_file(tmp_path / "old.db")
    outcome = _race(path, 12)
    assert outcome == Counter({"ok": 12}), outcome
    assert _meta(path)["schema_version"] == SCHEMA_VERSION
    assert _columns(path, "nasbook_trials").count("lineage") == 1
    st = Storage(path, create=False)
    assert len(st.search_names()) == 13
    assert len(st.load_trials(st.get_search("old-run").id, GraphSpace(ops=PROTEINS_OPS))[0]) == 6
    st.close()


def test_a_version_2_file_is_migrated_and_joins_the_knowledge_base(tmp_path):
    path = tmp_path / "v2.db"
    con = sqlite3.connect(path)
    con.executescript((Path(__file__).parent / "data" / "schema_v2_search.sql").read_text())
    con.close()
    assert _meta(path)["schema_version"] == "2"
    kb = nasbook.KnowledgeBase(path)
    assert _meta(path)["schema_version"] == SCHEMA_VERSION
    assert {"task_key", "space_id", "strategy"} <= set(_columns(path, "nasbook_searches"))
    searches = kb.searches.set_index("search")
    assert searches.loc["v2-run", "strategy"] == "evolution" and searches.loc["v2-cora", "n_trials"] == 3
    assert sorted(kb.tasks["task"]) == ["NasBenchGraph(dataset='cora')", "NasBenchGraph(dataset='proteins')"]
    assert len(kb.trials(task=nasbook.tasks.NasBenchGraph("proteins"))) == 4
    kb.close()
    assert nasbook.load_search("v2-run", path, budget=6).run(progress="none").n_trials == 6


def test_a_file_another_process_starts_writing_while_it_is_probed_is_read_again_with_locks(tmp_path, monkeypatch):
    # the probe reads a file with no -wal beside it as immutable (no -wal/-shm left behind); a process that
    # begins migrating or creating it after that check breaks the promise, and SQLite reports the file
    # malformed: one of 12 processes racing to migrate a version-1 file failed so under load
    from nasbook.storage import _engine

    path = _v1_file(tmp_path / "old.db")
    real, uris = sqlite3.connect, []

    def connect(database, *args, **kwargs):
        uris.append(str(database))
        if "immutable=1" in str(database):  # another process writes the file while it is read
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(_engine.sqlite3, "connect", connect)
    _engine.probe_sqlite_file(path, "old.db")  # no error: read again as an ordinary reader
    assert ["immutable=1" in u for u in uris] == [True, False]
    monkeypatch.setattr(_engine.sqlite3, "connect", real)
    st = Storage(path)
    assert "old-run" in st.search_names()
    st.close()


def test_a_damaged_file_nobody_writes_is_not_read_again(tmp_path, monkeypatch):
    # the second, locking read would leave a -wal beside a file a failed open must leave untouched
    from nasbook.storage import _engine

    path = _v1_file(tmp_path / "old.db")
    uris = []

    def connect(database, *args, **kwargs):
        uris.append(str(database))
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(_engine.sqlite3, "connect", connect)
    with pytest.raises(StorageError, match="malformed"):
        _engine.probe_sqlite_file(path, "old.db")
    assert len(uris) == 1
