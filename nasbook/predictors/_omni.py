"""The "omni" predictor: the space's encoding plus extra per-architecture columns in one model.

Zero-cost proxies (:func:`nasbook.proxies.compute`), early learning-curve values, latency, or
any other number known per architecture before (or early in) training become features beside the
encoding, in the spirit of White et al.'s "omni" predictor (2021).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors._base import BasePredictor, Calibration, Target
from nasbook.predictors._checks import kept_on_failure
from nasbook.predictors._ensemble import Predictor
from nasbook.space import Architecture, SearchSpace

_ALLOWED = "an xarray Dataset over dim 'arch' (e.g. proxies.compute's), a pandas DataFrame indexed by architecture id, " \
           "or a dict {architecture id: list of numbers}"


def extra_table(owner: str, extra: object) -> tuple[dict[str, int], np.ndarray, list[str]]:
    """``(row of each id, float matrix, column names)`` from a Dataset, a DataFrame or a dict."""
    if extra is None:
        raise InvalidParameterError(f"{owner}(extra=...) is required: {_ALLOWED}; got None.")
    if type(extra).__name__ == "Dataset" and hasattr(extra, "data_vars"):
        ds: Any = extra
        if "arch" not in ds.dims:
            raise InvalidParameterError(f"{owner}(extra=...) must have a dim 'arch'; got a Dataset with dims {list(ds.dims)}.")
        ids = [str(i) for i in ds["arch"].values]
        cols, names = [], []
        for name, var in ds.data_vars.items():
            if "arch" not in var.dims:
                continue
            arr = np.asarray(var.transpose("arch", ...).values, dtype=np.float64).reshape(len(ids), -1)
            cols.append(arr)
            names += [str(name)] if arr.shape[1] == 1 else [f"{name}[{k}]" for k in range(arr.shape[1])]
        if not cols:
            raise InvalidParameterError(f"{owner}(extra=...) holds no variable along dim 'arch'.")
        matrix = np.hstack(cols)
    elif hasattr(extra, "index") and hasattr(extra, "to_numpy") and hasattr(extra, "columns"):
        df: Any = extra
        ids, matrix, names = [str(i) for i in df.index], df.to_numpy(dtype=np.float64), [str(c) for c in df.columns]
    elif isinstance(extra, Mapping):
        ids = [str(k) for k in extra]
        rows = [np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in extra.values()]
        if not rows or len({r.shape for r in rows}) != 1 or rows[0].ndim != 1:
            raise InvalidParameterError(f"{owner}(extra=...): every architecture's list must have the same length.")
        matrix, names = np.vstack(rows), [f"extra[{k}]" for k in range(len(rows[0]))]
    else:
        raise InvalidParameterTypeError(f"{owner}(extra=...) must be {_ALLOWED}; got {extra!r:.60} of type {type(extra).__name__}.")
    empty = np.flatnonzero(np.isnan(matrix).all(axis=0))
    if empty.size:
        bad = [names[int(k)] for k in empty]
        raise InvalidParameterError(f"{owner}(extra=...): column(s) {bad} hold no number at all.")
    return {i: r for r, i in enumerate(ids)}, matrix, names


def symlog(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: proxies span many decades (synflow 1e6 to 1e12); infinities stay."""
    with np.errstate(invalid="ignore"):
        return np.sign(x) * np.log1p(np.abs(x))  # type: ignore[no-any-return]


