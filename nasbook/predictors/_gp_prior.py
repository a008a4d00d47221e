"""Hyperpriors for :class:`~nasbook.predictors.GaussianProcess`: a maximum a posteriori (MAP) fit of
the kernel's amplitude, length scale and noise, the log prior added to the log marginal likelihood.

The priors are BoTorch's (``botorch.models.utils.gpytorch_modules``), stated there for inputs
scaled to the unit cube and standardised targets; the GP here sees standardised columns, so a
length scale ``l`` on them is read as ``l / sqrt(12)`` in the unit cube's units (a column uniform on
[0, 1] has sd ``1 / sqrt(12)``). The targets (rank-normal scores) have unit variance as BoTorch's.
"""

from __future__ import annotations

from collections.abc import Callable
from math import log, sqrt
from typing import Any

import numpy as np

#: the choices of ``GaussianProcess(hyperprior=...)``
HYPERPRIORS: tuple[str, ...] = ("none", "lognormal", "gamma")
#: log of the factor from unit-cube to standardised units for a length scale
LOG_UNIT = 0.5 * log(12.0)


def _lognormal(theta: float, loc: float, scale: float) -> tuple[float, float]:
    """Log density (up to a constant) of LogNormal(loc, scale) at exp(theta), and its derivative in theta."""
    z = (theta - loc) / scale
    return -theta - 0.5 * z * z, -1.0 - z / scale


def _gamma(theta: float, shape: float, rate: float) -> tuple[float, float]:
    """Log density (up to a constant) of Gamma(shape, rate) at exp(theta), and its derivative in theta."""
    v = np.exp(theta)
    return (shape - 1.0) * theta - rate * v, (shape - 1.0) - rate * v


def _priors(hyperprior: str, n_dims: int) -> dict[str, Callable[[float], tuple[float, float]]]:
    """The log prior of each of ``"amp"``, ``"ls"`` (standardised units) and ``"noise"`` as a
    function of the hyperparameter's log."""
    amp = lambda t: _gamma(t, 2.0, 0.15)  # noqa: E731  (BoTorch's output-scale prior, both variants)
    if hyperprior == "lognormal":  # Hvarfner et al. (2024), BoTorch's default since 0.12
        loc = sqrt(2.0) + 0.5 * log(max(1, n_dims))
        return {"amp": amp, "ls": lambda t: _lognormal(t - LOG_UNIT, loc, sqrt(3.0)),
                "noise": lambda t: _lognormal(t, -4.0, 1.0)}
    # "gamma": BoTorch's earlier default (SingleTaskGP before 0.12)
    return {"amp": amp, "ls": lambda t: _gamma(t - LOG_UNIT, 3.0, 6.0), "noise": lambda t: _gamma(t, 1.1, 0.05)}


class MapOptimizer:
    """The ``optimizer`` of scikit-learn's ``GaussianProcessRegressor`` for a MAP fit: L-BFGS-B
    (as scikit-learn's own) on the negative log marginal likelihood minus the log hyperprior.

    Each of the regressor's restarts calls it; the regressor keeps the run with the lowest returned
    value, here the penalised one.

    Parameters
    ----------
    hyperprior : {"lognormal", "gamma"}
        Which priors (module docstring).
    n_dims : int
        Columns the kernel sees (the log-normal length-scale prior grows with their number).
    index : dict of str to int
        The position of ``"amp"``, ``"ls"`` and ``"noise"`` in the kernel's ``theta``.
    """

    def __init__(self, hyperprior: str, n_dims: int, index: dict[str, int]):
        self.hyperprior = hyperprior
        self.n_dims = n_dims
        self.index = dict(index)

    def log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The log hyperprior at ``theta`` (log hyperparameters; up to a constant) and its gradient.

        Parameters
        ----------
        theta : numpy.ndarray
            The kernel's log hyperparameters.

        Returns
        -------
        value : float
            The log prior density.
        grad : numpy.ndarray
            Its gradient in ``theta``.
        """
        total, grad = 0.0, np.zeros_like(theta, dtype=np.float64)
        for name, fn in _priors(self.hyperprior, self.n_dims).items():
            i = self.index[name]
            v, g = fn(float(theta[i]))
            total += v
            grad[i] += g
        return total, grad

    def __call__(self, obj_func: Callable[..., Any], initial_theta: np.ndarray,
                 bounds: np.ndarray) -> tuple[np.ndarray, float]:
        """Minimise ``obj_func`` (the negative log marginal likelihood) minus the log prior.

        Parameters
        ----------
        obj_func : callable
            scikit-learn's objective: ``obj_func(theta, eval_gradient=True)`` gives the negative
            log marginal likelihood and its gradient.
        initial_theta : numpy.ndarray
            The start.
        bounds : numpy.ndarray
            Lower and upper bound of each entry of ``theta``.

        Returns
        -------
        theta : numpy.ndarray
            The MAP estimate within the bounds.
        value : float
            The penalised objective there.
        """
        from scipy.optimize import minimize

        def penalised(theta: np.ndarray) -> tuple[float, np.ndarray]:
            nlml, grad = obj_func(theta, eval_gradient=True)
            lp, glp = self.log_prior(theta)
            return float(nlml) - lp, np.asarray(grad, dtype=np.float64) - glp

        res = minimize(penalised, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds)
        return res.x, float(res.fun)
