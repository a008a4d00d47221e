"""Two processes on a real PostgreSQL server: one (the loser) writes its search's row with ``update_search(owner=...)``
while the other takes its lease over and then writes the row itself (the winner).

The loser's UPDATE locks the lease row ``FOR SHARE`` in the same statement (``_lease.held_by``), so it is ordered
against the takeover: either it commits while the loser still holds the lease (the takeover waits for it, and the
winner then sees it), or it sees the takeover and is refused. Without that lock a write whose statement began
before the takeover committed, held up on the search's row, landed after the winner had taken the lease.

The race is made to happen, not waited for: the test holds the search's row locked (``SELECT ... FOR UPDATE``) so the
loser's write is stuck in mid-statement (seen waiting in ``pg_stat_activity``), starts the takeover, and lets go.
"""

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import nasbook
from nasbook.storage import Storage

PACKAGE_ROOT = Path(nasbook.__file__).resolve().parents[1]

# one process, one role: holds (or takes) the lease, then writes the search's row on each "write" line from stdin
SCRIPT = """
import sys
from nasbook._errors import SearchLockedError
from nasbook.storage import Storage

url, sid, role = sys.argv[1], int(sys.argv[2]), sys.argv[3]
st = Storage(url, create=False)
st.acquire_lease(sid, role, ttl_s=60.0)  # the winner's takes the loser's (stale, "from another host") over
record = st.get_search("s")
print("holds", record.state, record.config.get("by"), flush=True)
for line in sys.stdin:
    try:
        st.update_search(sid, state=line.split()[1], elapsed_s=float(line.split()[2]), config={"by": role}, owner=role)
        print("written", flush=True)
    except SearchLockedError:
        print("refused", flush=True)
st.close()
"""


class _Process:
    def __init__(self, tmp_path, url, sid, role):
        script = tmp_path / "role.py"
        script.write_text(SCRIPT)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
                   OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, str(script), url, str(sid), role], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def line(self, timeout=60.0):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer; stderr: {self.proc.stderr.read() if self.proc.poll() is not None else ''}") from None

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(60)


def _waiting_on_locks(conn):
    n = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                             "AND datname = current_database()")).scalar()
    conn.commit()
    return n


def _until(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_a_write_racing_a_takeover_of_its_lease_lands_before_it_or_is_refused_on_postgresql(postgres_url, tmp_path):
    st = Storage(postgres_url)
    sid = st.create_search("s", {"by": "nobody"})
    st.update_search(sid, state="running")
    loser = winner = None
    watch = st.engine.connect()
    try:
        loser = _Process(tmp_path, postgres_url, sid, "loser")
        assert loser.line() == "holds running nobody"
        # the loser's process runs on another host and stalled past the lease's TTL: the lease may be taken over
        with st.engine.begin() as conn:
            conn.execute(sa.text("UPDATE nasbook_leases SET hostname = 'another-host', heartbeat_at = 0"))
        row_lock = st.engine.connect()
        row_lock.execute(sa.text("SELECT id FROM nasbook_searches WHERE id = :sid FOR UPDATE"), {"sid": sid})
        loser.send("write interrupted 1.0")  # its UPDATE starts, and waits for the search's row
        assert _until(lambda: _waiting_on_locks(watch) == 1), "the loser's write never reached the search's row"
        winner = _Process(tmp_path, postgres_url, sid, "winner")  # takes the lease over meanwhile
        # its takeover either waits for the loser's statement (two waiting) or is done already
        assert _until(lambda: _waiting_on_locks(watch) == 2 or not winner.lines.empty())
        row_lock.rollback()  # the search's row is free: the loser's write goes on
        row_lock.close()
        first = loser.line()
        took = winner.line()
        if first == "written":  # it landed while the loser held the lease: before the takeover, which sees it
            assert took == "holds interrupted loser", "the loser's write landed after the winner took its lease"
        else:
            assert first == "refused" and took == "holds running nobody"
        winner.send("write done 123.0")
        assert winner.line() == "written"
        loser.send("write interrupted 2.0")  # the loser, again: refused, whatever it did before
        assert loser.line() == "refused"
        record = st.get_search("s")
        assert (record.state, record.elapsed_s, record.config) == ("done", 123.0, {"by": "winner"})  # nothing lost
        with st.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT owner FROM nasbook_leases")).scalar() == "winner"
    finally:
        for p in (loser, winner):
            if p is not None:
                p.close()
        watch.close()
        st.close()
