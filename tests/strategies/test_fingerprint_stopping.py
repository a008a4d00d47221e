"""Run fingerprints: divergence_risk against past outcomes, FingerprintStopping, and real Digits runs."""

from __future__ import annotations

import math

import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import FingerprintStopping, divergence_risk, fingerprint_frame, flag_divergence, get_strategy
from nasbook.trial import Decision, Trial, TrialState

HEALTHY = {"fp_loss_trend": -1.0, "fp_loss_peak": 0.0, "fp_grad_max": 0.2, "fp_nonfinite": 0.0, "fp_steps": 50.0}
BAD = {"fp_loss_trend": 6.0, "fp_loss_peak": 9.0, "fp_grad_max": 3.5, "fp_nonfinite": 0.0, "fp_steps": 50.0}


def _past(n=4):
    rows = []
    for i in range(n):
        rows.append({**{k: v + 0.05 * i for k, v in HEALTHY.items()}, "diverged": False})
        rows.append({**{k: v + 0.05 * i for k, v in BAD.items()}, "diverged": True})
    return rows


def test_divergence_risk_follows_the_nearest_past_runs():
    past = _past()
    assert divergence_risk(BAD, past, k=3) == 1.0
    assert divergence_risk(HEALTHY, past, k=3) == 0.0
    assert flag_divergence(BAD, past) and not flag_divergence(HEALTHY, past)
    assert math.isnan(divergence_risk(BAD, []))  # nothing to compare with: unknown, never flagged
    assert not flag_divergence(BAD, [])
    # fp_steps says when, not how: a short early fingerprint of a bad run is still flagged
    assert flag_divergence({**BAD, "fp_steps": 5.0}, past)


def test_divergence_risk_reads_a_state_column_and_refuses_bad_past():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_past()).assign(state=lambda f: f["diverged"].map({True: "diverged", False: "complete"}))
    assert divergence_risk(BAD, frame.drop(columns="diverged"), k=2) == 1.0
    with pytest.raises(InvalidParameterError, match="fp_"):
        divergence_risk(BAD, [{"loss": 1.0, "diverged": True}])
    with pytest.raises(InvalidParameterError, match="diverged"):
        divergence_risk(BAD, [{"fp_loss_peak": 1.0}])
    with pytest.raises(InvalidParameterTypeError, match="fingerprint"):
        divergence_risk([1.0, 2.0], _past())  # type: ignore[arg-type]


def test_fingerprint_stopping_stops_a_trial_that_looks_like_past_diverged_runs():
    space = GraphSpace(ops=PROTEINS_OPS)
    s = get_strategy("fingerprint-stopping", base="random", past=_past(), k=3).setup(space, seed=0, metric="val_accuracy")
    a, b = s.ask(), s.ask()
    assert s.on_report(0, 0, {"val_accuracy": 0.1, **BAD}) is Decision.STOP
    assert s.on_report(1, 0, {"val_accuracy": 0.5, **HEALTHY}) is Decision.CONTINUE
    assert s.stopped_ == {0: 1.0}
    # what finished joins the past; a PRUNED trial's outcome is unknown and does not
    n = len(s._records)
    s.tell(Trial(0, a, TrialState.PRUNED, 0.1, metrics={"val_accuracy": 0.1, **BAD}))
    s.tell(Trial(1, b, TrialState.COMPLETE, 0.5, metrics={"val_accuracy": 0.5, **HEALTHY}))
    assert len(s._records) == n + 1
    assert "n_stopped=1" in repr(s)


