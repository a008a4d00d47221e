"""Checkpoints of a training run: ``torch.save`` to bytes, read back with ``weights_only=True``.

:func:`save_checkpoint` and :func:`load_checkpoint` (exported by :mod:`nasbook.training`; :func:`train`
writes and reads them).
"""

from __future__ import annotations

import io
import pickle
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from nasbook._errors import InvalidParameterError

#: Written into every checkpoint; a checkpoint of another format is refused.
CHECKPOINT_FORMAT = "nasbook-checkpoint-1"


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, Mapping):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def save_checkpoint(state: Mapping[str, Any]) -> bytes:
    """``torch.save`` ``state`` (tensors moved to CPU) to bytes, tagged with the checkpoint format.

    Parameters
    ----------
    state : Mapping
        Tensors, numbers, strings and containers of them (weights, optimizer state, curves, random
        state); anything else could not be read back by :func:`load_checkpoint`.

    Returns
    -------
    bytes
        The checkpoint, with ``"format": CHECKPOINT_FORMAT`` added.
    """
    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **_to_cpu(state)}, buf)
    return buf.getvalue()


def load_checkpoint(data: object, owner: str = "train") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, with ``torch.load(weights_only=True)``.

    Only tensors, numbers, strings and containers can come back: a file that holds anything
    else (an arbitrary pickled object) is refused, not executed.

    Parameters
    ----------
    data : bytes
        The checkpoint (``Result.checkpoint``); bytearray and memoryview work too. Anything else, or
        bytes of another format, raises InvalidParameterError.
    owner : str, default "train"
        Who reads it, as the errors name it.

    Returns
    -------
    dict
        The saved state, tensors on CPU, with its ``"format"`` key.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidParameterError(
            f"{owner}: fidelity['checkpoint'] must be the bytes of a previous Result.checkpoint; "
            f"got {type(data).__name__}."
        )
    try:
        with warnings.catch_warnings():  # "Detected pickle protocol 4": a foreign file, refused below anyway
            warnings.filterwarnings("ignore", message=r".*pickle protocol.*")
            state = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError) as exc:
        raise InvalidParameterError(
            f"{owner}: fidelity['checkpoint'] is not a nasbook checkpoint (torch.load with weights_only=True "
            f"refused it: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__})."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        fmt = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise InvalidParameterError(
            f"{owner}: fidelity['checkpoint'] has format {fmt!r}; expected {CHECKPOINT_FORMAT!r}, "
            "the Result.checkpoint of a TrainingTask evaluation."
        )
    return state
