"""A search whose run was killed (SIGKILL, a lost machine) is listed as interrupted, as load_search reads it: not as
running, which nasbook list and KnowledgeBase.searches used to say from the stored row however long its process had
been dead (found by benchmarks/outside_probe10.py, part kill). A run still holding its lease is listed as running."""

import subprocess
import sys
import time

import sqlalchemy as sa

from nasbook import KnowledgeBase
from nasbook.cli import main
from nasbook.storage import Storage


def _store(tmp_path):
    path = tmp_path / "dead.db"
    st = Storage(path)
    sid = st.create_search("killed", {})
    st.acquire_lease(sid, "run-token")
    st.update_search(sid, state="running")
    return path, st, sid


def _set_holder(path, **values):
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE nasbook_leases SET {', '.join(f'{k} = :{k}' for k in values)}"), values)
    engine.dispose()


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_whose_process_died_is_listed_interrupted(tmp_path, capsys):
    path, st, _ = _store(tmp_path)
    assert [r.state for r in st.list_searches()] == ["running"]  # this process holds it: running
    _set_holder(path, pid=_dead_pid())
    assert [r.state for r in st.list_searches()] == ["interrupted"]
    st.close()
    assert main(["list", "--storage", str(path)]) == 0
    assert "killed  interrupted" in capsys.readouterr().out
    kb = KnowledgeBase(str(path))
    assert kb.searches["state"].tolist() == ["interrupted"]
    kb.close()


def test_a_run_on_another_host_is_running_until_its_heartbeat_is_stale(tmp_path):
    path, st, _ = _store(tmp_path)
    _set_holder(path, hostname="elsewhere", pid=1, heartbeat_at=time.time() - 5)
    assert [r.state for r in st.list_searches()] == ["running"]
    _set_holder(path, heartbeat_at=time.time() - 3600)
    assert [r.state for r in st.list_searches()] == ["interrupted"]
    st.close()


def test_a_search_running_without_a_lease_row_keeps_its_stored_state(tmp_path):
    # a knowledge base's mirror of a search run in its own store holds no lease: this store cannot tell whether
    # that run lives, so the stored state stands (marking it interrupted said so of every live mirrored run)
    path, st, sid = _store(tmp_path)
    st.release_lease(sid, "run-token")
    assert [r.state for r in st.list_searches()] == ["running"]
    st.close()
