"""CurveStopping with an informed start: a LearnedCurves prior fitted on earlier curves, with the
running trial's architecture encoding as features, and the P(final >= reference) rule."""

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.predictors import LearnedCurves
from nasbook.search import TrialState
from nasbook.strategies import CurveStopping
from nasbook.tasks._table import DigitsTable


def _prior(task, rows, features=True):
    space = task.space
    graf = np.asarray(space.encode_many(list(space.enumerate()), "graf"), dtype=np.float64)
    covs = {c: task.curve(c)[rows] for c in ("val_loss", "train_loss")}
    return LearnedCurves().fit(task.curve("val_accuracy")[rows], covs, features=graf[rows] if features else None)


@pytest.mark.slow  # ~115 s under load: a 60-trial search with a learned-curve prior
def test_a_prior_decides_from_the_first_trial_with_the_architectures_features():
    task = DigitsTable()
    prior = _prior(task, np.arange(0, 300, 2))
    rule = CurveStopping(predictor=prior, features="graf", prior_quantile=0.9)
    s = nasbook.Search(task, strategy=rule, budget=60, seed=0, storage=":memory:").run(progress="none")
    first = s.trials[0]
    assert "predicted_final" in first.attrs  # informed before any trial of this search finished
    stopped = [t for t in s.trials if t.state is TrialState.PRUNED]
    assert stopped and all(t.attrs["predicted_p_reference"] < 0.05 for t in stopped)
    assert all(t.attrs["predicted_p_reference"] >= 0.05 for t in s.trials
               if t.state is TrialState.COMPLETE and "predicted_p_reference" in t.attrs)
    assert s.best.state is TrialState.COMPLETE
    assert rule.reference() >= np.quantile(task.curve("val_accuracy")[::2, -1], 0.9) - 1e-12
    assert rule.predictor_.n_curves_ > prior.n_curves_  # refitted on the prior's curves plus this search's
    assert prior.n_curves_ == 150 and not hasattr(prior, "seen_")  # the user's prior is left as it was


def test_the_probability_rule_mirrors_for_minimisation():
    rule = CurveStopping(predictor="last-value").setup(nasbook.tasks.DigitsTable().space, seed=0, mode="max")
    assert rule._p_reaches(0.9, 0.05, 0.9) == pytest.approx(0.5)
    assert rule._p_reaches(0.8, 0.05, 0.9) == pytest.approx(0.02275, abs=1e-4)
    low = CurveStopping(predictor="last-value").setup(nasbook.tasks.DigitsTable().space, seed=0, mode="min")
    assert low._p_reaches(0.8, 0.05, 0.9) == pytest.approx(1 - 0.02275, abs=1e-4)
    assert rule._p_reaches(0.5, float("nan"), 0.9) == 1.0  # no spread: never stopped blind


def test_a_prior_and_its_features_must_agree():
    task = DigitsTable()
    with_graf, without = _prior(task, np.arange(40)), _prior(task, np.arange(40), features=False)
    run = lambda rule: nasbook.Search(task, strategy=rule, budget=9, seed=0, storage=":memory:").run(progress="none")  # noqa: E731
    with pytest.raises(InvalidParameterError, match=r"features=\.\.\."):
        run(CurveStopping(predictor=with_graf))
    with pytest.raises(InvalidParameterError, match="without static features"):
        run(CurveStopping(predictor=without, features="graf"))
    with pytest.raises(InvalidParameterError, match=r"prior_quantile=\.\.\.\) must be a number in \[0, 1\]"):
        run(CurveStopping(predictor=with_graf, features="graf", prior_quantile=1.5))
