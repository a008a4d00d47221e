"""A ``run()`` in a user's own daemon thread (``threading.Thread(target=search.run, daemon=True)``) still going
when the script ends is ended by the exit hook as a ``start()``'s search is: its trials in flight stored QUEUED,
the search ``interrupted`` in the store (``nasbook list`` and ``load_search`` say so), the thread ending quietly,
and ``load_search(...).run()`` goes on to the full budget. Also when the script ends during the run's set-up
(before its loop began): the run ends there, interrupted.

Before the fix the hook only kept such a run's temporary folder: the run was frozen mid-trial by the interpreter,
its search left ``running`` with a lease that only expired; a run still in its set-up went on running trials
during the interpreter's exit.
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import nasbook
from nasbook.search import _background, _checkpoints, _ownfolder
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.storage import Storage
from nasbook.strategies import ASHA, RandomSearch
from nasbook.testing import ToyTask
from nasbook.trial import TrialState

PACKAGE_ROOT = Path(nasbook.__file__).resolve().parents[1]
BUDGET = 12

SCRIPT = """
import sys, threading, time
import nasbook
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import RandomSearch
from nasbook.testing import ToyTask


in_set_up = threading.Event()


class HeldInItsSetUp(RandomSearch):
    # its set-up (the replay of the stored history) is still going when the interpreter's exit begins
    def setup(self, *args, **kwargs):
        in_set_up.set()
        while not getattr(threading, "_SHUTTING_DOWN", False):
            time.sleep(0.005)
        time.sleep(0.2)
        return super().setup(*args, **kwargs)


if __name__ == "__main__":
    path, when, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
    space = GraphSpace(ops=PROTEINS_OPS)
    strategy = HeldInItsSetUp() if when == "setup" else "random"
    search = nasbook.Search(space, ToyTask(space, epochs=2, epoch_s=0.02), strategy=strategy, budget=budget, seed=100,
                            storage=path, name="ud")
    thread = threading.Thread(target=search.run, kwargs={"progress": "none"}, daemon=True)
    thread.start()
    if when == "setup":
        assert in_set_up.wait(120), "the run never began its set-up"
    else:
        deadline = time.monotonic() + 120
        while search.n_trials < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    print("committed", search.n_trials, flush=True)
    # the script ends here, its run still going in the user's daemon thread
"""


def _exit_with_run_going(tmp_path, when):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    path = tmp_path / f"{when}.db"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(script), str(path), when, str(BUDGET)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr
    assert "committed" in r.stdout, r.stderr
    noise = [line for line in r.stderr.splitlines() if any(w in line for w in ("Error", "Traceback", "Exception",
                                                                                "Warning"))]
    assert noise == [], r.stderr
    st = Storage(str(path))
    try:
        record = st.get_search("ud")
        rows = st.load_trials(record.id, GraphSpace(ops=PROTEINS_OPS))[0]
        return path, record.state, rows
    finally:
        st.close()


def _resumes_to_the_full_budget(path, rows):
    committed = {t.number: (t.arch.id, t.value) for t in rows if t.state is TrialState.COMPLETE}
    space = GraphSpace(ops=PROTEINS_OPS)
    resumed = nasbook.load_search("ud", str(path), task=ToyTask(space, epochs=2, epoch_s=0.02), space=space,
                                  strategy=RandomSearch()).run(progress="none")
    try:
        assert [t.number for t in resumed.trials] == list(range(BUDGET))
        assert all(t.state is TrialState.COMPLETE for t in resumed.trials)
        assert {t.number: (t.arch.id, t.value) for t in resumed.trials if t.number in committed} == committed
        assert resumed.state.value == "done"
    finally:
        resumed.storage.close()


def test_a_run_in_a_users_daemon_thread_is_stored_interrupted_at_exit_and_resumes(tmp_path):
    path, state, rows = _exit_with_run_going(tmp_path, "loop")
    assert state == "interrupted", f"the search was left {state!r}"
    assert {t.state for t in rows} <= {TrialState.COMPLETE, TrialState.QUEUED}
    assert sum(t.state is TrialState.COMPLETE for t in rows) >= 3
    _resumes_to_the_full_budget(path, rows)


def test_a_run_in_a_users_daemon_thread_still_in_its_set_up_at_exit_ends_there_interrupted(tmp_path):
    path, state, rows = _exit_with_run_going(tmp_path, "setup")
    assert state == "interrupted", f"the search was left {state!r}"
    assert rows == []  # no trial ran during the interpreter's exit
    _resumes_to_the_full_budget(path, rows)


def test_a_temporary_folder_made_after_the_exit_hook_found_the_run_in_its_set_up_is_kept_at_exit():
    """The hook found the run in its set-up, before the strategy asked for a checkpoint store (the search held
    none yet): the folder made later in that set-up is kept at exit as well (it used to be deleted under the run)."""
    space = GraphSpace(ops=PROTEINS_OPS)
    search = nasbook.Search(space, ToyTask(space, epochs=3), strategy=ASHA(min_epochs=1, max_epochs=9), budget=4,
                            seed=100, storage=":memory:", name="setup")
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)  # stands for the user's thread, in run()'s set-up
    thread.start()
    search._run_thread = thread
    with _background._lock:
        _background._runs.add(search)
    try:
        assert not isinstance(search._checkpoints, _checkpoints.TempCheckpoints)  # none yet: the set-up makes it
        _background._keep_folders_of_daemon_runs()
        search.strategy.setup(space, seed=100, mode=search.task.mode, metric=search.task.metric)
        _checkpoints.open_store(search)  # what the replay does at the end of the set-up
        search._checkpoints[0] = b"state"  # the first checkpoint makes the folder
        folder = search._checkpoints.path
        assert folder is not None and folder.is_dir()
        assert _ownfolder._finalizers[folder].atexit is False, "the folder would be deleted at exit under the run"
    finally:
        with _background._lock:
            _background._runs.discard(search)
        search._run_thread = None
        release.set()
        search.close()
