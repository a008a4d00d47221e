"""Bad input to a KnowledgeBase: clear nasbook errors, and nothing in the store changed by a failed open."""

import socket
import sqlite3
import time

import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook._errors import InvalidParameterTypeError, StorageError
from nasbook.space import ChainSpace
from nasbook.testing import ToyTask

SPACE = ChainSpace(kind="mlp", max_depth=3)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _refused(path, match):
    before = _snapshot(path.parent)
    with pytest.raises(StorageError, match=match) as info:
        KnowledgeBase(path)
    assert info.value.__cause__ is None
    assert _snapshot(path.parent) == before  # byte for byte, and no -wal/-shm files appeared
    return info.value


def test_a_corrupt_file_is_refused_untouched(tmp_path):
    path = tmp_path / "kb.db"
    path.write_bytes(b"this is not a database at all\x00" * 40)
    _refused(path, r"is not a SQLite database \(it starts with b'this is not a da'\)")


def test_a_truncated_nasbook_file_is_refused_untouched(tmp_path):
    path = tmp_path / "kb.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=0, storage=path, name="s").run(progress="none")
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 3000)  # the header survives, the pages are garbage
    for extra in tmp_path.glob("kb.db-*"):
        extra.unlink()
    _refused(path, "cannot be opened as a database|damaged|malformed")


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        con.execute("INSERT INTO users (email) VALUES ('a@example.org')")
    con.close()
    _refused(path, r"is a database of something else \(tables \['users'\]\), not a nasbook storage")


def test_a_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "kb.db"
    KnowledgeBase(path).close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE nasbook_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    _refused(path, r"written by a newer nasbook \(schema version '99'; this nasbook .* reads schema versions up to '6'\)")


def test_a_missing_file_with_create_false_creates_nothing(tmp_path):
    with pytest.raises(StorageError, match="does not exist"):
        KnowledgeBase(tmp_path / "nope.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_url_fails_fast_with_the_url():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(StorageError, match=rf"postgresql\+psycopg://nasbook:\*\*\*@127.0.0.1:{port}/kb.*cannot be opened") as info:
        KnowledgeBase(f"postgresql+psycopg://nasbook:s3cret@127.0.0.1:{port}/kb")
    assert "s3cret" not in str(info.value)
    assert time.monotonic() - t0 < 30


def test_the_connect_timeout_is_set_for_servers():
    import sqlalchemy as sa

    from nasbook.storage._engine import CONNECT_TIMEOUT_S, create_engine, resolve

    seen = {}

    def capture(dialect, conn_rec, cargs, cparams):
        seen.update(cparams)
        raise ConnectionAbortedError("captured")

    for url, want in [("postgresql+psycopg://u@10.255.255.1:5432/db", CONNECT_TIMEOUT_S),
                      ("postgresql+psycopg://u@10.255.255.1:5432/db?connect_timeout=3", "3")]:
        seen.clear()
        engine = create_engine(resolve(url, create=True))
        sa.event.listen(engine, "do_connect", capture)
        with pytest.raises(ConnectionAbortedError):
            engine.connect()
        assert seen["connect_timeout"] == want  # an unroutable host fails after this, never the OS's minutes
        engine.dispose()


def test_wrong_types_name_what_is_expected():
    with pytest.raises(InvalidParameterTypeError, match="KnowledgeBase\\(path_or_url=...\\) must be a file path"):
        KnowledgeBase(42)
    with pytest.raises(InvalidParameterTypeError, match="Search\\(kb=...\\) must be a nasbook.KnowledgeBase"):
        nasbook.Search(SPACE, ToyTask(SPACE), budget=1, storage=":memory:", kb="kb.db")
    kb = KnowledgeBase(":memory:")
    with pytest.raises(InvalidParameterTypeError, match="ingest\\(space=...\\) must be a SearchSpace"):
        kb.ingest([], task="t", space="chain")
    with pytest.raises(InvalidParameterTypeError, match="DataFrame or an iterable of mappings"):
        kb.ingest(5, task="t", space=SPACE)


def test_a_foreign_parquet_file_is_refused(tmp_path):
    import pandas as pd

    path = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    kb = KnowledgeBase(":memory:")
    with pytest.raises(StorageError, match="not a nasbook knowledge-base export.*KnowledgeBase.export"):
        kb.import_parquet(path)
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(StorageError, match="is not a Parquet file"):
        kb.import_parquet(tmp_path / "junk.parquet")
    assert len(kb.searches) == 0


def _export_two_searches(tmp_path):
    kb = KnowledgeBase(tmp_path / "src.db")
    for name, seed in (("a", 0), ("b", 1)):
        nasbook.Search(SPACE, ToyTask(SPACE), budget=4, seed=seed, storage=kb.storage, kb=kb, name=name).run(progress="none")
    return kb.export(tmp_path / "kb.parquet")


def test_an_export_with_trials_of_an_unlisted_search_imports_nothing(tmp_path):
    import json

    import pyarrow.parquet as pq

    path = _export_two_searches(tmp_path)
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"nasbook"])
    meta["searches"] = [s for s in meta["searches"] if s["name"] != "b"]  # b's trials stay in the rows
    damaged = tmp_path / "damaged.parquet"
    pq.write_table(table.replace_schema_metadata({b"nasbook": json.dumps(meta).encode()}), damaged)
    kb = KnowledgeBase(tmp_path / "dst.db")
    nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=5, storage=kb.storage, kb=kb, name="mine").run(progress="none")
    before = kb.trials(states=None)
    with pytest.raises(StorageError, match=r"trials of searches \['b'\].*Nothing was imported"):
        kb.import_parquet(damaged)
    assert kb.searches["search"].tolist() == ["mine"]
    assert kb.trials(states=None).equals(before)


