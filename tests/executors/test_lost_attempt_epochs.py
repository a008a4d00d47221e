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
from nasbook.executors import DaskExecutor, LocalExecutor
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


def test_worker_losses_count_each_lost_attempts_epochs_once_and_never_the_successful_attempts():
    from nasbook.executors._losses import WorkerLosses

    losses, key = WorkerLosses("k-"), "k-1"

    def report(attempt, worker, epoch):
        losses.on_report(key, {"attempt": attempt, "worker": worker, "epoch": epoch})

    for epoch in (0, 1, 1, 2):  # a repeated report of an epoch counts once
        report("a", "tls://w1", epoch)
    assert losses.lost_epochs(key) == 0  # running, its worker alive
    losses.on_event((0.0, {"action": "remove-worker", "worker": "tls://w1", "processing-tasks": [key]}))
    assert losses.lost_epochs(key) == 3  # its worker died: known before the re-run reports
    report("b", "tls://w2", 0)
    report("b", "tls://w2", 1)
    assert losses.lost_epochs(key) == 3  # the re-run's epochs are its own
    losses.on_report(key, {"epoch": 5})  # a report naming no attempt (an older worker's): not counted
    assert losses.lost_epochs(key) == 3
    other = "k-2"  # no death seen yet, but a later attempt reported: the earlier one was lost
    losses.on_report(other, {"attempt": "c", "worker": "tls://w3", "epoch": 0})
    losses.on_report(other, {"attempt": "d", "worker": "tls://w4", "epoch": 0})
    assert losses.lost_epochs(other) == 1
    assert losses.pop(key) and losses.lost_epochs(key) == 0  # forgotten with the trial
    losses.on_report(key, {"attempt": "e", "worker": "tls://w1", "epoch": 0})  # late, after its end: ignored
    assert losses.lost_epochs(key) == 0


class LosesTrialZero(LocalExecutor):
    """Two trials at once, outcomes one per poll, latest first; trial 0 lost ``LOST`` epochs with a worker while it
    ran (as a dask executor says it, live, then in its outcome): the smallest deterministic stand-in for dask."""

    in_process = False
    capacity = 2

    def poll(self, timeout_s=0.1):
        done = [e for e in self._events if e.kind == "done"][-1:]
        self._events = [e for e in self._events if e not in done]
        for e in done:
            if e.number == 0:
                e.outcome.attempts, e.outcome.lost_attempt_epochs = 2, LOST
        return done

    def lost_epochs(self, number):
        return LOST if number == 0 and any(e.number == 0 for e in self._events) else 0


def test_the_budget_holds_a_running_trials_lost_epochs_from_the_poll_that_finds_them():
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=5), strategy="random", budget={"epochs": 20}, seed=0,
                       storage=":memory:", executor=LosesTrialZero())
    s.run(progress="none")
    done = [t for t in s.trials if t.state.is_finished]
    # trials 0 and 1 start (10 held); 1 ends (5 spent) and 0's 3 lost epochs are held: 2 starts (18 <= 20); 2 ends:
    # 3 would make 23, so it waits, then stays QUEUED. Before: 3 started too (20 counted, 23 trained).
    assert [t.number for t in done] == [0, 1, 2] and done[0].lost_attempt_epochs == LOST
    assert s.epochs_spent == 5 * 3 + LOST == 18 and s.epochs_spent <= 20
    assert [t.number for t in s._requeue] == [3] and "1 trial queued for extend()" in repr(s)


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop", [_Interrupt, KeyboardInterrupt])
def test_a_running_trials_lost_epochs_survive_an_interrupted_run_and_load_search(tmp_path, stop):
    """Interrupted while trial 0 (whose worker died, losing ``LOST`` epochs) still runs: trial 0 is stored QUEUED with
    its lost epochs, which ``epochs_spent`` counts at once, after ``load_search`` and once it has run again (not twice);
    the budget holds them, and ``plot_history(x="epochs")`` counts them with the trial that lost them."""
    path = tmp_path / "cut.db"

    def interrupt(search, trial):
        if trial.number == 2:  # trials 1 and 2 finished; 0 runs, its lost epochs known since trial 1's poll
            raise stop

    task = ToyTask(SPACE, epochs=5)
    cut = nasbook.Search(SPACE, task, strategy="random", budget={"epochs": 40}, seed=0,
                         storage=path, name="cut", executor=LosesTrialZero(), callbacks=[interrupt])
    with pytest.raises(stop):
        cut.run(progress="none")
    assert [t.number for t in cut.trials] == [1, 2]
    assert cut.epochs_spent == 2 * 5 + LOST  # before: 10, the lost epochs forgotten with the interrupted trial
    stored = {t.number: t for t in cut.storage.load_trials(cut._search_id, SPACE)[0]}
    assert stored[0].state is TrialState.QUEUED and stored[0].lost_attempt_epochs == LOST
    cut.close()

    loaded = nasbook.load_search("cut", path, task=task, executor="local")
    try:
        assert loaded.epochs_spent == 2 * 5 + LOST  # before: 10
        assert "13 of 40 epochs" in repr(loaded)
        loaded.run(progress="none")  # trial 0 first (its epochs now lost no more), then as many as fit
        done = [t for t in loaded.trials if t.state.is_finished]
        assert done[0].number == 0 and done[0].lost_attempt_epochs == LOST and done[0].epochs == 5
        assert loaded.epochs_spent == 5 * len(done) + LOST <= 40  # counted once: 7 trials, 38 epochs
        assert len(done) == 7  # before: 8 trials (40 epochs counted, 43 trained)
        assert float(nasbook.viz.history_info(loaded, x="epochs")["epochs"].max()) == loaded.epochs_spent
        again = nasbook.load_search("cut", path, task=task)  # replayed from the store: the same count
        assert again.epochs_spent == loaded.epochs_spent and again.trials[0].lost_attempt_epochs == LOST
        again.close()
    finally:
        loaded.close()
