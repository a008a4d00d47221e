"""An ensemble of surrogates, and :class:`Predictor`: the best default for the space at hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, class_given
from nasbook.predictors._base import BasePredictor, Calibration, Target
from nasbook.predictors._models import GaussianProcess
from nasbook.predictors._registry import available_predictors, predictor_class

if TYPE_CHECKING:
    from nasbook.space import SearchSpace

#: the members of ``Ensemble()`` and of ``Predictor()``'s default model
#: (measured on NAS-Bench-Graph, 9 datasets: each of gp, extra-trees, gbt alone reaches Kendall
#: tau 0.48-0.49 at 100 training architectures, the three together 0.52; adding an MLP ensemble
#: or a random forest changed it by less than 0.002 and cost more; a second Gaussian process on
#: the one-hot adjacency, a second view of the same architectures, added 0.009 (probes: 9
#: datasets x seeds 100-102, higher on 23 of 27); weighting members by out-of-fold tau or
#: stacking them did not beat equal weights. Round 3: the graph-feature GP without GRAF's
#: per-depth op counts and link-pattern one-hot (GP_DROP) added 0.003 (higher on 22 of 27);
#: other kernels, a sum kernel over both views, rank-averaging, a pairwise ranker and an MLP did
#: not help: docs/benchmarks.md, section 1e-pred. Round 4: extra trees without the same columns
#: (``ExtraTrees(drop=GP_DROP)``) and a squared-error mean for the booster
#: (``GradientBoosting(center="mean")``) raised the probes by 0.004 (higher on 20 of 27) but the
#: reporting seeds by 0.0007 only (0.516 both): not adopted, section 1f-pred. Round 6: both GPs'
#: length scale bounded below by the training set's geometry and their noise capped
#: (``GaussianProcess(length_scale_bound="neighbours")``, the default): +0.003 at 20, +0.000 at
#: 100 on the reporting seeds, section 1p-pred)
GP_DROP: tuple[str, ...] = ("level_count", "link_pattern")
DEFAULT_MEMBERS: tuple[str | BasePredictor, ...] = (
    GaussianProcess(drop=GP_DROP), GaussianProcess(features="adjacency"), "extra-trees", "gbt")


def _model_key(m: BasePredictor) -> str:
    """A member's model and parameters, less what selects its columns (``features``, ``drop``)."""
    return repr((type(m), {k: v for k, v in m.get_params().items() if k not in ("features", "drop")}))


def _member(owner: str, spec: object, seed: int | None) -> BasePredictor:
    """A fresh member from a registered name or an instance (cloned), seeded from ``seed``."""
    if isinstance(spec, BasePredictor):
        model = spec.clone()
    elif isinstance(spec, str):
        model = predictor_class(spec, kind=owner, hint="Predictor(model='auto') is the default ensemble. " if
                                owner.startswith("Predictor(") else "")()
    else:
        raise InvalidParameterTypeError(
            f"{owner} must be a predictor name such as 'gp' or a BasePredictor instance; got {spec!r:.60} "
            f"of type {type(spec).__name__}{class_given(spec, BasePredictor, available_predictors)}."
        )
    if model.seed is None:
        model.seed = seed
    model._validate_params()
    return model


