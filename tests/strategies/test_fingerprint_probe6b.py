"""Run fingerprints as a user passes them (outside probe 6b): ``divergence_risk`` read an infinite entry as 0
(a run whose loss peak is inf looked like the healthiest), refused ``kb.trials()`` rows although its
docstring offers them, ``fingerprint_frame(None)`` raised a raw TypeError, ``FingerprintStopping(past='x')``
and ``past`` without outcomes were accepted by ``Search`` (a str is a Sequence), and a DataFrame ``past``
printed as a table inside the constructor call."""
import math

import pandas as pd
import pytest

import nasbook
from nasbook.space import ChainSpace
from nasbook.strategies import FingerprintStopping, divergence_risk, fingerprint_frame
from nasbook.tasks import Digits

PAST = [{"fp_loss_peak": 0.0, "diverged": False}, {"fp_loss_peak": 0.1, "diverged": False},
        {"fp_loss_peak": 8.0, "diverged": True}, {"fp_loss_peak": 9.0, "diverged": True}]
INF = float("inf")


def test_an_infinite_entry_lies_beyond_the_largest_past_run():
    assert divergence_risk({"fp_loss_peak": INF}, PAST, k=2) == 1.0
    assert divergence_risk({"fp_loss_peak": -INF}, PAST, k=2) == 0.0


def test_a_past_run_with_an_infinite_entry_is_not_taken_for_a_healthy_one():
    past = PAST[:2] + [{"fp_loss_peak": INF, "diverged": True}]
    assert divergence_risk({"fp_loss_peak": 0.05}, past, k=1) == 0.0
    assert divergence_risk({"fp_loss_peak": 50.0}, past, k=1) == 1.0


def _kb_rows():
    """Rows as ``kb.trials(states=None)`` gives them: the fp_* inside ``metrics``, the outcome in ``state``."""
    return pd.DataFrame([{"task": "t", "state": "diverged" if p["diverged"] else "complete", "value": 0.5,
                          "metrics": {"val_accuracy": 0.5, "fp_loss_peak": p["fp_loss_peak"]}} for p in PAST]
                        + [{"task": "t", "state": "complete", "value": 0.5, "metrics": {"val_accuracy": 0.5}}])


def test_divergence_risk_reads_the_knowledge_base_s_trials():
    rows = _kb_rows()
    for fp in ({"fp_loss_peak": 7.5}, {"fp_loss_peak": 0.2}, {"fp_loss_peak": INF}):
        assert divergence_risk(fp, rows, k=2) == divergence_risk(fp, PAST, k=2)


def test_fingerprint_stopping_takes_kb_rows_and_stores_only_their_fingerprints():
    fs = FingerprintStopping(past=_kb_rows(), k=2)
    fs.setup(ChainSpace(kind="mlp"), seed=0)
    assert fs.risk({"fp_loss_peak": 7.5}) == 1.0
    past = fs.to_config()["params"]["past"]
    assert [sorted(r) for r in past] == [["fp_loss_peak", "state", "task", "value"]] * 4


@pytest.mark.parametrize("bad", [None, 3, "trials"])
def test_fingerprint_frame_refuses_what_is_not_trials(bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"fingerprint_frame\(trials=\.\.\.\) must be an iterable of Trial"):
        fingerprint_frame(bad)


@pytest.mark.parametrize("past, says", [("x", "got str"), (3, "got int"), ({"fp_loss_peak": 1.0}, "got dict"),
                                        ([{"fp_loss_peak": 1.0}], "'diverged'"), ([{"diverged": True, "x": 1}], "fp_")])
def test_search_refuses_a_past_that_is_not_fingerprints(past, says):
    with pytest.raises(nasbook.InvalidParameterError, match=r"FingerprintStopping\(past=\.\.\.\)") as info:
        nasbook.Search(ChainSpace(kind="mlp"), Digits(max_epochs=2), strategy=FingerprintStopping(past=past), storage=":memory:")
    assert says in str(info.value)


def test_divergence_risk_refuses_a_str_past():
    with pytest.raises(nasbook.InvalidParameterError, match="got str"):
        divergence_risk({"fp_loss_peak": 1.0}, "x")


def test_a_dataframe_past_prints_as_its_shape_on_one_line():
    text = repr(FingerprintStopping(past=pd.DataFrame(PAST)))
    assert "\n" not in text and "past=<DataFrame of shape (4, 2)>" in text


def test_nan_entries_still_count_as_zero():
    assert math.isclose(divergence_risk({"fp_loss_peak": float("nan")}, PAST, k=2), 0.0)


@pytest.mark.parametrize("bad", [0, 1.5, float("nan"), "0.5", None, True, -1])
def test_flag_divergence_refuses_a_threshold_outside_0_1(bad):
    from nasbook.strategies import flag_divergence

    with pytest.raises(nasbook.InvalidParameterError, match=r"flag_divergence\(threshold=\.\.\.\) must be a number in \(0, 1\]"):
        flag_divergence({"fp_loss_peak": 7.5}, PAST, k=2, threshold=bad)


def test_flag_divergence_takes_a_numpy_threshold():
    import numpy as np

    from nasbook.strategies import flag_divergence

    assert flag_divergence({"fp_loss_peak": 7.5}, PAST, k=2, threshold=np.float64(0.5)) is True


def test_features_as_a_str_is_refused_not_matched_inside_names():
    with pytest.raises(nasbook.InvalidParameterError, match=r"features=\.\.\.\) must be a list of fp_\* names or None.*features=\['fp_loss'\]"):
        divergence_risk({"fp_loss_peak": 7.5}, PAST, k=2, features="fp_loss")
    assert divergence_risk({"fp_loss_peak": 7.5}, PAST, k=2, features=("fp_loss_peak",)) == 1.0


def test_a_fingerprint_entry_that_is_not_a_number_is_refused():
    with pytest.raises(nasbook.InvalidParameterError, match=r"divergence_risk\(fingerprint=\.\.\.\) must map fp_\* names to numbers"):
        divergence_risk({"fp_loss_peak": "x"}, PAST)
