"""Opening a store this process already has open must not drop the SQLite locks of its connections.

Reading the file's header with Python's ``open`` and closing it dropped every POSIX lock this process held on
the file; another process that then opened and closed the store took itself for the last one and deleted the
-wal and -shm files under this process's connections, whose next query failed with "disk I/O error"
(outside probe 4: ``load_search`` twice, ``extend`` in another process, then any call here).
"""
import subprocess
import sys

import nasbook
from nasbook.tasks import NasBenchGraph


def test_a_second_open_here_and_a_write_elsewhere_leave_this_process_able_to_read(tmp_path):
    db = str(tmp_path / "s.db")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, seed=430, storage=db, name="x").run(progress="none")
    a = nasbook.load_search("x", db)
    b = nasbook.load_search("x", db)  # probes the file again while a's connection is open
    subprocess.run([sys.executable, "-c", f"import nasbook; nasbook.load_search('x', {db!r}).extend(4)"],
                   check=True, capture_output=True, text=True, timeout=300)
    assert (tmp_path / "s.db-wal").exists()  # this process still has the store open: its journal stays
    assert nasbook.load_search("x", db).budget.trials == 7
    assert a.n_trials == b.n_trials == 3


def test_a_file_that_is_not_sqlite_is_still_refused_naming_its_first_bytes(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello, not a database")
    try:
        nasbook.KnowledgeBase(str(bad))
    except nasbook.StorageError as exc:
        assert "is not a SQLite database (it starts with b'hello, not a dat')" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a text file was opened as a store")
    assert bad.read_text() == "hello, not a database"
