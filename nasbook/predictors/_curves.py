"""Learning-curve extrapolation: a running trial's final value from its first epochs.

A curve predictor takes partial curves (the objective after epochs 1..L of each trial; a 2-D array
or a ragged list) and a ``target_epoch`` T >= L, and returns the value after epoch T as a mean and
a standard deviation per curve. :class:`BaseCurvePredictor` validates the input once and hands
each group of equal-length curves to a hook on a plain ``(n, L)`` float array:

- :class:`LastValue`: the last observed value (the baseline that is hard to beat late in training);
- :class:`ParametricCurves`: a Bayesian average over a grid of saturating parametric families
  (pow3, exponential, log-power, Janoschek, MMF, ilog2), vectorised across curves;
- :class:`LearnedCurves` (``_curves_learned.py``): a model trained on earlier full curves.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, unknown_choice
from nasbook._params import Params

if TYPE_CHECKING:
    import xarray as xr

Mode = Literal["max", "min"]
Curves = Any  # array-like (n, L) or a sequence of 1-D sequences
Arrays = tuple[np.ndarray, np.ndarray]


def _as_curves(owner: str, param: str, curves: object, min_length: int) -> list[np.ndarray]:
    """The curves as a list of finite 1-D float arrays of length >= ``min_length``, or a clear error."""
    allowed = "a 2-D array (n_curves, n_epochs) or a sequence of 1-D curves"
    if isinstance(curves, (str, bytes, Mapping)) or curves is None:
        raise InvalidParameterTypeError(f"{owner}({param}=...) must be {allowed}; got {_brief(curves)} of type {type(curves).__name__}.")
    if not isinstance(curves, (np.ndarray, Sequence)) and hasattr(curves, "__array__"):
        curves = np.asarray(curves)  # a pandas DataFrame (one row per curve), an xarray DataArray, a torch tensor
    if isinstance(curves, np.ndarray):
        if curves.ndim != 2:
            raise InvalidParameterError(f"{owner}({param}=...) must be {allowed}; got an array of shape {curves.shape}. "
                                        "Wrap one curve as [curve].")
        try:
            rows = [np.asarray(r, dtype=np.float64) for r in curves]
        except (TypeError, ValueError):
            raise InvalidParameterTypeError(f"{owner}({param}=...) must hold numbers; got {_brief(curves)}.") from None
    else:
        if not isinstance(curves, Sequence):
            raise InvalidParameterTypeError(f"{owner}({param}=...) must be {allowed}; got {_brief(curves)} of type {type(curves).__name__}.")
        rows = []
        for i, c in enumerate(curves):
            try:
                r = np.asarray(c, dtype=np.float64)
            except (TypeError, ValueError):
                raise InvalidParameterTypeError(f"{owner}({param}=...): {param}[{i}] must be a sequence of numbers; got {_brief(c)}.") from None
            if r.ndim != 1:
                raise InvalidParameterError(f"{owner}({param}=...) must be {allowed}; {param}[{i}] has shape {r.shape}"
                                            + (" (one curve is passed as [curve], not as a list of numbers)." if r.ndim == 0 else "."))
            rows.append(r)
    for i, r in enumerate(rows):
        if len(r) < min_length:
            raise InvalidParameterError(
                f"{owner}({param}=...) needs curves of at least {min_length} epoch{'s' * (min_length > 1)}; {param}[{i}] has {len(r)}."
                + (" LastValue (or LearnedCurves) predicts from one epoch." if min_length > 1 else "")
            )
        bad = np.flatnonzero(~np.isfinite(r))
        if bad.size:
            raise InvalidParameterError(
                f"{owner}({param}=...) must hold finite numbers; {param}[{i}] is {float(r[bad[0]])!r} at epoch {int(bad[0]) + 1} "
                "(a diverged trial has no curve to extrapolate: drop it first)."
            )
    return rows


def _brief(value: object) -> str:
    """``repr(value)`` on one line (a DataFrame's repr spans many), at most 60 characters."""
    return " ".join(repr(value).split())[:60]


def _check_target(owner: str, target_epoch: object, lengths: Sequence[int]) -> int:
    target_epoch = check_int(owner, "target_epoch", target_epoch, minimum=1)
    t = int(target_epoch)  # type: ignore[call-overload]
    if lengths and max(lengths) > t:
        i = int(np.argmax(lengths))
        raise InvalidParameterError(
            f"{owner}(target_epoch=...) must be at or after the end of every curve (>= {max(lengths)} epochs); got {t}, "
            f"before the end of curves[{i}] ({lengths[i]} epochs)."
        )
    return t


def _check_covariates(owner: str, covariates: object, rows: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    if covariates is None:
        return {}
    if not isinstance(covariates, Mapping):
        raise InvalidParameterTypeError(f"{owner}(covariates=...) must be a dict of name -> curves (like curves) or None; "
                                        f"got {covariates!r:.60} of type {type(covariates).__name__}.")
    out = {}
    for name, cov in covariates.items():
        c = _as_curves(owner, f"covariates[{name!r}]", cov, 1)
        if [len(r) for r in c] != [len(r) for r in rows]:
            raise InvalidParameterError(f"{owner}(covariates=...): covariates[{name!r}] must have the curves' lengths "
                                        f"{[len(r) for r in rows][:8]}; got {[len(r) for r in c][:8]}.")
        out[str(name)] = c
    return out


def _check_features(owner: str, features: object, n: int) -> np.ndarray | None:
    """Static per-curve features as a finite ``(n, d)`` float array, or None."""
    if features is None:
        return None
    try:
        F = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterTypeError(f"{owner}(features=...) must be a 2-D array of numbers (n_curves, n_features) or "
                                        f"None; got {features!r:.60}.") from None
    if F.ndim != 2 or F.shape[0] != n:
        raise InvalidParameterError(f"{owner}(features=...) must have shape ({n}, n_features), one row per curve; "
                                    f"got shape {F.shape}.")
    if not np.isfinite(F).all():
        raise InvalidParameterError(f"{owner}(features=...) must hold finite numbers; row "
                                    f"{int(np.flatnonzero(~np.isfinite(F).all(axis=1))[0])} does not.")
    return F


class BaseCurvePredictor(Params, abc.ABC):
    """Predicts the value of a learning curve at ``target_epoch`` from its first epochs.

    Subclasses implement ``_predict_block(Y, T, covariates) -> (mean, std)`` on an ``(n, L)``
    array of equal-length curves, oriented so that higher is better (``mode="min"`` curves are
    negated before and after). Curves that already reach ``target_epoch`` are answered with their
    last value and std 0.

    Parameters
    ----------
    mode : {"max", "min"}
        ``"max"`` for curves that rise as training goes on (accuracy), ``"min"`` for those that
        fall (a loss).
    """

    #: the fewest epochs a curve must have
    min_length: ClassVar[int] = 1
    #: the fewest epochs whose own changes give the predicted spread; a shorter curve gets a wide, generic
    #: one (LastValue's one-epoch curves), which CurveStopping never stops a trial on
    min_spread_length: ClassVar[int] = 1
    alias: ClassVar[str] = ""

    def __init__(self, mode: Mode = "max"):
        self.mode = mode

    def _validate_params(self) -> None:
        if self.mode not in ("max", "min"):
            raise unknown_choice(f"{type(self).__name__}(mode=...)", self.mode, ("max", "min"))

    @abc.abstractmethod
    def _predict_block(self, Y: np.ndarray, target_epoch: int, covariates: dict[str, np.ndarray],
                       features: np.ndarray | None = None) -> Arrays:
        """Mean and std at ``target_epoch`` for each row of ``Y`` (n, L), L < target_epoch, higher is better
        (``features``: the rows' static features, or None)."""

    def predict_arrays(self, curves: Curves, target_epoch: int, covariates: Mapping[str, Curves] | None = None,
                       features: Any = None) -> Arrays:
        """The fast path of :meth:`predict`: ``(mean, std)``, two float arrays of one value per curve.

        Parameters
        ----------
        curves : array (n, L) or sequence of 1-D sequences
            The objective after epochs 1, 2, ..., L of each curve (lengths may differ).
        target_epoch : int
            The epoch to predict (counted from 1), at or after the end of every curve.
        covariates : dict of str to curves, optional
            Other per-epoch metrics of the same trials, same lengths (see :meth:`predict`).
        features : array (n, d), optional
            Static features of each curve's trial (see :meth:`predict`).

        Returns
        -------
        mean : numpy.ndarray
            ``(n,)`` predicted values at ``target_epoch``, in the curves' units.
        std : numpy.ndarray
            ``(n,)`` their standard deviations (0 for a curve that already reaches ``target_epoch``).
        """
        owner = f"{type(self).__name__}.predict"
        self._validate_params()
        rows = _as_curves(owner, "curves", curves, self.min_length)
        target = _check_target(owner, target_epoch, [len(r) for r in rows])
        covs = _check_covariates(owner, covariates, rows)
        feats = _check_features(owner, features, len(rows))
        sign = 1.0 if self.mode == "max" else -1.0
        mean = np.empty(len(rows))
        std = np.empty(len(rows))
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        for L in np.unique(lengths):
            idx = np.flatnonzero(lengths == L)
            Y = np.stack([rows[i] for i in idx]) * sign
            if L >= target:
                mean[idx], std[idx] = Y[:, -1], 0.0
                continue
            cov = {k: np.stack([v[i] for i in idx]) for k, v in covs.items()}
            m, s = self._predict_block(Y, target, cov, None if feats is None else feats[idx])
            mean[idx], std[idx] = m, s
        return mean * sign, std

    def predict(self, curves: Curves, target_epoch: int, covariates: Mapping[str, Curves] | None = None,
                features: Any = None) -> xr.Dataset:
        """The value after ``target_epoch`` of every curve.

        Parameters
        ----------
        curves : array (n, L) or sequence of 1-D sequences
            The objective after epochs 1, 2, ..., L of each curve (lengths may differ).
        target_epoch : int
            The epoch to predict (counted from 1), at or after the end of every curve.
        covariates : dict of str to curves, optional
            Other per-epoch metrics of the same trials (``val_loss``, ``train_loss``), same lengths;
            models that learned from them use them, the others ignore them.
        features : array (n, d), optional
            Static features of each curve's trial (an architecture encoding, e.g.
            ``space.encode_many(archs, "graf")``); models that learned from them use them.

        Returns
        -------
        xarray.Dataset
            Dims ``("curve",)``; variables ``mean``, ``std``, ``n_epochs`` (each curve's length);
            attrs ``target_epoch``, ``predictor``.
        """
        import xarray as xr

        mean, std = self.predict_arrays(curves, target_epoch, covariates, features)
        rows = _as_curves(type(self).__name__, "curves", curves, 0)
        return xr.Dataset(
            {"mean": ("curve", mean), "std": ("curve", std), "n_epochs": ("curve", np.array([len(r) for r in rows]))},
            attrs={"target_epoch": int(target_epoch), "predictor": repr(self)},
        )


class LastValue(BaseCurvePredictor):
    """The last observed value, as the prediction of the final one.

    The standard deviation is the root-mean-square change between the last (up to four) epochs
    times ``sqrt(target_epoch - L)`` (a random walk). A one-epoch curve has no change to measure:
    its step is taken as large as its value (``|value|``; 1 for a value of 0), so the spread is
    wide, finite, and in the curve's own units.
    """

    alias: ClassVar[str] = "last-value"
    min_spread_length: ClassVar[int] = 2

    def _predict_block(self, Y: np.ndarray, target_epoch: int, covariates: dict[str, np.ndarray],
                       features: np.ndarray | None = None) -> Arrays:
        L = Y.shape[1]
        if L == 1:
            step = np.abs(Y[:, -1])
            return Y[:, -1].copy(), np.where(step > 0, step, 1.0) * math.sqrt(target_epoch - 1)
        step = np.sqrt(np.mean(np.diff(Y[:, -4:], axis=1) ** 2, axis=1))
        return Y[:, -1].copy(), step * math.sqrt(target_epoch - L)


# -- parametric families ------------------------------------------------------------------------
# Each family is y = c + a * g(x; theta) with g increasing in x, a >= 0 (the curve rises), and c
# free (or fixed at 0 for log-power, whose asymptote is a alone). The nonlinear theta is gridded;
# for each grid point (c, a) are an exact least-squares fit, so a whole batch of curves is fitted
# with a few matrix products and no optimiser can fail to converge.
def _grid(*axes: np.ndarray) -> list[tuple[float, ...]]:
    mesh = np.meshgrid(*axes, indexing="ij")
    return list(zip(*(m.ravel().tolist() for m in mesh)))


def _family_basis(name: str, x: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(G, len(x))`` values of g over the family's grid, and whether it has a free offset c."""
    if name == "pow3":  # c - a x^-alpha
        return np.stack([-(x ** -al) for al in np.geomspace(0.05, 4.0, 24)]), True
    if name == "exponential":  # c - a exp(-b x)
        return np.stack([-np.exp(-b * x) for b in np.geomspace(0.02, 3.0, 24)]), True
    if name == "log-power":  # a / (1 + (x / e^b)^-k)
        return np.stack([1.0 / (1.0 + (x / math.exp(b)) ** -k) for b, k in _grid(np.linspace(-2, 3, 8), np.geomspace(0.3, 4.0, 8))]), False
    if name == "janoschek":  # c - a exp(-k x^d)
        return np.stack([-np.exp(-k * x**d) for k, d in _grid(np.geomspace(0.02, 2.0, 8), np.geomspace(0.3, 2.0, 6))]), True
    if name == "mmf":  # c - a / (1 + (k x)^d)
        return np.stack([-1.0 / (1.0 + (k * x) ** d) for k, d in _grid(np.geomspace(0.05, 3.0, 8), np.geomspace(0.3, 3.0, 6))]), True
    if name == "ilog2":  # c - a / log(x + b)
        return np.stack([-1.0 / np.log(x + b) for b in np.geomspace(1.1, 20.0, 12)]), True
    raise unknown_choice("ParametricCurves(families=...)", name, FAMILIES)


#: the parametric curve families :class:`ParametricCurves` fits (its ``families=`` default: all of them)
FAMILIES: tuple[str, ...] = ("pow3", "exponential", "log-power", "janoschek", "mmf", "ilog2")


def fit_families(Y: np.ndarray, x_fit: np.ndarray, x_target: float, families: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit every grid member of every family to every row of ``Y``.

    Returns ``(pred, sse, family_index)``: ``pred`` and ``sse`` of shape (M, n) (the value at
    ``x_target`` and the residual sum of squares of member m on curve i) and the family of each member.
    """
    preds, sses, fam = [], [], []
    x_all = np.append(x_fit, x_target)
    for f, name in enumerate(families):
        G, const = _family_basis(name, x_all)
        g, gt = G[:, :-1], G[:, -1]  # (G, L), (G,)
        if const:
            gc = g - g.mean(axis=1, keepdims=True)
            yc = Y - Y.mean(axis=1, keepdims=True)  # (n, L)
            den = np.maximum((gc**2).sum(axis=1), 1e-300)[:, None]  # (G, 1)
            a = np.maximum(gc @ yc.T / den, 0.0)  # (G, n)
            c = Y.mean(axis=1)[None, :] - a * g.mean(axis=1)[:, None]
            fitted = c[:, :, None] + a[:, :, None] * g[:, None, :]
            pred = c + a * gt[:, None]
        else:
            a = np.maximum(g @ Y.T / np.maximum((g**2).sum(axis=1), 1e-300)[:, None], 0.0)
            fitted = a[:, :, None] * g[:, None, :]
            pred = a * gt[:, None]
        preds.append(pred)
        sses.append(((fitted - Y[None]) ** 2).sum(axis=2))
        fam.append(np.full(len(g), f))
    return np.concatenate(preds), np.concatenate(sses), np.concatenate(fam)


class ParametricCurves(BaseCurvePredictor):
    """A Bayesian average over parametric learning-curve families (Domhan et al., 2015, on a grid).

    Each family ``y = c + a g(x; theta)`` (pow3 ``c - a x^-alpha``, exponential ``c - a e^-bx``,
    log-power ``a / (1 + (x/e^b)^-k)``, Janoschek ``c - a e^(-k x^d)``, MMF
    ``c - a / (1 + (kx)^d)``, ilog2 ``c - a / log(x + b)``) is fitted on a fixed grid of its
    nonlinear parameters ``theta``; for each grid point the linear ones are the least-squares fit
    with ``a >= 0`` (a rising curve), all curves at once with a few matrix products. Every member
    is weighted by its prior (families equal, grid points equal within one) times its likelihood
    ``exp(-SSE / 2 sigma^2)``; the prediction is the weighted mean of the members' values at
    ``target_epoch`` and the std is the members' weighted spread plus ``sigma`` (so it grows with
    the distance extrapolated). ``sigma`` is the curve's own residual scale
    (``min SSE / (L - 2)``), at least ``rel_noise`` times its range.

    A grid instead of a nonlinear optimiser (``scipy.optimize.curve_fit`` per curve and family):
    the fit is vectorised across curves, deterministic, has no failed convergence on short
    curves, and the posterior over the grid is the ensemble whose spread is the uncertainty.

    Parameters
    ----------
    families : sequence of str
        Any of ``FAMILIES`` (default: all six); ``("pow3",)`` is the pow3 baseline.
    bounds : (float, float), optional
        Range of the metric (``(0, 1)`` for an accuracy): members that predict outside it get no
        weight (all members outside: the mean is clipped).
    rel_noise : float
        Least observation noise, as a fraction of each curve's range.
    mode : {"max", "min"}
        ``"max"`` for curves that rise (accuracy), ``"min"`` for those that fall (a loss).
    """

    alias: ClassVar[str] = "parametric"
    min_length: ClassVar[int] = 2

    def __init__(self, families: Sequence[str] = FAMILIES, bounds: tuple[float, float] | None = None,
                 rel_noise: float = 0.05, mode: Mode = "max"):
        super().__init__(mode=mode)
        self.families = families
        self.bounds = bounds
        self.rel_noise = rel_noise

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        fams = [self.families] if isinstance(self.families, str) else list(self.families)
        if not fams:
            raise InvalidParameterError(f"{name}(families=...) must name at least one of {list(FAMILIES)}; got {self.families!r}.")
        for f in fams:
            if f not in FAMILIES:
                raise unknown_choice(f"{name}(families=...)", f, FAMILIES)
        if self.bounds is not None:
            ok = isinstance(self.bounds, (tuple, list)) and len(self.bounds) == 2 and float(self.bounds[0]) < float(self.bounds[1])
            if not ok:
                raise InvalidParameterError(f"{name}(bounds=...) must be None or (low, high) with low < high; got {self.bounds!r}.")
        if not isinstance(self.rel_noise, (int, float)) or not 0 < self.rel_noise < 1:
            raise InvalidParameterError(f"{name}(rel_noise=...) must be a number in (0, 1); got {self.rel_noise!r}.")

    def _predict_block(self, Y: np.ndarray, target_epoch: int, covariates: dict[str, np.ndarray],
                       features: np.ndarray | None = None) -> Arrays:
        from scipy.special import logsumexp

        n, L = Y.shape
        fams = [self.families] if isinstance(self.families, str) else list(self.families)
        pred, sse, fam = fit_families(Y, np.arange(1, L + 1, dtype=np.float64), float(target_epoch), fams)
        counts = np.bincount(fam, minlength=len(fams)).astype(np.float64)
        log_prior = -np.log(counts[fam] * len(fams))[:, None]
        scale = np.ptp(Y, axis=1)
        sigma2 = np.maximum(sse.min(axis=0) / max(L - 2, 1), (self.rel_noise * scale) ** 2)
        sigma2 = np.maximum(sigma2, 1e-12 * (1.0 + np.abs(Y[:, -1])) ** 2)
        logw = log_prior - sse / (2.0 * sigma2[None, :])
        if self.bounds is not None:
            lo, hi = sorted(float(b) * (1.0 if self.mode == "max" else -1.0) for b in self.bounds)
            inside = (pred >= lo - 1e-9) & (pred <= hi + 1e-9)
            any_inside: np.ndarray = np.asarray(inside.any(axis=0))
            logw = np.where(inside | ~any_inside[None, :], logw, -np.inf)
            pred = np.clip(pred, lo, hi)
        w = np.exp(logw - logsumexp(logw, axis=0, keepdims=True))
        mean = (w * pred).sum(axis=0)
        var = (w * (pred - mean[None, :]) ** 2).sum(axis=0)
        return mean, np.sqrt(var + sigma2)


def get_curve_predictor(predictor: str | BaseCurvePredictor, *, owner: str = "predictor", **params: Any) -> BaseCurvePredictor:
    """A curve predictor from an instance or a name.

    Parameters
    ----------
    predictor : str or BaseCurvePredictor
        An instance (returned as is, ``params`` ignored), or ``"last-value"``, ``"parametric"``,
        ``"pow3"`` (a parametric predictor of the pow3 family alone) or ``"learned"``.
    owner : str, default "predictor"
        What the errors name, e.g. ``"CurveStopping(fallback=...)"``.
    **params
        Constructor arguments for a named predictor.

    Returns
    -------
    BaseCurvePredictor
        The predictor (a learned one still needs ``fit``).
    """
    if isinstance(predictor, BaseCurvePredictor):
        return predictor
    from nasbook.predictors._curves_learned import LearnedCurves

    known: dict[str, Any] = {"last-value": LastValue, "parametric": ParametricCurves, "learned": LearnedCurves,
                             "pow3": lambda **kw: ParametricCurves(families=("pow3",), **kw)}
    if not isinstance(predictor, str):
        raise InvalidParameterTypeError(f"{owner} must be a curve predictor name ({', '.join(map(repr, known))}) or a "
                                        f"BaseCurvePredictor; got {predictor!r:.60} of type {type(predictor).__name__}.")
    if predictor not in known:
        raise unknown_choice("curve predictor", predictor, tuple(known), hint=f"Given as {owner}.")
    return known[predictor](**params)  # type: ignore[no-any-return]
