"""Learning-curve tables on disk: :class:`CurveTable` and how it is read.

:func:`load_curve_table` reads a table's ``.npz`` arrays (numbers only, no pickle) and its ``.json``
metadata, rebuilds its space and checks that every listed architecture still has its listed id;
:func:`load_digits_table` is the table shipped with nasbook (or another at a path), read once per
process. The tasks that answer from a table are in :mod:`._table`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import SearchSpace, SubsetSpace

#: The per-epoch curves a table holds, shape ``(n_archs, n_seeds, n_epochs)``.
CURVE_NAMES: tuple[str, ...] = ("val_accuracy", "val_loss", "train_loss")


@dataclass(frozen=True)
class CurveTable:
    """A learning-curve table: the arrays of the ``.npz`` and the metadata of the ``.json``.

    Attributes
    ----------
    space : SubsetSpace
        The tabulated architectures, in row order.
    curves : dict of float32 arrays ``(n_archs, n_seeds, n_epochs)``
        ``val_accuracy``, ``val_loss``, ``train_loss`` after each epoch (index 0 = first epoch).
    test_accuracy, train_time_s : float32 arrays ``(n_archs, n_seeds)``
        Of the network after the last epoch; training wall time of all epochs.
    n_params, flops : int64 arrays ``(n_archs,)``
    seeds : list of int
        The training seeds (second axis).
    meta : dict
        The ``.json`` document (how the table was built).
    latency_ms : float32 array ``(n_archs,)`` or None
        Median ms of a batch-1 CPU forward pass at one thread, when the table measured it.
    """

    space: SubsetSpace
    curves: dict[str, np.ndarray]
    test_accuracy: np.ndarray
    train_time_s: np.ndarray
    n_params: np.ndarray
    flops: np.ndarray
    seeds: list[int]
    meta: dict[str, Any]
    latency_ms: np.ndarray | None = None

    @property
    def n_archs(self) -> int:
        """Number of architectures (rows) in the table."""
        return int(self.test_accuracy.shape[0])

    @property
    def n_epochs(self) -> int:
        """Number of epochs each curve covers: the table's highest fidelity."""
        return int(self.curves["val_accuracy"].shape[2])


