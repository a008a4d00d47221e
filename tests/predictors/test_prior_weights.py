"""PriorPredictor(task_weights="agreement"): past tasks weighted by how well they rank the
architectures trained on the new task (RGPE-style task similarity), and its bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import PriorPredictor, RandomForest, kendall_tau
from nasbook.space import GraphSpace


class LinearTasks:
    """A prior over past tasks whose scores are linear in the graph features."""

    def __init__(self, space, weights):
        self.space, self.weights = space, weights

    def predict_tasks(self, archs):
        X = self.space.encode_many(list(archs), "graf")
        return {f"t{i}": X @ w for i, w in enumerate(self.weights)}

    def predict(self, archs):
        return np.mean(list(self.predict_tasks(archs).values()), axis=0)


@pytest.fixture(scope="module")
def setup():
    space = GraphSpace()
    rng = np.random.default_rng(0)
    target = rng.standard_normal(space.encoding_size("graf"))
    # two past tasks like this one, two that rank backwards: their plain mean says nothing
    weights = [target + 0.3 * rng.standard_normal(len(target)) for _ in range(2)]
    weights += [-target + 0.3 * rng.standard_normal(len(target)) for _ in range(2)]
    test = space.enumerate()[::13][:1500]
    return space, LinearTasks(space, weights), target, test, rng


def _tau(model, space, target, test, rng, seed):
    train = [space.sample(rng) for _ in range(20)]
    y = space.encode_many(train, "graf") @ target
    model.fit(train, y, space=space)
    return model, kendall_tau(space.encode_many(test, "graf") @ target, model.predict_mean_std(test)[0])


def test_agreement_weights_keep_the_tasks_that_agree_and_beat_the_fixed_mean(setup):
    space, prior, target, test, rng = setup
    fixed, agree = [], []
    for seed in range(2):
        model = RandomForest(n_estimators=30)
        _, t_fixed = _tau(PriorPredictor(prior, model=model, seed=seed), space, target, test, rng, seed)
        p, t_agree = _tau(PriorPredictor(prior, model=model, task_weights="agreement", seed=seed), space, target, test,
                          rng, seed)
        fixed.append(t_fixed)
        agree.append(t_agree)
        w = p.task_weights_
        assert w.shape == (4,) and np.isclose(w.sum(), 1.0)
        assert w[:2].min() > 0.3 and w[2:].max() == 0.0, w  # the backward tasks get no weight
    assert np.mean(agree) > np.mean(fixed) + 0.15, (agree, fixed)
    assert np.mean(agree) > 0.6


def test_agreement_with_no_agreeing_task_leaves_the_model_alone(setup):
    space, prior, target, test, rng = setup
    backward = LinearTasks(space, [-w for w in prior.weights[:2]])
    p, tau = _tau(PriorPredictor(backward, model=RandomForest(n_estimators=30), task_weights="agreement", seed=0),
                  space, target, test, rng, 0)
    assert not p.task_weights_.any()
    assert p.slope_ == 0.0
    assert tau > 0.2  # the forest alone still learns


def test_agreement_needs_per_task_predictions_and_a_known_choice(setup):
    space, prior, target, test, rng = setup
    archs = test[:12]
    y = np.arange(12.0)
    with pytest.raises(InvalidParameterTypeError, match="predict_tasks"):
        PriorPredictor(lambda a: np.zeros(len(a)), task_weights="agreement").fit(archs, y, space=space)
    with pytest.raises(InvalidParameterError, match="task_weights"):
        PriorPredictor(prior, task_weights="rgpe").fit(archs, y, space=space)

    class Broken(LinearTasks):
        def predict_tasks(self, archs):
            return {"t0": np.full(len(archs), np.nan)}

    with pytest.raises(InvalidParameterError, match="not finite"):
        PriorPredictor(Broken(space, []), task_weights="agreement").fit(archs, y, space=space)
