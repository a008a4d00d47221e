"""GaussianProcess's MAP fit under BoTorch's hyperpriors (``hyperprior``) and its seeded optimiser
restarts (``n_restarts``): docs/benchmarks.md, section 1q-pred."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.predictors import GaussianProcess
from nasbook.predictors._gp_prior import HYPERPRIORS, MapOptimizer


def _theta(gp: GaussianProcess) -> np.ndarray:
    return np.asarray(gp.model_.kernel_.theta)


@pytest.mark.parametrize("hyperprior", ["lognormal", "gamma"])
def test_log_prior_gradient_matches_finite_differences(hyperprior):
    opt = MapOptimizer(hyperprior, 30, {"amp": 0, "ls": 1, "noise": 2})
    theta = np.array([0.3, 1.7, -2.5])
    value, grad = opt.log_prior(theta)
    eps = 1e-6
    fd = [(opt.log_prior(theta + eps * e)[0] - opt.log_prior(theta - eps * e)[0]) / (2 * eps) for e in np.eye(3)]
    assert np.isfinite(value)
    assert np.allclose(grad, fd, rtol=1e-5, atol=1e-6)


def test_lognormal_length_scale_prior_peaks_where_botorch_puts_it():
    # LogNormal(sqrt(2) + log(d)/2, sqrt(3)) in unit-cube units has its mode at exp(loc - scale^2);
    # on standardised columns that is sqrt(12) times further out
    d = 16
    opt = MapOptimizer("lognormal", d, {"amp": 0, "ls": 1, "noise": 2})
    grid = np.linspace(-4, 8, 24001)
    values = [opt.log_prior(np.array([0.0, t, -4.0]))[0] for t in grid]
    mode = np.exp(grid[int(np.argmax(values))])
    expected = np.sqrt(12) * np.exp(np.sqrt(2) + 0.5 * np.log(d) - 3.0)
    assert mode == pytest.approx(expected, rel=2e-3)


@pytest.mark.parametrize("hyperprior", ["lognormal", "gamma"])
def test_map_fit_differs_from_ml_where_the_prior_matters(graf_data, hyperprior):
    # 15 architectures: the likelihood alone leaves the hyperparameters away from the priors' mass
    # (the noise at its floor 1e-6, the lognormal prior's mode at e^-5); the MAP optimum has a higher
    # penalised objective than the ML-II one and a lower marginal likelihood
    space, archs, y, _ = graf_data
    rng = np.random.default_rng(3)
    noisy = y[:15] + rng.normal(0, 0.5 * np.std(y[:15]), 15)
    ml = GaussianProcess(seed=0).fit(archs[:15], noisy, space=space)
    mp = GaussianProcess(seed=0, hyperprior=hyperprior).fit(archs[:15], noisy, space=space)
    t_ml, t_map = _theta(ml), _theta(mp)
    assert np.max(np.abs(t_ml - t_map)) > 0.1
    opt = mp.model_.optimizer
    assert isinstance(opt, MapOptimizer) and opt.hyperprior == hyperprior
    lml = mp.model_.log_marginal_likelihood  # the same training data (standardised, rank-normal) for both

    def penalised(t):
        return lml(t) + opt.log_prior(t)[0]

    assert penalised(t_map) > penalised(t_ml) + 1e-6
    assert lml(t_ml) > lml(t_map) + 1e-6
    if hyperprior == "lognormal":  # the noise moves towards the prior's mode, e^(-4 - 1)
        def off(gp: GaussianProcess) -> float:
            return abs(np.log(gp.model_.kernel_.k2.noise_level) + 5.0)

        assert off(mp) < off(ml)
    mean, std = mp.predict_mean_std(archs[100:140])
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)


def test_ml_ii_keeps_scikit_learns_optimiser(graf_data):
    space, archs, y, _ = graf_data
    gp = GaussianProcess(seed=0).fit(archs[:20], y[:20], space=space)
    assert gp.model_.optimizer == "fmin_l_bfgs_b"


def test_a_fitted_map_gp_pickles(graf_data):
    space, archs, y, _ = graf_data
    gp = GaussianProcess(seed=0, hyperprior="lognormal").fit(archs[:20], y[:20], space=space)
    back = pickle.loads(pickle.dumps(gp))
    assert np.array_equal(back.predict_mean_std(archs[50:60])[0], gp.predict_mean_std(archs[50:60])[0])


@pytest.mark.parametrize("hyperprior", ["none", "lognormal"])
def test_restarts_are_reproducible_with_a_seed_and_never_worse(graf_data, hyperprior):
    space, archs, y, _ = graf_data
    rng = np.random.default_rng(5)
    noisy = y[:40] + rng.normal(0, np.std(y[:40]), 40)
    fits = [GaussianProcess(n_restarts=3, seed=s, hyperprior=hyperprior).fit(archs[:40], noisy, space=space)
            for s in (7, 7, 8)]
    assert np.array_equal(_theta(fits[0]), _theta(fits[1]))
    assert np.array_equal(fits[0].predict_mean_std(archs[60:80])[0], fits[1].predict_mean_std(archs[60:80])[0])
    one = GaussianProcess(n_restarts=0, seed=7, hyperprior=hyperprior).fit(archs[:40], noisy, space=space)
    # the restarts keep the best optimum of the (penalised) objective, the first start among them
    opt = fits[0].model_.optimizer

    def objective(gp: GaussianProcess) -> float:
        t = _theta(gp)
        lp = opt.log_prior(t)[0] if isinstance(opt, MapOptimizer) else 0.0
        return fits[0].model_.log_marginal_likelihood(t) + lp

    assert objective(fits[0]) >= objective(one) - 1e-6
    assert objective(fits[2]) >= objective(one) - 1e-6


def test_restarts_draw_from_the_seed(graf_data):
    # different seeds draw different starts: on a rugged likelihood some fit differs
    space, archs, y, _ = graf_data
    rng = np.random.default_rng(11)
    noisy = rng.normal(size=30)
    thetas = {tuple(np.round(_theta(GaussianProcess(n_restarts=2, seed=s, length_scale_bound="fixed")
                                     .fit(archs[:30], noisy, space=space)), 6)) for s in range(6)}
    assert len(thetas) > 1


@pytest.mark.parametrize(("params", "match"), [
    ({"hyperprior": "laplace"}, "hyperprior"),
    ({"hyperprior": None}, "hyperprior"),
    ({"hyperprior": ["gamma"]}, "hyperprior"),
    ({"n_restarts": -1}, "n_restarts"),
    ({"n_restarts": 2.0}, "n_restarts"),
    ({"n_restarts": True}, "n_restarts"),
])
def test_bad_values_are_refused(graf_data, params, match):
    space, archs, y, _ = graf_data
    with pytest.raises(InvalidParameterError, match=match):
        GaussianProcess(**params).fit(archs[:10], y[:10], space=space)


def test_the_choices_are_listed_in_the_error():
    with pytest.raises(InvalidParameterError) as err:
        GaussianProcess(hyperprior="lognorm")._validate_params()
    for choice in HYPERPRIORS:
        assert repr(choice) in str(err.value)
