"""Epochs trained by a dask attempt lost with its worker (SIGKILLed mid-trial; dask runs the trial again on
another worker) count against an epochs budget: ``search.epochs_spent`` (at run time and after ``load_search``),
the budget's check before each trial starts, and ``plot_history(x="epochs")`` all count them, from
``trial.attrs["lost_attempt_epochs"]``; the trial's own ``epochs`` stays its successful attempt's."""

import os
import signal
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

import nasbook
import nasbook.viz
from nasbook.executors import DaskExecutor
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/

SPACE = GraphSpace(ops=PROTEINS_OPS)
LOST = 3  # epochs the victim's first attempt trains (and reports) before its worker is killed


class KilledAfterEpochs(ToyTask):
    """Writes a line per epoch trained to ``log`` (every attempt's); the first attempt at ``victim`` kills its
    worker (SIGKILL) once it has trained and reported ``LOST`` epochs."""

    def __init__(self, space, victim="", folder="", **kw):
        super().__init__(space, **kw)
        self.victim, self.folder = victim, folder

    def get_params(self):
        return {**super().get_params(), "victim": self.victim, "folder": self.folder}

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        marker = Path(self.folder, "killed")
        first = arch.id == self.victim and not marker.exists()

        def counted(epoch, **metrics):
            with open(Path(self.folder, "epochs.log"), "a") as fh:
                fh.write(f"{arch.id} {epoch}\n")
            decision = None if report is None else report(epoch, **metrics)
            if first and epoch + 1 == LOST:
                marker.touch()
                time.sleep(0.5)  # the reports reach the client first (batched events)
                os.kill(os.getpid(), signal.SIGKILL)
            return decision

        return super().evaluate(arch, space=space, fidelity=fidelity, report=counted)


@pytest.mark.slow
def test_epochs_of_an_attempt_lost_with_its_worker_count_against_the_epochs_budget(tmp_path):
    path = tmp_path / "lost.db"
    victim = nasbook.Search(SPACE, ToyTask(SPACE), strategy="random", budget=1, seed=0,
                            storage=":memory:").run(progress="none").trials[0].arch.id
    task = KilledAfterEpochs(SPACE, victim=victim, folder=str(tmp_path), epochs=5, epoch_s=0.1)
    with DaskExecutor(n_workers=2, allowed_failures=1) as ex:
        s = nasbook.Search(SPACE, task, strategy="random", budget={"epochs": 20}, seed=0, storage=path, name="lost",
                           executor=ex)
        s.run(progress="none")
        s.close()
    trained = len((tmp_path / "epochs.log").read_text().splitlines())  # every epoch trained, lost ones too
    done = [t for t in s.trials if t.state.is_finished]
    dead = done[0]
    assert dead.arch.id == victim and dead.state is TrialState.COMPLETE and dead.attrs["attempts"] == 2
    assert dead.attrs["lost_attempt_epochs"] == LOST and dead.lost_attempt_epochs == LOST
    assert dead.epochs == 5 and dead.attrs.get("epochs_run", 5) == 5  # its own count: the successful attempt's
    assert all(t.lost_attempt_epochs == 0 for t in done[1:])
    assert s.epochs_spent == sum(t.epochs for t in done) + LOST == trained
    # the budget saw the lost epochs: a trial starts only if they, the running trials' and its own fit (the
    # trials running when the loss was found may finish: over by at most the lost epochs)
    assert s.epochs_spent <= 20 + LOST
    assert len(done) == 3 and s.epochs_spent == 18  # before: 4 trials, 20 epochs counted, 23 trained
    ds = nasbook.viz.history_info(s, x="epochs")
    assert float(ds["epochs"].max()) == s.epochs_spent
    loaded = nasbook.load_search("lost", path, task=task)
    try:
        assert loaded.epochs_spent == s.epochs_spent and loaded.trials[0].lost_attempt_epochs == LOST
        assert float(nasbook.viz.history_info(loaded, x="epochs")["epochs"].max()) == s.epochs_spent
    finally:
        loaded.close()
