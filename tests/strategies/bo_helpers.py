"""Helpers shared by the BO tests."""

from nasbook.predictors import RandomForest
from nasbook.strategies import BO


def cheap(**params):
    """A BO whose surrogate costs a few milliseconds per fit."""
    params.setdefault("predictor", RandomForest(n_estimators=8, calibration="none"))
    params.setdefault("n_initial", 5)
    return BO(**params)