def _rebuild_parent(config: Mapping[str, Any]) -> SearchSpace:
    from nasbook import space as space_mod

    cls = getattr(space_mod, str(config.get("class", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, SearchSpace)):
        raise InvalidParameterError(f"the curve table was built over space {config.get('class')!r}, which nasbook cannot rebuild.")
    return cls(**dict(config.get("params", {})))


def load_curve_table(npz: bytes | Path | str, doc: Mapping[str, Any] | Path | str) -> CurveTable:
    """Read a table: ``npz`` (bytes or a path) with numeric arrays only, ``doc`` (the JSON, parsed or a path).

    The arrays are read with ``allow_pickle=False``; the space is rebuilt from the JSON's config
    and every listed spec must canonicalize to its listed id.

    Parameters
    ----------
    npz : bytes, pathlib.Path or str
        The ``.npz`` archive's content, or its path: the curves (``val_accuracy``, ``val_loss``,
        ``train_loss``), ``test_accuracy``, ``train_time_s``, ``n_params``, ``flops`` and optionally
        ``latency_ms``.
    doc : Mapping, pathlib.Path or str
        The table's JSON description (space config, architecture specs and ids, training seeds,
        the task it was built with), parsed or as a path.

    Returns
    -------
    CurveTable
        The table; a missing array raises InvalidParameterError.
    """
    import io
    import zipfile

    try:
        meta: Mapping[str, Any] = doc if isinstance(doc, Mapping) else json.loads(Path(doc).read_text())
    except (ValueError, RecursionError) as exc:
        raise InvalidParameterError(f"curve table: {str(doc)!r} is not the table's JSON description ({exc}).") from None
    source = io.BytesIO(npz) if isinstance(npz, bytes) else npz
    where = "the .npz archive" if isinstance(npz, bytes) else repr(str(npz))
    try:
        with np.load(source, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:  # an object (pickled) array, refused by allow_pickle=False: never unpickled
        raise InvalidParameterError(f"curve table: {where} was refused ({exc}): a curve table holds numeric arrays "
                                    "only, and nasbook never unpickles one.") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InvalidParameterError(f"curve table: {where} is not a readable .npz archive ({exc}).") from None
    if not isinstance(meta, Mapping):
        raise InvalidParameterError(f"curve table: the JSON description is a {type(meta).__name__}, not an object.")
    missing = [k for k in (*CURVE_NAMES, "test_accuracy", "train_time_s", "n_params", "flops") if k not in arrays]
    if missing:
        raise InvalidParameterError(f"curve table lacks array(s) {missing!r}")
    parent = _rebuild_parent(meta["space"]["config"])
    space = SubsetSpace(parent, list(meta["specs"]))
    got = [a.id for a in space.members]
    if got != list(meta["ids"]):
        raise InvalidParameterError("curve table: a listed spec does not canonicalize to its listed id; the space changed since it was built.")
    n, k, e = arrays["val_accuracy"].shape
    for name in CURVE_NAMES:
        if arrays[name].shape != (n, k, e):
            raise InvalidParameterError(f"curve table: {name} has shape {arrays[name].shape}, expected {(n, k, e)}")
    if n != len(got) or len(meta["seeds"]) != k or int(meta["epochs"]) != e:
        raise InvalidParameterError("curve table: the arrays do not match the JSON's ids, seeds or epochs")
    latency = arrays.get("latency_ms")
    if latency is not None and latency.shape != (n,):
        raise InvalidParameterError(f"curve table: latency_ms has shape {latency.shape}, expected {(n,)}")
    return CurveTable(
        space=space,
        curves={c: arrays[c] for c in CURVE_NAMES},
        test_accuracy=arrays["test_accuracy"],
        train_time_s=arrays["train_time_s"],
        n_params=arrays["n_params"],
        flops=arrays["flops"],
        seeds=[int(s) for s in meta["seeds"]],
        meta=dict(meta),
        latency_ms=latency,
    )


#: what writes a Digits table (named in errors)
DIGITS_WRITER = "build_digits_table.py"


def table_files(owner: str, path: Any, writer: str) -> tuple[Path, Path]:
    """The ``.npz`` and ``.json`` files of the table at prefix ``path``, both existing.

    Parameters
    ----------
    owner : str
        The task class, named in the errors (``DigitsTable``).
    path : str
        The prefix given as ``owner(path=...)``.
    writer : str
        What writes such tables (named in the errors).

    Returns
    -------
    tuple of pathlib.Path
        ``<path>.npz``, ``<path>.json``.

    Raises
    ------
    InvalidParameterTypeError
        ``path`` is not a str.
    InvalidParameterError
        A file is missing.
    """
    if not isinstance(path, str):
        hint = f"; pass {owner}(path=str(path))" if isinstance(path, os.PathLike) else ""
        raise InvalidParameterTypeError(
            f"{owner}(path=...) must be a str, the prefix of a .npz/.json pair (as {writer} writes them), or None for "
            f"the shipped table; got {path!r:.80} of type {type(path).__name__}{hint}.")
    prefix = Path(path)
    files = prefix.with_suffix(".npz"), prefix.with_suffix(".json")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise InvalidParameterError(
            f"{owner}(path={path!r}) must be the prefix of a .npz/.json pair (as {writer} writes them); "
            f"no such file: {', '.join(repr(m) for m in missing)}."
        )
    return files


@functools.cache
def load_digits_table(path: str | None = None) -> CurveTable:
    """The shipped Digits table (once per process), or the table at ``path`` (``.npz``/``.json`` prefix)."""
    if path is None:
        files = resources.files("nasbook") / "_data"
        return load_curve_table((files / "digits_cells.npz").read_bytes(), json.loads((files / "digits_cells.json").read_text()))
    return load_curve_table(*table_files("DigitsTable", path, DIGITS_WRITER))

