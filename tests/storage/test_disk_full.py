"""The store's disk fills up (or the store turns read-only) in the middle of a search: run() stops with an error
that says so and what to do; every trial committed is kept, and running again continues exactly."""

import pytest

import nasbook
from nasbook._errors import StorageError
from nasbook.tasks import NasBenchGraph


def _full(conn):
    # SQLITE_FULL, the error a full disk gives, without filling one: the file may not grow any further
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    conn.exec_driver_sql(f"PRAGMA max_page_count={pages + 20}")
    return "PRAGMA max_page_count=1073741823", "The disk is full: free some space, then run() the search again"


def _read_only(conn):
    conn.exec_driver_sql("PRAGMA query_only=ON")
    return "PRAGMA query_only=OFF", "The store became read-only: make it writable again, then run() the search again"


@pytest.mark.parametrize("fault", [_full, _read_only])
def test_a_store_that_cannot_be_written_any_more_stops_the_run_saying_what_to_do(tmp_path, fault):
    path = tmp_path / "f.db"
    s = nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=40, seed=0, storage=path, name="f")
    s.run(progress="none").extend(560)
    conn = s.storage.conn
    undo, says = fault(conn)
    with pytest.raises(StorageError) as info:
        s.run(progress="none")
    assert says in str(info.value) and "every trial committed so far is kept" in str(info.value)
    other = nasbook.load_search("f", path)  # what another process finds
    assert other.n_trials == s.n_trials > 40 if fault is _full else other.n_trials == s.n_trials == 40
    assert [t.arch.id for t in other.trials] == [t.arch.id for t in s.trials]
    other.storage.close()
    conn.exec_driver_sql(undo)
    s.run(progress="none")
    full = nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=600, seed=0, storage=":memory:").run(progress="none")
    assert [t.arch.id for t in nasbook.load_search("f", path).trials] == [t.arch.id for t in full.trials]
