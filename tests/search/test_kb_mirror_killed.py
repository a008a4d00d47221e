"""A knowledge base's mirror of a search run in a store of its own said ``running`` after that run was killed
(SIGKILL), until a later run took the search over: ``nasbook list`` on the search's own store already read it
interrupted by its stale lease (probe 10), the kb's row held no lease, so it could not tell (h-execdur (c)).
The mirror row now holds a lease of its own in the kb's store for as long as the run holds the search's."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import nasbook
from nasbook import KnowledgeBase

CHILD = textwrap.dedent(
    """
    import sys, time
    import nasbook
    from nasbook import KnowledgeBase
    from nasbook.tasks import NasBenchGraph

    def hold(search, trial):
        if search.n_trials >= 2:
            time.sleep(600)  # killed here

    nasbook.Search(NasBenchGraph("cora"), budget=50, seed=3, storage=sys.argv[1], name="mirrored",
                   kb=KnowledgeBase(sys.argv[2]), callbacks=[hold]).run(progress="none")
    """
)


def _mirror_trials(kb_path):
    try:
        with sqlite3.connect(f"file:{kb_path}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("SELECT count(*) FROM nasbook_trials").fetchone()[0]
    except sqlite3.Error:
        return -1


def _states(kb_path):
    kb = KnowledgeBase(str(kb_path))
    try:
        return kb.searches.set_index("search")["state"].to_dict()
    finally:
        kb.close()


def test_a_killed_runs_mirror_reads_interrupted_in_the_kb(tmp_path):
    own, kb_path, script = tmp_path / "own.db", tmp_path / "kb.db", tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(script), str(own), str(kb_path)])
    try:
        deadline = time.monotonic() + 120
        while _mirror_trials(kb_path) < 2:
            assert proc.poll() is None, "the child ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert _states(kb_path) == {"mirrored": "running"}  # its run lives: the mirror says so
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert [r.state for r in nasbook.storage.Storage(own).list_searches()] == ["interrupted"]  # probe 10's fix
    assert _states(kb_path) == {"mirrored": "interrupted"}  # was "running" until a later run took it over
    # a later run takes the mirror's lease over and ends it done
    kb = KnowledgeBase(str(kb_path))
    s = nasbook.load_search("mirrored", own, kb=kb, budget=4).run(progress="none")
    s.close()
    kb.close()
    assert _states(kb_path) == {"mirrored": "done"}
    with sqlite3.connect(kb_path) as con:  # and gave it back
        assert con.execute("SELECT count(*) FROM nasbook_leases").fetchone()[0] == 0


def test_a_live_mirrored_run_reads_running_in_the_kb_and_its_lease_goes_at_its_end(tmp_path):
    from nasbook.tasks import NasBenchGraph

    kb = KnowledgeBase(str(tmp_path / "kb.db"))
    seen = []

    def look(search, trial):
        seen.append(KnowledgeBase(str(tmp_path / "kb.db")).searches["state"].tolist())

    s = nasbook.Search(NasBenchGraph("cora"), budget=2, seed=0, storage=tmp_path / "own.db", name="live", kb=kb,
                       callbacks=[look]).run(progress="none")
    assert seen == [["running"], ["running"]]
    assert kb.searches["state"].tolist() == ["done"]
    with sqlite3.connect(tmp_path / "kb.db") as con:
        assert con.execute("SELECT count(*) FROM nasbook_leases").fetchone()[0] == 0
    s.close()
    kb.close()
