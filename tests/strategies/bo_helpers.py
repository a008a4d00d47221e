"""Helpers shared by the BO tests."""

from nasbook.predictors import RandomForest
from nasbook.strategies import BO


def cheap(**params):
    """A BO whose surrogate costs a few milliseconds per fit."""
    params.setdefault("predictor", RandomForest(n_estimators=8, calibration="none"))
    params.setdefault("n_initial", 5)
    return BO(**params)


def cut_and_resume(tmp_path, space, make, budget, stop_at):
    """An uninterrupted search of ``make()`` and the same search stopped after trial ``stop_at`` and
    resumed from storage alone (strategy rebuilt from its stored configuration; a
    ReproducibilityWarning is an error): ``(full, resumed)``, both run to ``budget``."""
    import warnings

    import pytest

    from nasbook.search import Search, load_search
    from nasbook.testing._toy import ToyTask

    task = ToyTask(space, seed=3)
    full = Search(space, task, strategy=make(), budget=budget, seed=4, storage=":memory:").run(progress="none")

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == stop_at:
            raise Stop

    path = tmp_path / "bo.db"
    with pytest.raises(Stop):
        Search(space, task, strategy=make(), budget=budget, seed=4, storage=path, name="cut", callbacks=[stop]).run(
            progress="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("cut", path, task=task, space=space).run(progress="none")
    return full, resumed