class OmniPredictor(Predictor):
    """:class:`Predictor` on the space's encoding plus extra per-architecture columns.

    Each extra column is mapped through ``sign(x) log(1 + |x|)`` (zero-cost proxies span many
    decades), its infinities and NaNs replaced by the training set's finite minimum (NASWOT's
    ``-inf`` is "worst") or maximum, and standardised with the training set's mean and standard
    deviation, then appended to the encoding.

    Parameters
    ----------
    extra : xarray.Dataset, pandas.DataFrame or dict
        Numbers per architecture id: a Dataset over dim ``arch`` (every variable along it is a
        column, e.g. ``proxies.compute(...)`` merged with early-curve values), a DataFrame
        indexed by id, or ``{id: [numbers]}``. Every architecture fitted or predicted must be in it.
    model, features, target, calibration, seed
        See :class:`Predictor`.
    encoding : bool, default True
        False uses the extra columns alone (an ablation: how much does the encoding add?).

    Examples
    --------
    >>> import xarray as xr
    >>> from nasbook import proxies
    >>> from nasbook.tasks import DigitsTable
    >>> task = DigitsTable()
    >>> px = proxies.compute(task.space, task.space.members, task)            # doctest: +SKIP
    >>> early = xr.Dataset({"val_accuracy_1": ("arch", task.curve()[:, 0])}, coords={"arch": px["arch"].values})  # doctest: +SKIP
    >>> OmniPredictor(extra=xr.merge([px, early]), seed=0)                    # doctest: +SKIP
    """

    alias: ClassVar[str] = "omni"

    def __init__(self, extra: Any = None, model: str | BasePredictor = "auto", features: str | Sequence[str] = "auto",
                 target: Target = "rank", calibration: Calibration = "cv", seed: int | None = None, encoding: bool = True):
        super().__init__(model=model, features=features, target=target, calibration=calibration, seed=seed)
        self.extra = extra
        self.encoding = encoding

    def _repr_params(self) -> dict[str, Any]:
        params = self.get_params()
        try:
            lookup, matrix, names = extra_table(type(self).__name__, self.extra)
            params["extra"] = _Summary(f"<{len(lookup)} architectures x {len(names)} columns: {', '.join(names)}>")
        except InvalidParameterError:
            pass
        return params

    def _validate_params(self) -> None:
        super()._validate_params()
        if not isinstance(self.encoding, bool):
            raise InvalidParameterTypeError(f"OmniPredictor(encoding=...) must be True or False; got {self.encoding!r}.")
        self._lookup, self._matrix, self.extra_names_ = extra_table(type(self).__name__, self.extra)

    def fit(self, archs: Sequence[Architecture], scores: Sequence[float], *, space: SearchSpace | None = None) -> OmniPredictor:
        with kept_on_failure(self):  # a refused fit keeps the fitted columns' statistics
            self._extra_stats: tuple[np.ndarray, ...] | None = None  # set from the training rows by the first _encode
            super().fit(archs, scores, space=space)
        return self

    def _all_features(self, space: SearchSpace) -> tuple[str, ...]:
        # without the encoding, every member of an ensemble sees the extra columns alone
        return super()._all_features(space) if self.encoding else self._resolve_features(space)

    def _rows(self, archs: Sequence[Architecture]) -> np.ndarray:
        missing = [a.id for a in archs if a.id not in self._lookup]
        if missing:
            raise InvalidParameterError(
                f"{type(self).__name__}(extra=...) has no row for {len(missing)} architecture(s), e.g. {missing[0]!r}; "
                f"it covers {len(self._lookup)}. Compute the extra columns for every architecture you fit or predict."
            )
        return symlog(self._matrix[[self._lookup[a.id] for a in archs]])

    def _encode(self, archs: Sequence[Architecture]) -> np.ndarray:
        raw = self._rows(archs)
        if self._extra_stats is None:
            finite = np.where(np.isfinite(raw), raw, np.nan)
            lo, hi = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
            lo, hi = np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(hi), hi, 0.0)
            filled = np.where(np.isposinf(raw), hi, np.where(np.isfinite(raw), raw, lo))
            mean, sd = filled.mean(axis=0), filled.std(axis=0)
            self._extra_stats = (lo, hi, mean, np.where(sd > 0, sd, 1.0))
        lo, hi, mean, sd = self._extra_stats
        cols = (np.where(np.isposinf(raw), hi, np.where(np.isfinite(raw), raw, lo)) - mean) / sd
        if not self.encoding:
            return cols  # type: ignore[no-any-return]
        return np.hstack([super()._encode(archs), cols])


class _Summary(str):
    def __repr__(self) -> str:
        return str(self)
