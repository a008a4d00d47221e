"""A ``run()`` in a user's own daemon thread (``threading.Thread(target=search.run, daemon=True)``) still going
when the interpreter exits keeps its temporary checkpoint folder, as a ``start()``'s search does: deleted at exit
under the run, its next checkpoint write failed. The next process's sweep deletes it once this one is gone.

Before the fix only ``start()``'s searches were tracked by the exit hook: the folder of a run in a user's thread
was deleted by its exit finalizer while the run was mid-trial.
"""

import os
import subprocess
import sys
from pathlib import Path

import nasbook
from nasbook.search import _ownfolder

PACKAGE_ROOT = Path(nasbook.__file__).resolve().parents[1]

SCRIPT = """
import sys, threading
import nasbook
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import ASHA
from nasbook.testing import ToyTask

mid_trial = threading.Event()


class HeldInItsSecondTrial(ToyTask):
    # the first trial ends (its checkpoint makes the folder); the second holds after its first report, forever
    calls = 0

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        type(self).calls += 1
        if type(self).calls == 1:
            return super().evaluate(arch, space=space, fidelity=fidelity, report=report)

        def held(epoch, **metrics):
            decision = report(epoch, **metrics)
            mid_trial.set()
            threading.Event().wait()  # mid-trial when the interpreter exits
            return decision

        return super().evaluate(arch, space=space, fidelity=fidelity, report=held)


if __name__ == "__main__":
    from nasbook.search import _background
    _background.EXIT_WAIT_S = 1.0  # the exit hook waits this long for the held trial (it never reports again)
    space = GraphSpace(ops=PROTEINS_OPS)
    search = nasbook.Search(space, HeldInItsSecondTrial(space, epochs=3), strategy=ASHA(min_epochs=1, max_epochs=9),
                            budget=10, seed=100, storage=":memory:", name="daemon")
    thread = threading.Thread(target=search.run, kwargs={"progress": "none"}, daemon=True)
    thread.start()
    assert mid_trial.wait(120), "the second trial never reported"
    print("folder", search._checkpoints.path, flush=True)
    # the script ends here, its run still in a trial in the user's daemon thread
"""


def test_a_run_in_a_users_daemon_thread_keeps_its_temporary_folder_at_exit_for_the_next_sweep(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
               TMPDIR=str(tmp), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                       env=env)
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith("folder ")]
    assert lines, r.stdout + r.stderr
    folder = Path(lines[0].removeprefix("folder "))
    assert folder.parent == tmp and folder.name.startswith(_ownfolder.PREFIX)
    # kept at exit, with the checkpoint of the first trial (the run was still writing there)
    assert folder.is_dir(), "the temporary folder was deleted at exit under the run still going in its daemon thread"
    assert (folder / "trial-0.ckpt").is_file()
    # its process is gone: the next process's sweep deletes it
    assert _ownfolder.sweep(tmp) == [folder]
    assert not folder.exists()
