"""scikit-learn surrogates: a Gaussian process, forests with per-tree spread, quantile boosting."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, unknown_choice
from nasbook.predictors._base import BasePredictor, Calibration, Target
from nasbook.predictors._gp_prior import HYPERPRIORS, MapOptimizer

if TYPE_CHECKING:
    from nasbook.space import SearchSpace


def _scaled(X: np.ndarray, center: np.ndarray | None = None, scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns centred and scaled to unit variance (constant columns left at 0)."""
    if center is None or scale is None:
        center = X.mean(axis=0)
        sd = X.std(axis=0)
        scale = np.where(sd > 1e-12, sd, 1.0)
    return (X - center) / scale, center, scale


class _DropColumns(BasePredictor):
    """Shared code of the models with ``drop``: feature columns left out by name (prefix)."""

    drop: Sequence[str]

    def _validate_drop(self) -> None:
        drop = self.drop
        if isinstance(drop, str) or not isinstance(drop, Sequence) or not all(isinstance(d, str) and d for d in drop):
            raise InvalidParameterTypeError(
                f"{type(self).__name__}(drop=...) must be a list of column-name prefixes such as ['level_count'] "
                f"(space.feature_names(kind) lists the names); got {drop!r:.60} of type {type(drop).__name__}.")
        self._keep: np.ndarray | None = None  # set by _member_features, where the columns' names are known
        self._n_encoded = 0

    def _member_features(self, space: SearchSpace, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """Records which of the encodings' columns the model sees (``drop``)."""
        if self.drop:
            names = [n for k in kinds for n in space.feature_names(k)]
            keep = np.array([i for i, n in enumerate(names) if not n.startswith(tuple(self.drop))], dtype=np.int64)
            if not len(keep):
                raise InvalidParameterError(
                    f"{type(self).__name__}(drop={list(self.drop)!r}) leaves none of the {len(names)} columns of "
                    f"{' + '.join(kinds)}; drop fewer.")
            self._keep, self._n_encoded = (keep if len(keep) < len(names) else None), len(names)
        return kinds

    def _columns(self, X: np.ndarray) -> np.ndarray:
        """``X`` without the dropped columns (columns after the encodings, e.g. a prior, are kept).
        Where no column has a name (a model fed only extra columns) nothing is dropped."""
        if self._keep is None:
            return X
        return X[:, np.concatenate([self._keep, np.arange(self._n_encoded, X.shape[1])])]


LENGTH_SCALE_BOUNDS: tuple[str, ...] = ("neighbours", "fixed")
#: the length scale's bounds on standardised columns ("fixed"; "neighbours" raises the lower one)
MIN_LENGTH_SCALE, MAX_LENGTH_SCALE = 1e-2, 1e4
#: "neighbours": the length scale's lower bound as a fraction of the median nearest-neighbour distance
#: (at twice the length scale the Matern kernels and the RBF correlate at 0.135-0.14)
NEIGHBOUR_FRACTION = 0.5
#: the noise level's bounds ("fixed"; "neighbours" caps it at NOISE_SHARE of the targets' variance)
MIN_NOISE, MAX_NOISE = 1e-6, 1e1
NOISE_SHARE = 0.5


def _median_neighbour_distance(Xs: np.ndarray) -> float:
    """The median over the rows of the Euclidean distance to the nearest other distinct row (0 when
    fewer than two rows differ): how far apart the training architectures typically lie."""
    from scipy.spatial.distance import pdist, squareform

    if len(Xs) < 2:
        return 0.0
    D = squareform(pdist(Xs))
    D[D <= 1e-12] = np.inf  # the row itself and exact repeats of it
    nearest = D.min(axis=1)
    nearest = nearest[np.isfinite(nearest)]
    return float(np.median(nearest)) if len(nearest) else 0.0


class GaussianProcess(_DropColumns):
    """A Gaussian process (scikit-learn) on standardised features.

    The kernel is ``amplitude * Matern(nu) + white noise`` with one length scale over all
    standardised feature columns; amplitude, length scale and noise are fitted by maximum
    marginal likelihood (``n_restarts`` random restarts; or a MAP fit under ``hyperprior``), on at
    most ``max_tune`` architectures.

    Parameters
    ----------
    nu : {0.5, 1.5, 2.5, inf}
        Smoothness of the Matern kernel (inf: RBF). Default 2.5.
    n_restarts : int
        Extra optimiser restarts of the kernel hyperparameters from random starts (drawn
        log-uniformly within the bounds from ``seed``, so a seeded fit is reproducible); the best
        optimum is kept. Default 0: the start (unit amplitude, length scale sqrt(d) on standardised
        columns) is a sensible one, and each restart costs a fit (on NAS-Bench-Graph, 2 or 5
        restarts moved ``Predictor()``'s Kendall tau by under 0.0002 at 20-100 architectures:
        docs/benchmarks.md, section 1q-pred).
    max_tune : int
        Above this many training architectures, the kernel's hyperparameters are tuned on a
        random subset of this size, and the GP then conditions on every architecture with them
        (the tuning is what costs O(n^3) per optimiser step). Default 300.
    drop : sequence of str
        Feature columns left out of the kernel: those whose name (``space.feature_names(kind)``)
        starts with one of these prefixes, e.g. ``("level_count",)``; prefixes that match no
        column are ignored (so one setting serves every space). With one length scale over all
        columns, every column weighs in every distance: on NAS-Bench-Graph leaving out GRAF's 36
        per-depth op counts raised the GP's tau (``Predictor()``'s default does). Default none.
    length_scale_bound : {"neighbours", "fixed"}
        The lower bound of the length scale. ``"neighbours"``: half the median distance from a
        training architecture to its nearest other one (standardised columns), below which each
        architecture correlates at under 0.14 with its nearest neighbour (every Matern kernel and
        the RBF at twice the length scale): the marginal likelihood of a few architectures then
        often prefers that degenerate fit, which explains the targets as independent per-point
        variation and predicts the mean everywhere else (on NAS-Bench-Graph at 10-20 training
        architectures: near-constant predictions; docs/benchmarks.md, section 1p-pred). The bound
        loosens as the training set grows and its architectures lie closer together.
        ``"fixed"``: 0.01, whatever the data. Default ``"neighbours"``.
    hyperprior : {"none", "lognormal", "gamma"}
        ``"none"``: maximum marginal likelihood (ML-II). Otherwise a maximum a posteriori fit: the
        log of a prior on amplitude, length scale and noise is added to the log marginal
        likelihood (within the same bounds). ``"lognormal"``: BoTorch's default priors since 0.12
        (Hvarfner et al., 2024): length scale LogNormal(sqrt(2) + log(d) / 2, sqrt(3)) in the unit
        cube's units (d columns), noise LogNormal(-4, 1), amplitude Gamma(2, 0.15). ``"gamma"``:
        BoTorch's earlier ones: length scale Gamma(3, 6), amplitude Gamma(2, 0.15), noise
        Gamma(1.1, 0.05). On standardised columns a length scale ``l`` counts as ``l / sqrt(12)``
        in the unit cube (a column uniform on [0, 1] has sd 1/sqrt(12)). Default ``"none"``: on
        NAS-Bench-Graph neither prior raised ``Predictor()``'s Kendall tau at 100 architectures
        (``"lognormal"`` -0.0005, +0.003 at 20; ``"gamma"`` lower at every size; section 1q-pred).
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "gp"

    def __init__(self, nu: float = 2.5, n_restarts: int = 0, max_tune: int = 300, drop: Sequence[str] = (),
                 length_scale_bound: str = "neighbours", hyperprior: str = "none",
                 features: str | Sequence[str] = "auto", target: Target = "rank", calibration: Calibration = "cv",
                 seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.nu = nu
        self.n_restarts = n_restarts
        self.max_tune = max_tune
        self.drop = tuple(drop) if isinstance(drop, list) else drop
        self.length_scale_bound = length_scale_bound
        self.hyperprior = hyperprior

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.nu not in (0.5, 1.5, 2.5, float("inf")):
            raise unknown_choice("GaussianProcess(nu=...)", self.nu, ("0.5", "1.5", "2.5", "inf"))  # type: ignore[arg-type]
        self.n_restarts = check_int("GaussianProcess", "n_restarts", self.n_restarts, minimum=0)
        self.max_tune = check_int("GaussianProcess", "max_tune", self.max_tune, minimum=2)
        if self.length_scale_bound not in LENGTH_SCALE_BOUNDS:
            raise unknown_choice("GaussianProcess(length_scale_bound=...)", self.length_scale_bound, LENGTH_SCALE_BOUNDS)
        if not isinstance(self.hyperprior, str) or self.hyperprior not in HYPERPRIORS:
            raise unknown_choice("GaussianProcess(hyperprior=...)", self.hyperprior, HYPERPRIORS)
        self._validate_drop()

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

        Xs, self._center, self._scale = _scaled(self._columns(X))
        d = max(1, Xs.shape[1])
        # marginal-likelihood tuning costs O(n^3) per optimiser step: above max_tune, tune on a random
        # subset, then condition on every point with the kernel it found
        pick = (np.random.default_rng(self.seed).choice(len(z), self.max_tune, replace=False)
                if len(z) > self.max_tune else np.arange(len(z)))
        low, noise_max = MIN_LENGTH_SCALE, MAX_NOISE
        if self.length_scale_bound == "neighbours":
            low = max(low, NEIGHBOUR_FRACTION * _median_neighbour_distance(Xs[pick]))
            noise_max = max(10 * MIN_NOISE, NOISE_SHARE * float(np.var(z[pick])))
        bounds = (low, max(MAX_LENGTH_SCALE, 10 * low))
        start = min(max(np.sqrt(d), bounds[0]), bounds[1])
        base = RBF(start, bounds) if self.nu == float("inf") else Matern(start, bounds, nu=self.nu)
        kernel = (ConstantKernel(1.0, (1e-3, 1e2)) * base
                  + WhiteKernel(min(0.1, noise_max / 2), (MIN_NOISE, noise_max)))
        optimizer: Any = "fmin_l_bfgs_b"  # scikit-learn's own L-BFGS-B on the log marginal likelihood
        if self.hyperprior != "none":
            names = [h.name for h in kernel.hyperparameters]
            index = {"amp": names.index("k1__k1__constant_value"), "ls": names.index("k1__k2__length_scale"),
                     "noise": names.index("k2__noise_level")}
            optimizer = MapOptimizer(self.hyperprior, d, index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            tuned = GaussianProcessRegressor(
                kernel, optimizer=optimizer, n_restarts_optimizer=self.n_restarts, random_state=self.seed
            ).fit(Xs[pick], z[pick])
            # above max_tune, condition on every point with the kernel found on the subset
            self.model_ = (tuned if len(z) <= self.max_tune
                           else GaussianProcessRegressor(tuned.kernel_, optimizer=None).fit(Xs, z))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Xs, _, _ = _scaled(self._columns(X), self._center, self._scale)
        mean, std = self.model_.predict(Xs, return_std=True)
        return mean, std


def _n_threads(n_jobs: int | None, n_tasks: int) -> int:
    """Threads for ``n_tasks`` with scikit-learn's ``n_jobs`` (None: 1; -1: every core; -2: all but one)."""
    if n_jobs is None or n_jobs == 1:
        return 1
    cores = os.cpu_count() or 1
    return max(1, min(n_tasks, n_jobs if n_jobs > 0 else cores + 1 + n_jobs))


class _Forest(_DropColumns):
    """Shared code of the forests: the spread is the standard deviation over the trees."""

    _estimator: ClassVar[str] = ""

    def __init__(self, n_estimators: int = 200, min_samples_leaf: int = 1, max_features: float | str | None = 0.5,
                 drop: Sequence[str] = (), features: str | Sequence[str] = "auto", target: Target = "rank",
                 calibration: Calibration = "cv", seed: int | None = None, n_jobs: int | None = 1):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.drop = tuple(drop) if isinstance(drop, list) else drop
        self.n_jobs = n_jobs

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        self.n_estimators = check_int(name, "n_estimators", self.n_estimators, minimum=2)
        self.min_samples_leaf = check_int(name, "min_samples_leaf", self.min_samples_leaf, minimum=1)
        mf = self.max_features
        ok = mf is None or mf in ("sqrt", "log2") or (isinstance(mf, float) and 0 < mf <= 1)
        if not ok:
            raise InvalidParameterError(
                f"{name}(max_features=...) must be a fraction in (0, 1], 'sqrt', 'log2' or None; got {mf!r}."
            )
        nj = self.n_jobs
        if nj is not None and (isinstance(nj, bool) or not isinstance(nj, (int, np.integer)) or nj == 0):
            raise InvalidParameterError(f"{name}(n_jobs=...) must be a non-zero int (-1: every core) or None; got {nj!r}.")
        self._validate_drop()

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        from sklearn import ensemble

        cls = getattr(ensemble, self._estimator)
        self.model_ = cls(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf, max_features=self.max_features,
            random_state=self.seed, n_jobs=self.n_jobs,
        ).fit(self._columns(X), z)

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # each fitted tree's ``tree_.predict`` on one float32 C-ordered copy of X: the estimators'
        # own ``predict`` checks and converts X again per tree, which dominates on 26,000 rows
        X32 = np.ascontiguousarray(self._columns(X), dtype=np.float32)
        trees = self.model_.estimators_
        per_tree = np.empty((len(trees), len(X32)))

        def predict(i: int) -> None:  # one tree's row of per_tree (scikit-learn walks the tree without the GIL)
            per_tree[i] = trees[i].tree_.predict(X32).reshape(len(X32), -1)[:, 0]

        jobs = _n_threads(self.n_jobs, len(trees))
        if jobs == 1:
            for i in range(len(trees)):
                predict(i)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(jobs) as pool:
                list(pool.map(predict, range(len(trees))))
        # numpy's std(axis=0), in place and on the mean already taken (the same operations, the same numbers)
        mean = per_tree.mean(axis=0)
        per_tree -= mean
        np.multiply(per_tree, per_tree, out=per_tree)
        return mean, np.sqrt(per_tree.mean(axis=0))


class RandomForest(_Forest):
    """A random forest (scikit-learn); the spread over its trees is the uncertainty.

    Parameters
    ----------
    n_estimators : int
        Trees. Default 200.
    min_samples_leaf : int
        Smallest leaf. Default 1.
    max_features : float, {"sqrt", "log2"} or None
        Features tried per split (a fraction, a rule, or all). Default 0.5.
    drop : sequence of str
        Feature columns left out: those whose name (``space.feature_names(kind)``) starts with one
        of these prefixes (as :class:`GaussianProcess`'s ``drop``). Default none.
    n_jobs : int or None
        Threads that build the trees (scikit-learn's ``n_jobs``) and walk them to predict; -1:
        every core. The trees and the predictions are the same for every value (each tree's seed
        is drawn before the fit), only the time differs. Default 1: a fit runs beside the trials
        of a parallel executor, whose workers have the cores (see ``docs/benchmarks.md`` 1r for
        what threads gained on ``BO``'s surrogate, e.g.
        ``BO(predictor=RandomForest(n_estimators=50, calibration="none", features=("graf", "adjacency"), n_jobs=2))``).
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "random-forest"
    _estimator: ClassVar[str] = "RandomForestRegressor"


class ExtraTrees(_Forest):
    """Extremely randomised trees (scikit-learn); the spread over the trees is the uncertainty.

    Parameters
    ----------
    n_estimators : int
        Trees. Default 200.
    min_samples_leaf : int
        Smallest leaf. Default 1.
    max_features : float, {"sqrt", "log2"} or None
        Features tried per split (a fraction, a rule, or all). Default 0.5.
    drop : sequence of str
        Feature columns left out, by name prefix (as :class:`RandomForest`'s ``drop``). Default none.
    n_jobs : int or None
        Threads that build and walk the trees (as :class:`RandomForest`'s ``n_jobs``). Default 1.
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "extra-trees"
    _estimator: ClassVar[str] = "ExtraTreesRegressor"


CENTERS: tuple[str, ...] = ("median", "mean")


class GradientBoosting(BasePredictor):
    """Gradient-boosted trees with quantile heads (scikit-learn's histogram boosting).

    Three models are fitted: the centre (the median, pinball loss, or the mean, squared error:
    ``center``) and the 15.87% / 84.13% quantiles (pinball loss); the prediction is the centre's
    and the spread is half the distance between the outer two, which is one standard deviation
    for a normal.

    Parameters
    ----------
    max_iter : int
        Boosting rounds. Default 200.
    learning_rate : float
        Default 0.05.
    max_leaf_nodes : int
        Leaves per tree. Default 15.
    center : {"median", "mean"}
        What the prediction is: the median head (pinball loss, whose gradient is only a sign) or
        a squared-error booster's mean (alone on NAS-Bench-Graph at 100 architectures: Kendall
        tau 0.483 against 0.473; in ``Predictor()``'s ensemble no gain on the reporting seeds,
        docs/benchmarks.md section 1f-pred). Default ``"median"``.
    features, target, calibration, seed
        See :class:`BasePredictor`.
    """

    alias: ClassVar[str] = "gbt"

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 center: str = "median", features: str | Sequence[str] = "auto", target: Target = "rank",
                 calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.center = center

    def _validate_params(self) -> None:
        super()._validate_params()
        self.max_iter = check_int("GradientBoosting", "max_iter", self.max_iter, minimum=1)
        self.max_leaf_nodes = check_int("GradientBoosting", "max_leaf_nodes", self.max_leaf_nodes, minimum=2)
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
            raise InvalidParameterError(f"GradientBoosting(learning_rate=...) must be a number in (0, 1]; got {lr!r}.")
        if self.center not in CENTERS:
            raise unknown_choice("GradientBoosting(center=...)", self.center, CENTERS)

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor

        leaf = max(2, min(20, len(z) // 10))

        def model(q: float | None) -> Any:
            loss: dict[str, Any] = {"loss": "squared_error"} if q is None else {"loss": "quantile", "quantile": q}
            return HistGradientBoostingRegressor(
                **loss, max_iter=self.max_iter, learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=leaf, random_state=self.seed,
                early_stopping=False,
            ).fit(X, z)

        self.models_ = (model(None if self.center == "mean" else 0.5), model(0.1587), model(0.8413))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mid, lo, hi = (m.predict(X) for m in self.models_)
        return mid, np.abs(hi - lo) / 2
