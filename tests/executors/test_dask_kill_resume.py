"""The process running a search on a dask LocalCluster is killed with SIGKILL while trials run (their rows are
stored RUNNING): its worker processes go with it, and load_search + run re-runs those trials under their
numbers, with their architectures, and loses or repeats nothing. SQLite file and PostgreSQL server."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

import nasbook
from nasbook.executors import DaskExecutor
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

psutil = pytest.importorskip("psutil")
pytest.importorskip("distributed")

SPACE = GraphSpace(ops=PROTEINS_OPS)
BUDGET = 14
# the child holds after this many trials, so a stall of the test's process (which let the child finish the
# other ~2 s of its trials before the kill, leaving nothing RUNNING) cannot change what the kill finds
HOLD_AT = 6
CHILD = textwrap.dedent(
    f"""
    import sys, time
    import nasbook
    from nasbook.executors import DaskExecutor
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS
    from nasbook.testing import ToyTask

    def hold(search, trial):  # killed here at the latest, its other trial stored RUNNING: it cannot finish first
        if search.n_trials == {HOLD_AT}:
            time.sleep(600)

    if __name__ == "__main__":
        space = GraphSpace(ops=PROTEINS_OPS)
        nasbook.Search(space, ToyTask(space, epochs=4, epoch_s=0.1), strategy="evolution", budget={BUDGET}, seed=3,
                       storage=sys.argv[1], name="dk", executor=DaskExecutor(n_workers=2),
                       callbacks=[hold]).run(progress="none")
    """
)


def _rows(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT number, state, arch_id, value FROM nasbook_trials ORDER BY number")).all()
    except sa.exc.DBAPIError:
        return []
    finally:
        engine.dispose()


@pytest.mark.slow  # 10-26 s: a probe/benchmark process (keeps the default run under 20 min)
def test_sigkill_of_a_dask_search_then_resume(store_url, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(script), store_url])
    deadline = time.monotonic() + 120
    try:
        while True:
            states = [r.state for r in _rows(store_url)]
            if states.count("complete") >= 4 and "running" in states:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "the search ended before it was killed"
            time.sleep(0.05)
        workers = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()  # killed already, unless the wait above failed: then no child is left holding for 600 s
        proc.wait(timeout=30)
    assert workers
    gone = time.monotonic() + 15  # the nannies see their parent gone and take their workers with them
    while any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers) and time.monotonic() < gone:
        time.sleep(0.2)
    assert not [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]

    at_kill = _rows(store_url)
    done = {r.number: (r.arch_id, r.value) for r in at_kill if r.state == "complete"}
    running = {r.number: r.arch_id for r in at_kill if r.state == "running"}
    assert running and len(done) < BUDGET
    task = ToyTask(SPACE, epochs=4, epoch_s=0.1)
    assert nasbook.load_search("dk", store_url, task=task).n_trials == len(done)
    with DaskExecutor(n_workers=2) as ex:
        resumed = nasbook.load_search("dk", store_url, task=task, executor=ex).run(progress="none")
    assert [t.number for t in resumed.trials] == list(range(BUDGET))
    by_number = {t.number: t for t in resumed.trials}
    assert all((by_number[n].arch.id, by_number[n].value) == v for n, v in done.items())  # nothing committed changed
    assert all(by_number[n].arch.id == a for n, a in running.items())  # re-run under its number, same architecture
    after = _rows(store_url)
    assert [r.number for r in after] == list(range(BUDGET)) and {r.state for r in after} == {"complete"}
