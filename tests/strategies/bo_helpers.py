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

    from strategy_helpers import cut_and_full

    from nasbook.search import load_search

    full, path, task = cut_and_full(tmp_path, make(), space, n_cut=stop_at + 1, budget=budget)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("cut", path, task=task, space=space).run(progress="none")
    return full, resumed
