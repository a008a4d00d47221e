"""``divergence_risk``'s yardstick: a few extreme past blow-ups must not make a diverging run look healthy.

It scaled each entry by its std among *all* past runs, so two runs stopped at step 1 with loss peaks 18 and 39
(probe 14) stretched the loss-peak scale until a run that blew up more slowly (peak 5) lay nearer the healthy runs:
risk 0. Entries are now compressed (``sign(v) log(1 + |v|)``) and scaled by the spread of the runs that did not
diverge (benchmarks/fingerprint_risk.py, docs/benchmarks.md)."""
import pytest

from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import FingerprintStopping, divergence_risk, flag_divergence
from nasbook.trial import Decision

HEALTHY = [
    {"fp_loss_peak": 0.0, "fp_grad_max": 0.5, "fp_grad_median": 0.1, "fp_nonfinite": 0.0},
    {"fp_loss_peak": 0.1, "fp_grad_max": 0.7, "fp_grad_median": 0.2, "fp_nonfinite": 0.0},
    {"fp_loss_peak": 0.0, "fp_grad_max": 0.4, "fp_grad_median": -0.1, "fp_nonfinite": 0.0},
]
#: two runs the gradient check stopped at step 1: huge peaks, one step (median = max)
EXTREME = [
    {"fp_loss_peak": 18.0, "fp_grad_max": 6.0, "fp_grad_median": 6.0, "fp_nonfinite": 0.0},
    {"fp_loss_peak": 39.0, "fp_grad_max": 9.0, "fp_grad_median": 9.0, "fp_nonfinite": 0.0},
]
PAST = [{**h, "diverged": False} for h in HEALTHY] + [{**d, "diverged": True} for d in EXTREME]
#: a run blowing up over several steps: loss 150 times its start, gradients 100-300 times the healthy ones'
SLOW_BLOWUP = {"fp_loss_peak": 5.0, "fp_grad_max": 2.5, "fp_grad_median": 1.0, "fp_nonfinite": 0.0}
NEW_HEALTHY = {"fp_loss_peak": 0.05, "fp_grad_max": 0.6, "fp_grad_median": 0.0, "fp_nonfinite": 0.0}


@pytest.mark.parametrize("k", [1, 2])
def test_a_slow_blowup_scores_above_healthy_runs_despite_extreme_past_runs(k):
    risk = divergence_risk(SLOW_BLOWUP, PAST, k=k)  # was 0.0: its nearest past runs were healthy
    healthy = [divergence_risk(NEW_HEALTHY, PAST, k=k),
               *(divergence_risk(PAST[i], PAST[:i] + PAST[i + 1:], k=k) for i in range(len(HEALTHY)))]
    assert risk >= 0.5 and risk > max(healthy) and max(healthy) == 0.0
    assert flag_divergence(SLOW_BLOWUP, PAST, k=k) and not flag_divergence(NEW_HEALTHY, PAST, k=k)


def test_a_more_extreme_past_run_does_not_stretch_the_yardstick():
    worse = {"fp_loss_peak": 1e4, "fp_grad_max": 30.0, "fp_grad_median": 30.0, "fp_nonfinite": 1.0, "diverged": True}
    assert divergence_risk(SLOW_BLOWUP, [*PAST, worse], k=1) == 1.0
    assert divergence_risk(NEW_HEALTHY, [*PAST, worse], k=1) == 0.0


def test_fingerprint_stopping_stops_the_slow_blowup():
    s = FingerprintStopping(base="random", past=PAST, k=1).setup(GraphSpace(ops=PROTEINS_OPS), seed=0,
                                                                metric="val_accuracy")
    s.ask(), s.ask()
    assert s.on_report(0, 0, {"val_accuracy": 0.1, **SLOW_BLOWUP}) is Decision.STOP
    assert s.on_report(1, 0, {"val_accuracy": 0.5, **NEW_HEALTHY}) is Decision.CONTINUE
    assert s.stopped_ == {0: 1.0}


def test_with_fewer_than_two_healthy_past_runs_all_runs_give_the_scale():
    past = [PAST[0], *PAST[3:]]  # one healthy run: its spread is undefined, all past runs scale
    assert divergence_risk(NEW_HEALTHY, past, k=1) == 0.0
    assert divergence_risk({**SLOW_BLOWUP, "fp_loss_peak": 30.0}, past, k=1) == 1.0