def test_a_failure_while_writing_trials_removes_the_searches_it_created(tmp_path, monkeypatch):
    import nasbook.knowledge._parquet as parquet

    path = _export_two_searches(tmp_path)
    kb = KnowledgeBase(tmp_path / "dst.db")
    nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=5, storage=kb.storage, kb=kb, name="mine").run(progress="none")
    before, warm_before = kb.trials(states=None), kb.warm_start(SPACE, 3)
    real, calls = kb.storage.insert_trial_rows, []

    def failing(rows, *, ignore_existing=False):  # the first batch is written, the second fails
        calls.append(len(rows))
        if len(calls) > 1:
            raise StorageError("disk full (simulated)")
        return real(rows, ignore_existing=ignore_existing)

    monkeypatch.setattr(parquet, "BATCH", 3)
    monkeypatch.setattr(kb.storage, "insert_trial_rows", failing)
    with pytest.raises(StorageError, match="disk full"):
        kb.import_parquet(path)
    assert calls == [3, 3]  # the failure came after trials of the import were stored
    monkeypatch.undo()
    assert sorted(r.name for r in kb.storage.list_searches()) == ["mine"]
    assert kb.trials(states=None).equals(before)
    warm_after = kb.warm_start(SPACE, 3)  # the stored per-task aggregates were rebuilt without them
    assert [(a.id, why) for a, why in warm_after] == [(a.id, why) for a, why in warm_before]
    assert sorted(kb.import_parquet(path)) == ["a", "b"]  # and the same file imports cleanly afterwards
    assert len(kb.trials(search="b", states=None)) == 4


def test_an_export_into_a_missing_folder_names_the_folder(tmp_path):
    # pyarrow's own error named the temporary 'kb.parquet.partial', a file the user never asked for
    target = tmp_path / "no" / "such" / "kb.parquet"
    with pytest.raises(nasbook.NasbookError, match=r"export\(path=\.\.\.\): the folder .*such' does not exist") as info:
        KnowledgeBase(":memory:").export(target)
    assert ".partial" not in str(info.value) and not (tmp_path / "no").exists()


@pytest.mark.parametrize("empty", [[], iter(()), "frame"])
def test_ingesting_no_trials_is_refused_and_records_nothing(empty):
    # before: an empty search was recorded (budget {"trials": 1}, no trials)
    import pandas as pd

    from nasbook._errors import InvalidParameterError

    if empty == "frame":
        empty = pd.DataFrame({"arch": [], "value": []})
    kb = KnowledgeBase(":memory:")
    with pytest.raises(InvalidParameterError, match=r"ingest\(trials=\.\.\.\) holds no trials"):
        kb.ingest(empty, task="t", space=SPACE, name="nothing")
    assert [r.name for r in kb.storage.list_searches()] == []
    kb.ingest([{"arch": SPACE.sample(__import__("numpy").random.default_rng(100)), "value": 1.0}], task="t",
              space=SPACE, name="nothing")  # the name is still free
    assert [r.name for r in kb.storage.list_searches()] == ["nothing"]
