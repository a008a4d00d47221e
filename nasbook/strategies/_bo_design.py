"""Design helpers of :class:`~nasbook.strategies.BO`: its default surrogate, a space-filling initial
design and the far-from-evaluated filter of its exploration asks; its predictor as stored configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasbook.predictors import BasePredictor
    from nasbook.space import Architecture, SearchSpace

INITS: tuple[str, ...] = ("random", "kmeans")
#: the k-means design clusters at most this many architectures (a uniform sample of larger pools)
MAX_DESIGN_POOL = 30_000


#: the encodings of the default surrogate, where the space has them all (else the predictor's "auto")
DEFAULT_FEATURES: tuple[str, ...] = ("graf", "adjacency")


def default_predictor(space: SearchSpace | None = None) -> BasePredictor:
    """The surrogate of ``BO(predictor="auto")``: a random forest of 50 trees, with the spread over its
    trees as the uncertainty, uncalibrated, on the space's graph features plus its one-hot
    adjacency (where it has both). A fit costs ~0.1 s at 100 trials, ~0.6 s at 1,000."""
    from nasbook.predictors import RandomForest

    feats: str | tuple[str, ...] = "auto"
    if space is not None and all(k in getattr(space, "encodings", ()) for k in DEFAULT_FEATURES):
        feats = DEFAULT_FEATURES
    return RandomForest(n_estimators=50, calibration="none", features=feats)


def design_kinds(space: SearchSpace) -> tuple[str, ...]:
    """The encodings the design and the distance filter work on: graph features plus the one-hot
    adjacency where the space has both, else its first encoding."""
    kinds = tuple(k for k in ("graf", "adjacency") if k in space.encodings)
    return kinds or (space.encodings[0],)


def standardized(X: np.ndarray) -> np.ndarray:
    """Columns scaled to unit standard deviation and centred (constant columns dropped), float32."""
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    keep = sd > 0
    return np.ascontiguousarray((X[:, keep] - X[:, keep].mean(axis=0)) / sd[keep], dtype=np.float32)


def kmeans_design(space: SearchSpace, pool: list[Architecture], n: int, seed: int) -> list[Architecture]:
    """``n`` architectures that cover ``pool``: k-means (k = ``n``) over the standardized encodings,
    and of each cluster the member nearest its centre (a medoid-like representative, never an
    outlier), ordered by cluster size, largest first."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    if len(pool) > MAX_DESIGN_POOL:
        pool = [pool[i] for i in np.sort(rng.choice(len(pool), MAX_DESIGN_POOL, replace=False))]
    n = min(n, len(pool))
    if n < 1:
        return []
    X = standardized(np.hstack([space.encode_many(pool, k) for k in design_kinds(space)]))
    km = KMeans(n_clusters=n, n_init=3, random_state=int(rng.integers(2**31))).fit(X)
    labels, centres = km.labels_, km.cluster_centers_
    sizes = np.bincount(labels, minlength=n)
    out = []
    for c in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(labels == c)
        if len(members):
            d = ((X[members] - centres[c]) ** 2).sum(axis=1)
            out.append(pool[int(members[int(np.argmin(d))])])
    return out


def far_mask(X_cands: np.ndarray, X_told: np.ndarray, scale: np.ndarray, quantile: float) -> np.ndarray:
    """Which candidates lie farther from every told architecture than the ``quantile`` of the
    candidates' nearest-told distances (Euclidean on the columns divided by ``scale``)."""
    from sklearn.metrics import pairwise_distances_argmin_min

    s = np.where(scale > 0, scale, 1.0).astype(np.float32)
    _, nearest = pairwise_distances_argmin_min(np.asarray(X_cands, dtype=np.float32) / s,
                                               np.asarray(X_told, dtype=np.float32) / s)
    return nearest >= np.quantile(nearest, quantile)  # type: ignore[no-any-return]


def predictor_config(spec: Any) -> Any:
    """A predictor as JSON: ``{"predictor": class name, "params": {...}}`` (nested instances too)."""
    from nasbook.predictors import BasePredictor

    if isinstance(spec, BasePredictor):
        return {"predictor": type(spec).__name__, "params": {k: predictor_config(v) for k, v in spec.get_params().items()}}
    if isinstance(spec, (list, tuple)):
        return [predictor_config(v) for v in spec]
    return spec


def predictor_from_config(spec: Any) -> Any:
    """The inverse of :func:`predictor_config`."""
    from nasbook.predictors import predictor_class

    if isinstance(spec, dict) and "predictor" in spec:
        params = {k: predictor_from_config(v) for k, v in dict(spec.get("params", {})).items()}
        return predictor_class(str(spec["predictor"]))(**params)
    if isinstance(spec, list):
        return tuple(predictor_from_config(v) for v in spec)
    return spec
