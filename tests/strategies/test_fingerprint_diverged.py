"""A ``past`` whose ``diverged`` column holds something other than booleans or 0/1 is refused naming the parameter
and the value: ``astype(bool)`` read the strings ``"no"`` (and NaN) as diverged, so every past run counted as one."""
import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook import InvalidParameterError
from nasbook.space import ChainSpace
from nasbook.strategies import FingerprintStopping, divergence_risk, flag_divergence
from nasbook.tasks import Digits

PEAKS = [0.0, 0.1, 8.0, 9.0]  # two healthy runs, two that diverged
HEALTHY, BAD = {"fp_loss_peak": 0.05}, {"fp_loss_peak": 8.5}


def _past(outcomes):
    return pd.DataFrame({"fp_loss_peak": PEAKS, "diverged": pd.Series(outcomes, dtype=object)})


@pytest.mark.parametrize("outcomes", [
    [False, False, True, True], [np.False_, np.False_, np.True_, np.True_], [0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0],
    [np.int64(0), False, 1, np.True_], np.array([False, False, True, True]), np.array([0, 0, 1, 1]),
])
def test_booleans_and_zero_one_numbers_are_outcomes(outcomes):
    past = pd.DataFrame({"fp_loss_peak": PEAKS, "diverged": outcomes})
    for frame in (past, past.astype({"diverged": object})):
        assert divergence_risk(HEALTHY, frame, k=2) == 0.0
        assert divergence_risk(BAD, frame, k=2) == 1.0
    records = [{"fp_loss_peak": p, "diverged": d} for p, d in zip(PEAKS, list(outcomes))]
    assert divergence_risk(HEALTHY, records, k=2) == 0.0


@pytest.mark.parametrize("outcomes, shown", [
    (["no", "no", "yes", "yes"], "'no' of type str"),
    ([False, None, True, True], "None of type NoneType"),
    ([0.0, float("nan"), 1.0, 1.0], "nan of type float"),
    ([0, 2, 1, 1], "2 of type int"),
    ([False, "False", True, True], "'False' of type str"),
])
def test_any_other_outcome_is_refused_naming_the_parameter_and_the_value(outcomes, shown):
    past = _past(outcomes)
    row = next(i for i, v in enumerate(outcomes) if not (isinstance(v, (bool, int, float)) and v in (0, 1)))
    match = rf"'diverged' column must hold True/False \(or 1/0\) for each run; row {row} holds {shown}"
    with pytest.raises(InvalidParameterError, match=r"divergence_risk\(past=\.\.\.\): .*" + match):
        divergence_risk(HEALTHY, past, k=2)
    with pytest.raises(InvalidParameterError, match=match):
        flag_divergence(HEALTHY, past.to_dict(orient="records"), k=2)
    with pytest.raises(InvalidParameterError, match=r"FingerprintStopping\(past=\.\.\.\): .*" + match):
        nasbook.Search(ChainSpace(kind="mlp"), Digits(max_epochs=2), strategy=FingerprintStopping(past=past),
                       storage=":memory:")
