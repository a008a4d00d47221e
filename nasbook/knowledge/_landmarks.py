"""Landmarks for a transfer prior: which architectures to measure first on a new task so that a
prior-based predictor (:class:`~nasbook.predictors.PriorPredictor`) learns most from them.

A :class:`~nasbook.knowledge.TransferPrior` holds one surrogate per past task. Trained on a new
task, the first architectures serve twice: they tell which past tasks agree with the new one
(``PriorPredictor(task_weights="agreement")`` weighs each past task by its Kendall tau with them)
and they are the residual model's only data. Random architectures crowd where the space is dense;
landmarks are chosen to cover it instead:

- ``by="predictions"``: k-means (k = ``n``) over what the past tasks predict for each candidate (one
  column per past task, standardised over the candidates), so the landmarks run from what every
  past task rates low to what every past task rates high, and through the regions where they
  disagree (where the agreement weights are decided);
- ``by="encoding"``: k-means over the space's standardised encoding (graph features where the
  space has them; the prior is not used), a space-filling design;
- ``by="both"``: both blocks side by side, each scaled to the same total variance;
- ``by="disagreement"``: the candidates whose standardised past-task predictions spread most (the
  top ``DISAGREEMENT_SHARE`` of them), covered by k-means over the encoding.

Of each cluster the member nearest its centre is taken (a representative, never an outlier),
largest cluster first. The seed enters through k-means' initialisation (one k-means++ start per
seed) and, for spaces too large to enumerate, the candidates' sample: a given seed gives the same
landmarks every time, different seeds different but equally covering sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    NotEnumerableError,
    check_int,
    unknown_choice,
)
from nasbook.knowledge._vectors import check_space, default_kind, reference_stats, standardise
from nasbook.space import Architecture, SearchSpace

__all__ = ["BYS", "DISAGREEMENT_SHARE", "MAX_CANDIDATES", "select_landmarks"]

BYS: tuple[str, ...] = ("predictions", "encoding", "both", "disagreement")
PICKS: tuple[str, ...] = ("centre", "random")
#: at most this many candidates: the whole space when it is this small, else a uniform sample
MAX_CANDIDATES = 30_000
#: ``by="disagreement"`` clusters this share of the candidates, those the past tasks disagree on most
DISAGREEMENT_SHARE = 0.2


def candidate_pool(owner: str, space: SearchSpace, candidates: Sequence[Architecture] | None,
                   seed: int) -> list[Architecture]:
    """The distinct candidates (checked to be of ``space``), or the space itself: every architecture
    when it has at most :data:`MAX_CANDIDATES`, else that many distinct uniform draws (seeded)."""
    if candidates is None:
        try:
            if space.cardinality <= MAX_CANDIDATES:
                return space.enumerate(limit=MAX_CANDIDATES)
        except NotEnumerableError:
            pass
        rng = np.random.default_rng(seed)
        drawn: dict[str, Architecture] = {}
        for _ in range(4 * MAX_CANDIDATES):
            a = space.sample(rng)
            drawn.setdefault(a.id, a)
            if len(drawn) >= MAX_CANDIDATES:
                break
        return list(drawn.values())
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence):
        raise InvalidParameterTypeError(
            f"{owner}(candidates=...) must be a list of Architectures of the prior's space (or None: the space "
            f"itself); got {candidates!r:.60} of type {type(candidates).__name__}.")
    out: dict[str, Architecture] = {}
    for a in candidates:
        if not isinstance(a, Architecture) or a.space_id != space.space_id:
            got = f"an architecture of space {a.space_id!r}" if isinstance(a, Architecture) else repr(a)[:60]
            raise InvalidParameterError(
                f"{owner}(candidates=...) must hold architectures of the prior's space {space.space_id!r}; got "
                f"{got}. Translate them with space.from_dict(arch.to_dict()) or pass None (the space itself).")
        out.setdefault(a.id, a)
    return list(out.values())


def _standardised_columns(X: np.ndarray) -> np.ndarray:
    """Each column centred and scaled to unit standard deviation (constant columns become 0)."""
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 1e-12, sd, 1.0)  # type: ignore[no-any-return]


def _block(X: np.ndarray) -> np.ndarray:
    """Standardised columns scaled so that the block's total variance is 1 (blocks weigh alike)."""
    Z = _standardised_columns(X)
    live = int((Z.std(axis=0) > 0).sum())
    return Z / np.sqrt(max(live, 1))  # type: ignore[no-any-return]


