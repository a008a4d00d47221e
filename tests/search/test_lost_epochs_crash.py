"""Epochs a lost dask attempt trained survive a *crash* of the process running the search (SIGKILL, a kernel
restart: no interruption path runs): the loop writes them to the trial's RUNNING row (``attrs["lost_attempt_epochs"]``)
at the poll that finds the loss, so ``load_search`` counts them in ``epochs_spent`` and the trial, run again, carries
them once. A poll that finds no loss writes nothing (counted on the store's SQLite connection)."""

import os
import signal
import subprocess
import sys
import textwrap

import nasbook
import nasbook.viz
from nasbook.executors import LocalExecutor
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)
LOST = 3
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the child: two trials at once, outcomes one per poll, latest first; trial 0's worker died (LOST epochs lost) while it
# ran. Its second poll kills the process (SIGKILL), trial 0 still RUNNING: no interruption path, nothing in memory kept
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import nasbook
    from nasbook.executors import LocalExecutor
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS
    from nasbook.testing import ToyTask

    LOST = 3

    class LosesTrialZeroThenDies(LocalExecutor):
        in_process = False
        capacity = 2
        polls = 0

        def poll(self, timeout_s=0.1):
            self.polls += 1
            if self.polls == 2:  # the loss was found (and stored) after the first
                os.kill(os.getpid(), signal.SIGKILL)
            done = [e for e in self._events if e.kind == "done" and e.number != 0][-1:]
            self._events = [e for e in self._events if e not in done]
            return done

        def lost_epochs(self, number):
            return LOST if number == 0 and not again else 0

    space, again = GraphSpace(ops=PROTEINS_OPS), sys.argv[2] == "again"
    if again:  # resumed: trial 0 (its lost epochs carried from its row) runs again, and the process dies again
        nasbook.load_search("crash", sys.argv[1], task=ToyTask(space, epochs=5),
                            executor=LosesTrialZeroThenDies()).run(progress="none")
    nasbook.Search(space, ToyTask(space, epochs=5), strategy="random", budget={"epochs": 40}, seed=0,
                   storage=sys.argv[1], name="crash", executor=LosesTrialZeroThenDies()).run(progress="none")
    """
)


def _crash(path, script, mode):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(script), str(path), mode], env=env, timeout=120, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]


def test_lost_epochs_of_a_running_trial_survive_a_process_killed_with_sigkill(tmp_path):
    path, script = tmp_path / "crash.db", tmp_path / "child.py"
    script.write_text(CHILD)
    _crash(path, script, "first")
    task = ToyTask(SPACE, epochs=5)
    loaded = nasbook.load_search("crash", path, task=task, executor="local")
    try:
        stored = {t.number: t for t in loaded.storage.load_trials(loaded._search_id, SPACE)[0]}
        assert stored[0].state is TrialState.RUNNING and stored[0].lost_attempt_epochs == LOST  # before: 0
        assert [t.number for t in loaded.trials] == [1]  # finished before the crash
        assert loaded.epochs_spent == 5 + LOST  # before: 5, the lost epochs lived only in the dead process
        assert "8 of 40 epochs" in repr(loaded)
        loaded.run(progress="none")  # trials 0 and 2 run first (re-queued), then as many as fit
        done = [t for t in loaded.trials if t.state.is_finished]
        assert done[0].number == 0 and done[0].lost_attempt_epochs == LOST and done[0].epochs == 5
        assert loaded.epochs_spent == 5 * len(done) + LOST <= 40  # counted once, not twice
        assert len(done) == 7  # before: 8 trials (40 epochs counted, 43 trained)
        assert float(nasbook.viz.history_info(loaded, x="epochs")["epochs"].max()) == loaded.epochs_spent
        again = nasbook.load_search("crash", path, task=task)
        assert again.epochs_spent == loaded.epochs_spent and again.trials[0].lost_attempt_epochs == LOST
        again.close()
    finally:
        loaded.close()


class LosesTrialZeroLater(LocalExecutor):
    """Trial 0 runs for ``polls`` polls (no event), its worker dies at poll ``at`` (``LOST`` epochs lost), then it
    finishes; trial 1 waits in the queue (capacity 1). Counts the store's statements seen at each poll."""

    in_process = False
    capacity = 1

    def __init__(self, statements, polls=12, at=5):
        super().__init__()
        self.statements, self.polls, self.at, self.n, self.seen = statements, polls, at, 0, []

    def poll(self, timeout_s=0.1):
        self.n += 1
        self.seen.append(len(self.statements))
        if self.n < self.polls:
            return []
        self.n = 0
        done, self._events = [e for e in self._events if e.kind == "done"], []
        for e in done:
            if e.number == 0:
                e.outcome.attempts, e.outcome.lost_attempt_epochs = 2, LOST
        return done

    def lost_epochs(self, number):
        return LOST if number == 0 and self.n >= self.at else 0


def test_a_loss_is_written_once_and_a_poll_without_one_writes_nothing(tmp_path):
    statements = []
    ex = LosesTrialZeroLater(statements)
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=5), strategy="random", budget=2, seed=0,
                       storage=tmp_path / "w.db", name="w", executor=ex)
    s.storage.conn.connection.dbapi_connection.set_trace_callback(statements.append)
    s.run(progress="none")
    seen = ex.seen
    steps = [b - a for a, b in zip(seen, seen[1:], strict=False)]
    # trial 0: polls 1..12 (the loss found after poll 5: its row written once), then trial 1's 12 polls: no loss
    assert steps[:11] == [0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]  # before: all 0 (nothing written, lost in a crash)
    written = [q.split()[0].upper() for q in statements[seen[4]:seen[5]]]
    assert written == ["BEGIN", "UPDATE", "COMMIT"]  # one statement, its transaction
    assert "lost_attempt_epochs" in statements[seen[4] + 1]
    assert steps[12:] == [0] * 11
    t0 = s.trials[0]
    assert t0.lost_attempt_epochs == LOST and s.epochs_spent == 10 + LOST
    s.close()


def test_lost_epochs_carried_by_a_resumed_trial_survive_a_second_crash(tmp_path):
    """Killed twice: the resumed run claims trial 0's row (RUNNING again) with the epochs its lost attempt trained."""
    path, script = tmp_path / "crash.db", tmp_path / "child.py"
    script.write_text(CHILD)
    _crash(path, script, "first")
    _crash(path, script, "again")  # trials 0 and 2 re-run; 2 finishes, then the process dies with 0 RUNNING
    loaded = nasbook.load_search("crash", path, task=ToyTask(SPACE, epochs=5), executor="local")
    try:
        stored = {t.number: t for t in loaded.storage.load_trials(loaded._search_id, SPACE)[0]}
        assert stored[0].state is TrialState.RUNNING and stored[0].lost_attempt_epochs == LOST  # before: 0
        assert loaded.epochs_spent == 5 * len(loaded.trials) + LOST
        loaded.run(progress="none")
        assert loaded.trials[0].lost_attempt_epochs == LOST and loaded.epochs_spent == 5 * len(loaded.trials) + LOST
    finally:
        loaded.close()