def test_fingerprint_stopping_learns_from_its_own_diverged_trials():
    space = GraphSpace(ops=PROTEINS_OPS)
    s = FingerprintStopping(k=1).setup(space, seed=0)
    assert s.on_report(0, 0, BAD) is Decision.CONTINUE  # no diverged run known yet
    a = s.ask()
    s.tell(Trial(0, a, TrialState.DIVERGED, None, metrics=BAD, reason="gradient norm exploded"))
    assert s.on_report(1, 0, BAD) is Decision.STOP


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"threshold": 0}, "threshold"), ({"k": 0}, "k"), ({"base": "asha"}, "proposing strategy"),
    ({"past": 3}, "past"),
])
def test_fingerprint_stopping_bad_input(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        FingerprintStopping(**kwargs).setup(GraphSpace(ops=PROTEINS_OPS))


@pytest.mark.slow  # imports lightning
def test_fingerprint_of_plain_numbers_is_finite():
    pytest.importorskip("lightning")
    from nasbook.training import FINGERPRINT_KEYS, fingerprint

    fp = fingerprint([2.3, float("nan"), 1e300, 2.0], [0.0, float("inf"), 3.0])
    assert list(fp) == list(FINGERPRINT_KEYS)
    assert all(math.isfinite(v) for v in fp.values())
    assert fp["fp_nonfinite"] == 1.0
    assert fingerprint([], [])["fp_steps"] == 0.0


@pytest.mark.slow
def test_digits_runs_a_too_high_lr_is_fingerprinted_flagged_and_stopped():
    pytest.importorskip("lightning")
    from nasbook.search import Search
    from nasbook.space import ChainSpace
    from nasbook.tasks import Digits

    space = ChainSpace(kind="mlp", max_depth=2)

    def run(lr, seed, strategy="random", budget=2, health=True):
        return Search(space, Digits(max_epochs=3, lr=lr, health=health), strategy=strategy, budget=budget, seed=seed,
                      storage=":memory:").run(progress="none")

    bad, good = run(1.0, 1, budget=3), run(1e-2, 1, budget=3)
    assert {t.state for t in bad.trials} == {TrialState.DIVERGED}  # the health checks end them (at epoch 0)
    assert {t.state for t in good.trials} == {TrialState.COMPLETE}
    past = fingerprint_frame([*bad.trials, *good.trials])
    assert len(past) == 6 and past["diverged"].sum() == 3
    fp_bad, fp_good = bad.trials[0].metrics, good.trials[0].metrics
    assert fp_bad["fp_loss_peak"] > fp_good["fp_loss_peak"] + 3  # the loss shot up before it collapsed
    assert fp_bad["fp_grad_max"] > fp_good["fp_grad_max"] + 1

    new_bad, new_good = run(1.0, 7, budget=1), run(1e-2, 7, budget=1)
    assert flag_divergence(new_bad.trials[0].metrics, past, k=3)
    assert not flag_divergence(new_good.trials[0].metrics, past, k=3)

    # the divergence check would end these runs at epoch 0 too; loosened, FingerprintStopping is the one that stops
    # them there (from epoch 0's report: the fingerprint resembles the past diverged runs')
    stopped = run(1.0, 9, strategy=FingerprintStopping(past=past, k=3), budget=2, health={"divergence_factor": 1e9})
    pruned = [t for t in stopped.trials if t.state is TrialState.PRUNED]
    assert pruned and len(stopped.strategy.stopped_) == len(pruned)
    assert all(t.epochs == 1 for t in pruned)  # stopped after epoch 0


@pytest.mark.parametrize("args, kwargs, param", [
    (({"fp_loss_peak": 1.0}, "runs.csv"), {}, "past"),
    (({"fp_loss_peak": 1.0}, None), {"k": 0}, "k"),
    (([("fp_loss_peak", 1.0)], None), {}, "fingerprint"),
    (({"fp_loss_peak": 1.0}, None), {"features": "fp_loss_peak"}, "features"),
    (({"fp_loss_peak": "high"}, None), {}, "fingerprint"),
])
def test_errors_raised_through_flag_divergence_name_flag_divergence(args, kwargs, param):
    # flag_divergence calls divergence_risk, whose errors named divergence_risk(past=...): a call the user never made
    fingerprint, past = args
    past = _past() if past is None else past
    with pytest.raises(InvalidParameterError, match=rf"^flag_divergence\({param}=\.\.\.\)"):
        flag_divergence(fingerprint, past, **kwargs)
    with pytest.raises(InvalidParameterError, match=rf"^divergence_risk\({param}=\.\.\.\)"):
        divergence_risk(fingerprint, past, **kwargs)