class Ensemble(BasePredictor):
    """Several surrogates, each on its own view of the architectures; their predictions are pooled
    as an equally weighted mixture (mean of means; variance = mean of variances + variance of means).

    A member left at ``features="auto"`` sees the ensemble's features; a member given its own
    (``GaussianProcess(features="adjacency")``) sees those instead, so that members can look at
    the same architecture through different encodings. Columns appended after the encodings
    (:class:`OmniPredictor`'s extra columns, a prior) go to every member. Members identical in
    model, parameters and encodings are fitted once.

    Parameters
    ----------
    members : sequence of str or BasePredictor
        Registered names (:func:`available_predictors`) or instances (cloned). Default: a Gaussian
        process on the ensemble's features (without GRAF's per-depth op counts and link-pattern
        columns where the space has them) and one on the one-hot adjacency, extra trees and
        quantile gradient-boosted trees.
    features, target, calibration, seed
        See :class:`BasePredictor`; the ensemble's features are its members' default, and its
        calibration applies to the whole.
    """

    alias: ClassVar[str] = "ensemble"

    def __init__(self, members: Sequence[str | BasePredictor] = DEFAULT_MEMBERS, features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.members = tuple(members) if isinstance(members, list) else members

    def _validate_params(self) -> None:
        super()._validate_params()
        members = self.members
        if isinstance(members, (str, BasePredictor)) or not isinstance(members, Sequence) or not members:
            raise InvalidParameterError(
                f"Ensemble(members=...) must be a non-empty list of predictor names or instances; got {members!r:.80}."
            )
        self._built = [_member(f"Ensemble(members=[...]) item {i}", m, self.seed) for i, m in enumerate(members)]
        self._views: list[np.ndarray | None] | None = None

    def _member_features(self, space: SearchSpace, kinds: tuple[str, ...]) -> tuple[str, ...]:
        """The union of ``kinds`` (the owner's encodings) and the members' own, in that order;
        records each member's columns of the concatenated encodings (None: all of them) and drops
        members identical to an earlier one."""
        own = [kinds if m.features == "auto" else m._resolve_features(space) for m in self._built]
        union = list(kinds)
        for mk in own:
            union += [k for k in mk if k not in union]
        sizes = [space.encoding_size(k) for k in union]
        start = dict(zip(union, np.cumsum([0, *sizes[:-1]]).tolist()))
        size = dict(zip(union, sizes))
        seen: set[tuple[Any, ...]] = set()
        self._active: list[int] = []
        self._views = []
        for i, (m, mk) in enumerate(zip(self._built, own)):
            m._member_features(space, mk)  # a member that picks columns of its view (GaussianProcess(drop=...))
            # the same model on the same columns: a ``drop`` that picks none is no difference
            keep = getattr(m, "_keep", None)
            key = (_model_key(m), mk, None if keep is None else tuple(keep.tolist()))
            if key in seen:
                continue
            seen.add(key)
            self._active.append(i)
            full = list(mk) == union
            self._views.append(None if full else np.concatenate([np.arange(start[k], start[k] + size[k]) for k in mk]))
        self._n_encoded = int(sum(sizes))
        return tuple(union)

    def _columns(self, X: np.ndarray, view: np.ndarray | None) -> np.ndarray:
        if view is None:
            return X
        return X[:, np.concatenate([view, np.arange(self._n_encoded, X.shape[1])])]

    def _members_and_views(self) -> list[tuple[BasePredictor, np.ndarray | None]]:
        if self._views is None:  # inside a model that did not resolve the members' features: all see all
            seen: set[str] = set()
            out: list[tuple[BasePredictor, np.ndarray | None]] = []
            for m in self._built:
                # unnamed columns: a GaussianProcess's ``drop`` picks none, so it does not tell members apart
                key = _model_key(m)
                if key not in seen:
                    seen.add(key)
                    out.append((m, None))
            return out
        return [(self._built[i], v) for i, v in zip(self._active, self._views)]

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        pairs = self._members_and_views()
        for m, view in pairs:
            m._fit(self._columns(X, view), z)
        self.members_ = [m for m, _ in pairs]
        self._fitted_views = [v for _, v in pairs]

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        means, stds = zip(*(m._predict(self._columns(X, v)) for m, v in zip(self.members_, self._fitted_views)))
        mu = np.mean(means, axis=0)
        var = np.mean(np.square(stds), axis=0) + np.var(means, axis=0)
        return mu, np.sqrt(var)


class Predictor(BasePredictor):
    """Predicts architecture quality, with an uncertainty: nasbook's front door to surrogates.

    ``Predictor()`` picks the best default for the space at hand: an ensemble of a Gaussian
    process, extra trees and quantile gradient-boosted trees on the space's GRAF-style graph
    features (its one-hot adjacency where it has none) and a second Gaussian process on the
    one-hot adjacency, learning the rank-normal scores, with a spread calibrated by
    cross-validation. ``Predictor(model="gp")`` picks one model.

    Parameters
    ----------
    model : str or BasePredictor
        ``"auto"`` (default), a registered name (``"gp"``, ``"random-forest"``,
        ``"extra-trees"``, ``"gbt"``, ``"mlp"``, ``"ensemble"``, or a third party's) or an
        instance (cloned at each fit; its own ``features`` and ``calibration`` are ignored in
        favour of this predictor's).
    features, target, calibration, seed
        See :class:`BasePredictor`.

    Examples
    --------
    >>> import numpy as np
    >>> from nasbook import Predictor
    >>> from nasbook.tasks import NasBenchGraph
    >>> task = NasBenchGraph("cora")
    >>> rng = np.random.default_rng(0)
    >>> archs = [task.space.sample(rng) for _ in range(30)]
    >>> scores = task.lookup(archs)  # doctest: +SKIP
    >>> Predictor(seed=0).fit(archs, scores).predict(archs[:3])  # doctest: +SKIP
    <xarray.Dataset> ... mean, std over arch
    """

    alias: ClassVar[str] = "auto"

    def __init__(self, model: str | BasePredictor = "auto", features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.model = model

    def _validate_params(self) -> None:
        super()._validate_params()
        spec: Any = Ensemble(DEFAULT_MEMBERS) if self.model == "auto" else self.model
        if isinstance(spec, Predictor):
            raise InvalidParameterTypeError("Predictor(model=...) must be a model, not another Predictor.")
        self._built = _member("Predictor(model=...)", spec, self.seed)

    def _fit(self, X: np.ndarray, z: np.ndarray) -> None:
        self._built._fit(X, z)
        self.model_ = self._built

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model_._predict(X)
