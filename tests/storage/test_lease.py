"""One process at a time per search: the lease refuses a live holder and yields to a dead or silent one."""

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from nasbook._errors import InvalidParameterError, SearchLockedError, StorageError
from nasbook.storage import Storage
from nasbook.storage._lease import pid_alive

HOLDER = textwrap.dedent(
    """
    import sys
    from nasbook.storage import Storage
    st = Storage(sys.argv[1], create=False)
    st.acquire_lease(int(sys.argv[2]), "child")
    print("held", flush=True)
    sys.stdin.read()  # hold it until killed
    """
)


@pytest.fixture
def search(tmp_path):
    path = tmp_path / "l.db"
    st = Storage(path)
    sid = st.create_search("runs", {})
    yield path, st, sid
    st.close()


def _holder_row(path, sid):
    with sqlite3.connect(path) as con:
        return con.execute("SELECT owner, hostname, pid FROM nasbook_leases WHERE search_id = ?", (sid,)).fetchone()


def test_a_live_process_holds_the_search_and_a_killed_one_lets_go_at_once(search):
    path, st, sid = search
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(sid)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(SearchLockedError, match=rf"search 'runs' is being run by another process \(pid {proc.pid} on host"):
            st.acquire_lease(sid, "me", ttl_s=3600)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    st.acquire_lease(sid, "me", ttl_s=3600)  # dead holder on this host: no need to wait for the ttl
    assert _holder_row(path, sid)[0] == "me" and _holder_row(path, sid)[2] == os.getpid()


def test_a_dead_pid_on_another_host_waits_for_the_ttl(search, monkeypatch):
    path, st, sid = search
    st.acquire_lease(sid, "other")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE nasbook_leases SET hostname = 'elsewhere', pid = 999999999")
    with pytest.raises(SearchLockedError, match="pid 999999999 on host 'elsewhere'"):
        st.acquire_lease(sid, "me", ttl_s=60)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE nasbook_leases SET heartbeat_at = heartbeat_at - 61")
    st.acquire_lease(sid, "me", ttl_s=60)
    assert _holder_row(path, sid)[0] == "me"


def test_the_error_says_how_old_the_heartbeat_is(search):
    path, st, sid = search
    st.acquire_lease(sid, "other")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE nasbook_leases SET heartbeat_at = heartbeat_at - 42")
    with pytest.raises(SearchLockedError, match=r"last heartbeat 4[23] s ago\); wait for it to finish, or stop it"):
        st.acquire_lease(sid, "me", ttl_s=3600)


def test_a_taken_over_lease_fails_its_old_owners_heartbeat(search):
    path, st, sid = search
    st.acquire_lease(sid, "old")
    with sqlite3.connect(path) as con:  # an old heartbeat from another host (this host's live pids keep theirs)
        con.execute("UPDATE nasbook_leases SET heartbeat_at = heartbeat_at - 3600, hostname = 'elsewhere'")
    other = Storage(path, create=False)
    other.acquire_lease(sid, "new")
    with pytest.raises(SearchLockedError, match="being run by another process"):
        st.renew_lease(sid, "old")
    st.release_lease(sid, "old")  # not held any more: a no-op that leaves the new owner alone
    assert _holder_row(path, sid)[0] == "new"
    other.release_lease(sid, "new")
    with pytest.raises(SearchLockedError, match="no longer holds its lease"):
        other.renew_lease(sid, "new")
    other.close()


def test_bad_lease_arguments(search):
    _, st, sid = search
    for owner in ("", None, 3, "x" * 65):
        with pytest.raises(InvalidParameterError, match="lease owner"):
            st.acquire_lease(sid, owner)
    for ttl in (0, -1, "60", True):
        with pytest.raises(InvalidParameterError, match="ttl_s"):
            st.acquire_lease(sid, "me", ttl_s=ttl)
    with pytest.raises(StorageError, match="no search with id 999"):
        st.acquire_lease(999, "me")


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(0) and not pid_alive(-5)
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not pid_alive(int(done.stdout))  # exited and reaped


# -- races -----------------------------------------------------------------------------------------------
def _try_lease(path, sid, start, results, i, ttl_s):
    st = Storage(path, create=False)
    start.wait()
    try:
        st.acquire_lease(sid, f"owner-{i}", ttl_s=ttl_s)
        results.put("won")
    except SearchLockedError:
        results.put("locked")
    except BaseException as exc:  # noqa: BLE001 - report every failure to the parent
        results.put(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        st.close()


def _race(path, sid, n, ttl_s=60.0):
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_try_lease, args=(path, sid, start, results, i, ttl_s)) for i in range(n)]
    for p in procs:
        p.start()
    start.set()
    out = Counter(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    return out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("round_", range(2))
def test_of_processes_racing_for_a_free_search_exactly_one_wins(search, round_):
    path, _, sid = search
    outcome = _race(path, sid, 20)
    assert outcome == Counter({"won": 1, "locked": 19}), outcome


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("round_", range(3))
def test_of_processes_racing_for_a_stale_lease_exactly_one_wins(search, round_):
    path, st, sid = search
    st.acquire_lease(sid, "stale")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE nasbook_leases SET heartbeat_at = heartbeat_at - 3600, hostname = 'elsewhere'")
    outcome = _race(path, sid, 20)
    assert outcome == Counter({"won": 1, "locked": 19}), outcome
    assert _holder_row(path, sid)[0].startswith("owner-")


def test_a_live_process_on_this_host_keeps_its_lease_through_a_long_trial(search):
    path, st, sid = search
    st.acquire_lease(sid, "trainer", ttl_s=60)
    with sqlite3.connect(path) as con:  # an in-process trial has trained for two hours without a heartbeat
        con.execute("UPDATE nasbook_leases SET heartbeat_at = heartbeat_at - 7200")
    with pytest.raises(SearchLockedError, match="being run by another process"):
        st.acquire_lease(sid, "intruder", ttl_s=60)
    st.renew_lease(sid, "trainer")
