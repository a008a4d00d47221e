"""Helpers shared by the strategies' exact-resume tests."""

import pytest

from nasbook.search import Search
from nasbook.testing._toy import ToyTask


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
