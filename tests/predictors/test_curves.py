"""Learning-curve predictors: extrapolation, uncertainty, monotone behaviour, bad input."""

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, NotFittedError
from nasbook.predictors import FAMILIES, LastValue, LearnedCurves, ParametricCurves, get_curve_predictor

X = np.arange(1, 41, dtype=np.float64)


def pow_law(c=0.95, a=0.5, alpha=0.8, noise=0.0, seed=0):
    return c - a * X**-alpha + noise * np.random.default_rng(seed).normal(size=len(X))


@pytest.mark.parametrize("families", [FAMILIES, ("pow3",)])
def test_a_power_law_is_extrapolated_within_its_interval(families):
    y = pow_law()
    mean, std = ParametricCurves(families=families).predict_arrays([y[:10]], 40)
    assert abs(mean[0] - y[-1]) < 0.02
    assert abs(mean[0] - y[-1]) < 2 * std[0]
    assert mean[0] > y[9]  # a rising curve is predicted to keep rising


def test_more_epochs_predict_better_and_more_surely():
    y = pow_law(alpha=0.6, noise=0.002)
    errs, stds = [], []
    for L in (3, 6, 12, 24):
        m, s = ParametricCurves().predict_arrays([y[:L]], 40)
        errs.append(abs(m[0] - y[-1]))
        stds.append(s[0])
    assert errs[-1] < errs[0] and stds == sorted(stds, reverse=True)


@pytest.mark.parametrize("predictor", [ParametricCurves(), LastValue()])
def test_std_grows_with_the_distance_extrapolated(predictor):
    y = pow_law(noise=0.003)[:6]
    stds = [predictor.predict_arrays([y], t)[1][0] for t in (8, 12, 20, 40)]
    assert np.all(np.diff(stds) > 0)


def test_monotone_in_the_target_and_in_the_data_and_symmetric_under_min():
    y = pow_law()[:5]
    means = [ParametricCurves().predict_arrays([y], t)[0][0] for t in (6, 10, 20, 40)]
    assert np.all(np.diff(means) >= -1e-12)
    low, high = ParametricCurves().predict_arrays([y, y + 0.02], 40)[0]
    assert high > low
    up = ParametricCurves().predict_arrays([y], 40)
    down = ParametricCurves(mode="min").predict_arrays([-y], 40)
    np.testing.assert_allclose(down[0], -up[0]) and np.testing.assert_allclose(down[1], up[1])


def test_bounds_keep_an_accuracy_below_one():
    jump = np.array([0.1, 0.8, 0.95])
    assert ParametricCurves().predict_arrays([jump], 50)[0][0] > 1.0  # unbounded families overshoot
    assert ParametricCurves(bounds=(0, 1)).predict_arrays([jump], 50)[0][0] <= 1.0


def test_last_value_ragged_batches_and_the_dataset():
    ds = LastValue().predict([[0.1, 0.2], [0.3], [0.5, 0.6, 0.65]], 5)
    np.testing.assert_allclose(ds["mean"], [0.2, 0.3, 0.65])
    assert np.isfinite(ds["std"]).all() and (ds["std"] > 0).all()
    assert list(ds["n_epochs"].values) == [2, 1, 3] and ds.attrs["target_epoch"] == 5
    done = LastValue().predict_arrays([[0.1, 0.2, 0.3]], 3)  # already at the target: its last value, surely
    assert done[0][0] == 0.3 and done[1][0] == 0


def test_last_value_from_one_epoch_has_a_finite_spread_that_grows_with_the_distance():
    mean, std = LastValue().predict_arrays([[0.4], [80.0], [0.0]], 5)
    assert np.isfinite(std).all() and (std > 0).all()
    np.testing.assert_allclose(std[1] / std[0], 200.0)  # relative to the value: the same in any units
    far = LastValue().predict_arrays([[0.4]], 17)[1]
    np.testing.assert_allclose(far / std[0], 2.0)  # a random walk: sqrt(16 / 4) as wide
    low = LastValue(mode="min").predict_arrays([[0.4]], 5)
    np.testing.assert_array_equal(low[1], std[:1])


def _table(n=120, e=8, seed=0):
    """Curves whose final value is foretold by their first-epoch train loss, not by their first value."""
    rng = np.random.default_rng(seed)
    final = rng.uniform(0.8, 0.99, n)
    start = rng.uniform(0.1, 0.7, n)  # unrelated to the final value
    x = np.arange(1, e + 1)
    acc = final[:, None] - (final - start)[:, None] * x[None, :] ** -1.5 + 0.002 * rng.normal(size=(n, e))
    loss = np.exp(-3 * final)[:, None] * (1 + 0.5 / x[None, :]) * np.exp(0.01 * rng.normal(size=(n, e)))
    return acc, loss


def test_learned_curves_use_covariates_and_generalise_to_unseen_curves():
    from scipy.stats import kendalltau

    acc, loss = _table()
    model = LearnedCurves().fit(acc[:80], {"train_loss": loss[:80]})
    mean, std = model.predict_arrays(acc[80:, :1], 8, {"train_loss": loss[80:, :1]})
    assert kendalltau(mean, acc[80:, -1])[0] > 0.6 > abs(kendalltau(acc[80:, 0], acc[80:, -1])[0])
    assert np.all(std > 0)
    assert model.predict(acc[80:, :3], 8, {"train_loss": loss[80:, :3]})["mean"].shape == (40,)


