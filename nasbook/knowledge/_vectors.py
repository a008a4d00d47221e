"""Architecture vectors for similarity: a space's encoding, standardised the same way every time.

A vector is ``(space.encode(arch, kind) - mean) / scale``, where ``mean`` and ``scale`` are the
column means and standard deviations over a fixed-seed sample of the space (2,048 draws, seed 0),
so that the transform depends only on the space and its encoding layout, never on which
architectures happen to be indexed: adding architectures never moves the ones already there.
Constant columns keep scale 1 (they then add nothing to any distance). Standardising keeps a
count feature with a wide range (e.g. GRAF's path counts) from drowning the one-hot columns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterTypeError, unknown_choice
from nasbook.space import Architecture, SearchSpace

#: draws of the reference sample whose column statistics standardise every vector
REFERENCE_SIZE = 2048
REFERENCE_SEED = 0


def default_kind(space: SearchSpace) -> str:
    """``"graf"`` where the space has it (graph features predict performance best here: NOTES.md,
    tau 0.33 against one-hot's 0.23 at 20 training architectures), else ``"adjacency"``."""
    return "graf" if "graf" in space.encodings else "adjacency"


def check_space(owner: str, space: object) -> SearchSpace:
    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(
            f"{owner}(space=...) must be a nasbook SearchSpace (e.g. task.space); got {space!r} of type "
            f"{type(space).__name__}."
        )
    return space


def check_kind(owner: str, space: SearchSpace, kind: str | None) -> str:
    kind = default_kind(space) if kind is None else kind
    if kind not in space.encodings:
        raise unknown_choice(f"{owner}(kind=...) encoding", kind, space.encodings,
                             hint="space.encodings lists the encodings this space gives.")
    return kind


@functools.lru_cache(maxsize=16)
def _reference_stats_cached(space: SearchSpace, kind: str, version: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(REFERENCE_SEED)
    archs = [space.sample(rng) for _ in range(REFERENCE_SIZE)]
    x = space.encode_many(archs, kind).astype(np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def reference_stats(space: SearchSpace, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` of ``space.encode(., kind)`` over the reference sample (cached per layout)."""
    return _reference_stats_cached(space, kind, space.encoding_version(kind))


def given_stats(space: SearchSpace, kind: str, reference: Any) -> tuple[np.ndarray, np.ndarray]:
    """``reference`` (the ``(mean, scale)`` an index was saved with: :func:`reference_stats` of its process) as
    float32 arrays, checked: one value per column of ``space.encode(., kind)``, finite, scales > 0. A saved
    index keeps its own, so that its stored vectors and the queries are standardised alike, and a new process
    does not draw and encode the 2,048 reference cells again (docs/benchmarks.md 11s-kbload)."""
    try:
        mean, scale = (np.array(v, dtype=np.float32) for v in reference)
    except (TypeError, ValueError):
        mean = scale = np.zeros(0, dtype=np.float32)
    d = space.encoding_size(kind)
    if (mean.shape != (d,) or scale.shape != (d,) or not np.isfinite(mean).all() or not np.isfinite(scale).all()
            or not (scale > 0).all()):
        raise InvalidParameterTypeError(
            f"ArchIndex(reference=...) must be (mean, scale): {d} finite numbers each, scales > 0 (what "
            f"reference_stats(space, {kind!r}) gives); got arrays of shapes {mean.shape} and {scale.shape}.")
    return mean, scale


def standardise(raw: Any, mean: np.ndarray, scale: np.ndarray, owner: str = "ArchIndex") -> np.ndarray:
    """Row vectors ``(raw - mean) / scale`` as a C-contiguous float32 (n, d) array."""
    x = np.asarray(raw, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != mean.shape[0]:
        raise InvalidParameterTypeError(
            f"{owner}: vectors must have {mean.shape[0]} columns (the length of the space's encoding); "
            f"got an array of shape {x.shape}."
        )
    if not np.isfinite(x).all():
        raise InvalidParameterTypeError(f"{owner}: vectors hold NaN or infinite values; encode real architectures.")
    return np.ascontiguousarray((x - mean) / scale, dtype=np.float32)


def encode_archs(space: SearchSpace, archs: Sequence[Architecture], kind: str) -> np.ndarray:
    """``space.encode_many`` (which validates each architecture against the space)."""
    return space.encode_many(list(archs), kind)
