"""Storage.conn: the shared connection, or a thread's own inside _own_connection() (the lease heartbeat's)."""

from __future__ import annotations

import threading

from nasbook.storage import Storage


def test_conn_is_shared_outside_own_connection_and_the_threads_own_inside(tmp_path):
    st = Storage(tmp_path / "a.db")
    shared = st.conn
    assert st.conn is shared
    seen: dict[str, object] = {}

    def apart() -> None:
        seen["before"] = st.conn
        with st._own_connection() as own:
            seen["own"], seen["inside"] = own, st.conn
        seen["after"] = st.conn

    t = threading.Thread(target=apart)
    t.start()
    t.join()
    assert seen["before"] is shared and seen["after"] is shared
    assert seen["inside"] is seen["own"] and seen["own"] is not shared
    assert st.conn is shared  # this thread never saw the other's connection
    st.close()
    assert st.conn is not shared  # opened again after close()
    st.close()


def test_a_subclass_that_skips_storage_init_still_gets_a_connection_of_its_own(tmp_path):
    st = Storage(tmp_path / "b.db")
    del st.__dict__["_apart"]  # as a subclass whose __init__ did not call Storage's
    shared = st.conn
    with st._own_connection() as own:
        assert st.conn is own and own is not shared
    assert st.conn is shared
    st.close()
