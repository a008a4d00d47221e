import sqlite3

import pytest

import nasbook
from nasbook._errors import DuplicatedSearchError, InvalidParameterError, SearchNotFoundError, StorageError
from nasbook.storage import Storage
from nasbook.tasks import NasBenchGraph


def _search(storage, name="s", budget=5, **kw):
    return nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=budget, seed=0, storage=storage, name=name, **kw)


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my thesis notes")
    with pytest.raises(StorageError, match="is not a SQLite database"):
        _search(path)
    assert path.read_text() == "my thesis notes"


def test_a_corrupt_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "broken.db"
    _search(path).run().storage.close()  # checkpoint the WAL into the file, whenever GC would run
    data = bytearray(path.read_bytes())
    assert len(data) > 4096, "the schema page is not in the main file yet"
    data[100:4096] = b"\xff" * (4096 - 100)  # trash the schema page, keep the header
    path.write_bytes(bytes(data))
    (tmp_path / "broken.db-wal").unlink(missing_ok=True)
    with pytest.raises(StorageError):
        nasbook.load_search("s", path)


def test_a_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match=r"database of something else \(tables \['customers'\]\)"):
        _search(path)
    con = sqlite3.connect(path)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_schema_version_is_checked(tmp_path):
    path = tmp_path / "old.db"
    Storage(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE nasbook_meta SET value='999' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="schema version '999'"):
        Storage(path)


def test_duplicate_name_and_missing_search(tmp_path):
    path = tmp_path / "runs.db"
    _search(path, name="cora-1").run()
    with pytest.raises(DuplicatedSearchError, match=r"already exists.*load_search\('cora-1'"):
        _search(path, name="cora-1")
    with pytest.raises(SearchNotFoundError, match=r"No search named 'cora-2'.*did you mean 'cora-1'"):
        nasbook.load_search("cora-2", path)
    # nothing recorded was lost by the failed attempts
    assert nasbook.load_search("cora-1", path).n_trials == 5


def test_bad_storage_arguments(tmp_path):
    with pytest.raises(InvalidParameterError, match="storage must be a file path"):
        _search(42)
    with pytest.raises(InvalidParameterError, match="is a directory"):
        _search(tmp_path)
    with pytest.raises(InvalidParameterError, match="storage=None"):
        nasbook.storage.open_storage(None)
    assert _search(None).storage.label == "nasbook.db"  # Search(storage=None): the default file (or a kb's store)
    with pytest.raises(InvalidParameterError, match="not a usable database URL"):
        _search("nosuchdialect://x")


def test_url_and_in_memory_storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    _search(url, name="u").run()
    assert nasbook.load_search("u", url).n_trials == 5
    mem = _search(":memory:").run()
    assert mem.n_trials == 5


def test_every_trial_is_committed_once(tmp_path):
    path = tmp_path / "c.db"
    s = _search(path, budget=50).run()
    con = sqlite3.connect(path)
    rows = con.execute("SELECT number, arch_id FROM nasbook_trials ORDER BY number").fetchall()
    assert [r[0] for r in rows] == list(range(50))
    assert [r[1] for r in rows] == [t.arch.id for t in s.trials]
