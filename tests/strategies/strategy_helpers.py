"""Helpers shared by the strategy tests: a synchronous ask/tell loop and a search cut to resume."""

import pytest

from nasbook.search import Search
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState


def cut_and_full(tmp_path, strategy, space, *, n_cut=15, budget=35, task_seed=3, seed=4):
    """An uninterrupted search of ``strategy.clone()`` on ``ToyTask(space, seed=task_seed)`` and the
    same search stopped after ``n_cut`` trials (both seeded ``seed``), stored as "cut" in a file: ``(full, path, task)``."""
    task = ToyTask(space, seed=task_seed)
    full = Search(space, task, strategy=strategy.clone(), budget=budget, seed=seed, storage=":memory:").run(progress="none")

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == n_cut - 1:
            raise Stop

    path = tmp_path / "cut.db"
    with pytest.raises(Stop):
        Search(space, task, strategy=strategy.clone(), budget=budget, seed=seed, storage=path, name="cut",
               callbacks=[stop]).run(progress="none")
    return full, path, task


def ask_tell(space, strategy, n, seed=0):
    """``strategy`` set up on ``space`` and driven ``n`` asks, each told its ``ToyTask(space, seed=3)`` value."""
    task = ToyTask(space, seed=3)
    p = strategy.setup(space, seed=seed)
    for i in range(n):
        prop = p.ask()
        p.tell(Trial(i, prop.arch, TrialState.COMPLETE, task.evaluate(prop.arch).value))
    return p