def _kmeans_representatives(X: np.ndarray, n: int, seed: int, pick: str = "centre") -> list[int]:
    """Rows of ``X``: of each of ``n`` k-means clusters the member nearest its centre (``pick="centre"``)
    or one drawn uniformly (``pick="random"``: stratified sampling, the clusters as strata), largest first."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(np.ascontiguousarray(X, dtype=np.float64))
    labels, centres = km.labels_, km.cluster_centers_
    sizes = np.bincount(labels, minlength=n)
    rng = np.random.default_rng(seed)
    out = []
    for c in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(labels == c)
        if len(members) and pick == "random":
            out.append(int(members[int(rng.integers(len(members)))]))
        elif len(members):
            d = ((X[members] - centres[c]) ** 2).sum(axis=1)
            out.append(int(members[int(np.argmin(d))]))
    return out


def select_landmarks(prior: Any, n: int = 20, *, by: str = "predictions", candidates: Sequence[Architecture] | None = None,
                     seed: int = 0, space: SearchSpace | None = None, pick: str = "centre") -> list[Architecture]:
    """The ``n`` architectures to measure first on a new task, chosen to cover what the past tasks
    predict (see the module's docstring for ``by``).

    Parameters
    ----------
    prior : TransferPrior
        Or any object with ``predict_tasks(archs)`` (one prediction per past task) and, unless
        ``space`` is given, a ``space`` attribute.
    n : int
        How many landmarks (at most the number of candidates).
    by : {"predictions", "encoding", "both", "disagreement"}
        What k-means clusters (see the module's docstring): the past tasks' predictions, the encoding, both, or the encoding of the candidates the tasks disagree on most.
    candidates : list of Architecture, optional
        Where to choose from (architectures of the prior's space); default the space itself (all of
        it when it has at most :data:`MAX_CANDIDATES` architectures, else a uniform sample of that many).
    seed : int
        Seeds k-means' initialisation (and the sample of a large space's candidates).
    pick : {"centre", "random"}
        Of each cluster, the member nearest its centre, or one drawn at random (seeded).
    space : SearchSpace, optional
        Default ``prior.space``.

    Returns
    -------
    list of Architecture
        ``n`` distinct architectures of the space, largest cluster first.
    """
    owner = "select_landmarks"
    n = check_int(owner, "n", n, minimum=1)
    seed = check_int(owner, "seed", seed, minimum=0)
    if by not in BYS:
        raise unknown_choice(f"{owner}(by=...) landmark choice", by, BYS)
    if pick not in PICKS:
        raise unknown_choice(f"{owner}(pick=...) cluster member", pick, PICKS)
    if not callable(getattr(prior, "predict_tasks", None)):
        raise InvalidParameterTypeError(
            f"{owner}(prior=...) must have predict_tasks(archs) (one prediction per past task), as "
            f"nasbook.knowledge.TransferPrior has; got {prior!r:.60} of type {type(prior).__name__}.")
    space = check_space(owner, space if space is not None else getattr(prior, "space", None))
    pool = candidate_pool(owner, space, candidates, seed)
    if n > len(pool):
        raise InvalidParameterError(
            f"{owner}(n=...) asks for {n} landmarks but there are only {len(pool)} distinct candidates; pass "
            f"n <= {len(pool)} or more candidates.")
    blocks = []
    if by in ("predictions", "both", "disagreement"):
        per = prior.predict_tasks(pool)
        cols = list(per.values()) if isinstance(per, dict) else list(per)
        P = np.stack([np.asarray(c, dtype=np.float64).reshape(-1) for c in cols], axis=1)
        if P.shape[0] != len(pool) or not np.isfinite(P).all():
            raise InvalidParameterError(f"{owner}: the prior's predict_tasks did not give a finite number per "
                                        "candidate and past task.")
        blocks.append(_block(P))
    if by in ("encoding", "both", "disagreement"):
        kind = default_kind(space)
        E = standardise(space.encode_many(pool, kind), *reference_stats(space, kind), owner=owner)
        blocks.append(_block(E))
    rows = np.arange(len(pool))
    if by == "disagreement":
        spread = _standardised_columns(P).std(axis=1)
        keep = max(n, int(np.ceil(DISAGREEMENT_SHARE * len(pool))))
        rows = np.sort(np.argsort(-spread, kind="stable")[:keep])
        X = blocks[1][rows]
    else:
        X = np.hstack(blocks)
    chosen = _kmeans_representatives(X, n, seed, pick)
    if len(chosen) < n:  # k-means left a cluster empty (duplicate points): fill with the farthest others
        taken = set(chosen)
        d = np.min([((X - X[c]) ** 2).sum(axis=1) for c in chosen], axis=0)
        for i in np.argsort(-d, kind="stable"):
            if len(chosen) >= n:
                break
            if int(i) not in taken:
                chosen.append(int(i))
                taken.add(int(i))
    return [pool[int(rows[i])] for i in chosen]