def test_bad_input_names_the_parameter_what_is_allowed_and_what_came():
    p = ParametricCurves()
    with pytest.raises(InvalidParameterError, match=r"curves\[1\] is nan at epoch 2"):
        p.predict_arrays([[0.1, 0.2], [0.1, np.nan]], 5)
    with pytest.raises(InvalidParameterError, match=r"at least 2 epochs; curves\[0\] has 1"):
        p.predict_arrays([[0.1]], 5)
    with pytest.raises(InvalidParameterError, match=r"at least 1 epoch; curves\[0\] has 0"):
        LastValue().predict_arrays([[]], 5)
    with pytest.raises(InvalidParameterError, match=r"target_epoch=\.\.\.\) must be at or after the end of every curve "
                                                    r"\(>= 4 epochs\); got 3"):
        p.predict_arrays([[0.1, 0.2, 0.3, 0.4]], 3)
    with pytest.raises(InvalidParameterError, match=r"2-D array .* got an array of shape \(3,\)"):
        p.predict_arrays(np.array([0.1, 0.2, 0.3]), 5)
    with pytest.raises(InvalidParameterError, match=r"got an array of shape \(1, 2, 3\)"):
        p.predict_arrays(np.zeros((1, 2, 3)), 5)
    with pytest.raises(InvalidParameterError, match=r"curves\[0\] has shape \(\)"):
        p.predict_arrays([0.1, 0.2], 5)
    with pytest.raises(InvalidParameterError, match=r"target_epoch=\.\.\.\) must be an int >= 1; got 0"):
        p.predict_arrays([[0.1, 0.2]], 0)
    with pytest.raises(InvalidParameterError, match=r"families=\.\.\.\).*'pow4'"):
        ParametricCurves(families=("pow4",)).predict_arrays([[0.1, 0.2]], 5)
    with pytest.raises(InvalidParameterError, match=r"covariates\['loss'\] must have the curves' lengths"):
        LastValue().predict_arrays([[0.1, 0.2]], 5, {"loss": [[1.0]]})
    acc, loss = _table(40)
    with pytest.raises(NotFittedError):
        LearnedCurves().predict_arrays(acc[:, :2], 8)
    model = LearnedCurves().fit(acc, {"train_loss": loss})
    with pytest.raises(InvalidParameterError, match=r"covariates it was fitted with, \['train_loss'\]; got \[\]"):
        model.predict_arrays(acc[:, :2], 8)
    with pytest.raises(InvalidParameterError, match=r"at most 8, the length of the curves it learned from; got 9"):
        model.predict_arrays(acc[:, :2], 9, {"train_loss": loss[:, :2]})
    with pytest.raises(InvalidParameterError, match=r"min_curves=10 curves; got 5"):
        LearnedCurves().fit(acc[:5])
    with pytest.raises(InvalidParameterError, match=r"Available: 'last-value', 'learned', 'parametric', 'pow3'"):
        get_curve_predictor("pow5")


def test_learned_curves_use_static_features_that_carry_the_final_value():
    # the final value is set by a static feature the prefix cannot see: only a model given it ranks well
    rng = np.random.default_rng(0)
    n = 120
    feat = rng.uniform(size=(n, 1))
    start = rng.uniform(0.2, 0.3, size=n)
    curves = np.stack([np.linspace(s, 0.5 + 0.4 * f, 10) for s, f in zip(start, feat[:, 0])])
    curves[:, :2] = start[:, None]  # the first two epochs say nothing about the end
    tr, te = slice(0, 80), slice(80, None)
    plain = LearnedCurves().fit(curves[tr]).predict_arrays(curves[te, :2], 10)[0]
    with_f = LearnedCurves().fit(curves[tr], features=feat[tr]).predict_arrays(curves[te, :2], 10, features=feat[te])[0]
    truth = curves[te, -1]
    assert np.abs(with_f - truth).mean() < 0.2 * np.abs(plain - truth).mean()


def test_learned_curves_features_must_match_what_was_fitted():
    curves = np.tile(np.linspace(0.2, 0.9, 6), (12, 1)) + np.linspace(0, 0.05, 12)[:, None]
    model = LearnedCurves().fit(curves, features=np.arange(24.0).reshape(12, 2))
    with pytest.raises(InvalidParameterError, match=r"\(n_curves, 2\) array"):
        model.predict_arrays(curves[:, :3], 6)
    with pytest.raises(InvalidParameterError, match=r"\(n_curves, 2\) array"):
        model.predict_arrays(curves[:, :3], 6, features=np.zeros((12, 3)))
    with pytest.raises(InvalidParameterError, match="one row per curve"):
        LearnedCurves().fit(curves, features=np.zeros((5, 2)))
    with pytest.raises(InvalidParameterError, match="finite"):
        LearnedCurves().fit(curves, features=np.full((12, 2), np.nan))
    plain = LearnedCurves().fit(curves)
    with pytest.raises(InvalidParameterError, match="fitted without features"):
        plain.predict_arrays(curves[:, :3], 6, features=np.zeros((12, 2)))
    assert model.predict_arrays(curves[:, :3], 6, features=np.zeros((12, 2)))[0].shape == (12,)
