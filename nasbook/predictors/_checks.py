"""Input checks of the predictors: architectures of one space and finite scores, or an error that names the argument.

Used by :meth:`BasePredictor.fit <nasbook.predictors.BasePredictor.fit>`, ``predict`` and ``score``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, InvalidParameterTypeError
from nasbook.space import Architecture, SearchSpace


def live_space_of(owner: str, archs: Sequence[Architecture]) -> SearchSpace:
    """The space that ``archs`` belong to: the one the first keeps (the space that made it), else a space in memory
    with its id (an architecture rebuilt from a pickle or storage keeps none)."""
    from nasbook.space import live_space

    found = live_space(archs[0])
    if found is None:
        raise InvalidParameterError(
            f"{owner}: the space of these architectures ({archs[0].space_id!r}) is not in memory (architectures "
            "rebuilt from a pickle or from storage keep no space); pass it as space=..."
        )
    return found


def check_archs(owner: str, param: str, archs: object, space: SearchSpace | None) -> tuple[list[Architecture], SearchSpace]:
    """A list of architectures of one space (``space``, or theirs), or a clear error naming ``param``.

    A list or tuple, or a one-dimensional numpy array or pandas Series of them (a column of a frame,
    ``np.array(archs, dtype=object)[idx]``), in its order."""
    pd = sys.modules.get("pandas")  # a frame's column; pandas is imported where one exists
    if (isinstance(archs, np.ndarray) and archs.ndim == 1) or (pd is not None and isinstance(archs, (pd.Series, pd.Index))):
        archs = list(archs)
    if isinstance(archs, (str, bytes, Architecture)) or not isinstance(archs, Sequence):
        got = " ".join(repr(archs).split())  # one line: a frame's repr spans several
        raise InvalidParameterTypeError(
            f"{owner}({param}=...) must be a list of Architectures; got {got:.80} of type {type(archs).__name__}."
        )
    out = list(archs)
    for i, a in enumerate(out):
        if not isinstance(a, Architecture):
            raise InvalidParameterTypeError(
                f"{owner}({param}=...) must hold Architectures (from space.sample or space.make); "
                f"item {i} is {a!r:.60} of type {type(a).__name__}."
            )
    if not out:
        return out, space if space is not None else None  # type: ignore[return-value]
    if space is None:
        space = live_space_of(f"{owner}({param}=...)", out)
    for i, a in enumerate(out):
        if a.space_id != space.space_id:
            raise InvalidArchitectureError(
                f"{owner}({param}=...): item {i} ({a.id!r}) belongs to space {a.space_id!r}, not to "
                f"{type(space).__name__} {space.space_id!r}; every architecture must come from one space."
            )
    return out, space


def check_scores(owner: str, scores: object, n: int) -> np.ndarray:
    """Finite float scores, as many as the architectures, or a clear error naming ``scores``."""
    if isinstance(scores, (str, bytes)):
        raise InvalidParameterTypeError(f"{owner}(scores=...) must be a sequence of numbers; got {scores!r:.60}.")
    try:
        y = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterTypeError(
            f"{owner}(scores=...) must be a sequence of numbers; got {scores!r:.80} of type {type(scores).__name__}."
        ) from None
    if y.ndim == 0:  # None or one number: "got shape ()" named neither what was given nor what is wanted
        raise InvalidParameterTypeError(
            f"{owner}(scores=...) must be a sequence of numbers, one per architecture; got {scores!r:.60} of type "
            f"{type(scores).__name__}."
        )
    if y.ndim != 1:
        raise InvalidParameterError(f"{owner}(scores=...) must be one-dimensional; got shape {y.shape}.")
    if len(y) != n:
        raise InvalidParameterError(
            f"{owner}(archs=..., scores=...) must have the same length; got {n} architectures and {len(y)} scores."
        )
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise InvalidParameterError(
            f"{owner}(scores=...) must be finite; scores[{int(bad[0])}] is {y[bad[0]]!r} ({bad.size} not finite). "
            "Drop failed or diverged trials first (Predictor.fit_search does)."
        )
    return y


def model_output(owner: str, out: object, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A model's ``_predict(X)`` answer as float arrays ``(mean, std)`` of one value per row of ``X`` (``n``), or an
    error naming the hook: a plug-in returning the mean alone, a row too few or a string failed deep inside the
    calibration with numpy's own message."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise InvalidParameterTypeError(
            f"{owner}._predict(X) must return (mean, std), two arrays of one value per row of X ({n}); got "
            f"{type(out).__name__}" + (f" of shape {np.shape(out)}" if isinstance(out, np.ndarray) else "") + ".")
    try:
        mean, std = (np.asarray(v, dtype=np.float64) for v in out)
    except (TypeError, ValueError):
        raise InvalidParameterTypeError(f"{owner}._predict(X) must return (mean, std) of numbers; got "
                                        f"{type(out[0]).__name__} and {type(out[1]).__name__}.") from None
    if mean.shape != (n,) or std.shape != (n,):
        raise InvalidParameterError(f"{owner}._predict(X) must return (mean, std) of shape ({n},), one value per row of X; "
                                    f"got shapes {mean.shape} and {std.shape}.")
    return mean, std


def finite_mean(owner: str, mean: np.ndarray) -> np.ndarray:
    """``mean``, or an error naming ``_predict`` when some of it is NaN or infinite (a prediction nothing can rank)."""
    bad = int(np.count_nonzero(~np.isfinite(mean)))
    if bad:
        raise InvalidParameterError(f"{owner}._predict(X) returned a mean that is not finite for {bad} of {len(mean)} "
                                    "architectures; a predictor must predict a number for each.")
    return mean


@contextlib.contextmanager
def kept_on_failure(obj: Any) -> Iterator[None]:
    """Put back ``obj``'s attributes as they were when the block raises: a refused ``fit`` (another space's
    architectures, an encoding the space lacks, a NaN score) leaves a fitted predictor predicting as before,
    where it used to keep the new space and features and refuse its own architectures afterwards. The copy is
    shallow: objects the block changed in place stay changed (an ensemble's members, once its model fitting has
    begun), so it covers what ``fit`` refuses before fitting, not a model that fails halfway."""
    kept = dict(obj.__dict__)
    try:
        yield
    except BaseException:
        obj.__dict__.clear()
        obj.__dict__.update(kept)
        raise
