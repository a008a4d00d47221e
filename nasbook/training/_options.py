"""Lightning ``Trainer`` options a training task passes through, and ``deterministic``.

:func:`check_trainer_options` checks them against ``lightning.Trainer``'s signature before any trial runs;
:func:`torch_flags_kept` gives the process back the torch settings Lightning's ``deterministic`` changes.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

import lightning.pytorch as pl
import torch

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, did_you_mean, plain_scalar

#: values of ``deterministic`` (Lightning's ``Trainer(deterministic=...)``; False: torch's settings are left alone)
DETERMINISTIC: tuple[Any, ...] = (False, True, "warn")

#: ``Trainer`` arguments nasbook sets itself, and what to use instead
TRAINER_OWNED: dict[str, str] = {
    "max_epochs": "use max_epochs=... (or fidelity={'epochs': ...} per trial)",
    "min_epochs": "trials train max_epochs=... epochs, or stop when the strategy says so",
    "max_steps": "trials train whole epochs: use max_epochs=... (limit_train_batches=... shortens an epoch)",
    "min_steps": "trials train whole epochs: use max_epochs=...",
    "max_time": "use Search(trial_timeout_s=...)",
    "fast_dev_run": "use max_epochs=1 with limit_train_batches=... and limit_val_batches=...",
    "accelerator": "use accelerator=...",
    "devices": "a trial always trains on one device: use accelerator=...",
    "strategy": "a trial always trains on one device; run trials in parallel with an executor",
    "num_nodes": "a trial always trains on one device; run trials in parallel with an executor",
    "deterministic": "use deterministic=...",
    "callbacks": "nasbook's own callbacks record every trial (health=... sets its checks)",
    "logger": "nasbook records every epoch's metrics in Result.curves",
    "enable_checkpointing": "a trial's checkpoint is Result.checkpoint",
    "default_root_dir": "nasbook writes no files while training",
    "enable_progress_bar": "trials print nothing; the search shows progress",
    "enable_model_summary": "trials print nothing; ArchModule's n_params and flops are in Result.attrs",
    "profiler": "Result.attrs holds train_time_s",
    "barebones": "nasbook's callbacks need Lightning's hooks",
    "enable_autolog_hparams": "nasbook stores the task's parameters with the search",
    "model_registry": "nasbook writes no files while training",
    "num_sanity_val_steps": "trials run no sanity validation",
    "check_val_every_n_epoch": "every epoch is validated and reported to the search",
    "val_check_interval": "every epoch is validated once and reported to the search",
    "plugins": "plugins are objects, which a stored search cannot hold (precision=... sets mixed precision)",
}

_PLAIN = (type(None), bool, int, float, str)

#: batches per epoch: an int >= 1 (batches) or a float in (0, 1] (a fraction of the split); 0 would train or
#: validate nothing and leave every trial without its metric
_LIMITS = ("limit_train_batches", "limit_val_batches", "limit_test_batches", "limit_predict_batches")


def trainer_parameters() -> dict[str, inspect.Parameter]:
    """``lightning.Trainer``'s keyword arguments, by name (from its signature)."""
    return {n: p for n, p in inspect.signature(pl.Trainer.__init__).parameters.items()
            if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def _fits(value: object, annotation: Any) -> bool | None:
    """Whether a plain value fits an annotation (None: the annotation says too little to tell)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        answers = [_fits(value, a) for a in typing.get_args(annotation)]
        return True if any(answers) else (None if None in answers else False)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    return False  # a class (Accelerator, Profiler...), a list, a dict: not a plain value


def _allowed(annotation: Any) -> str:
    """``annotation`` as the plain values it admits, for an error message (Literals as one list)."""
    members = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) \
        else (annotation,)
    literals = [v for m in members if typing.get_origin(m) is typing.Literal for v in typing.get_args(m)]
    names = {type(None): "None", bool: "a bool", int: "an int", float: "a float", str: "a str"}
    kinds = [names[m] for m in members if m in names]
    if literals:
        return "one of " + ", ".join(repr(v) for v in [*literals, *([None] if "None" in kinds else [])])
    return " or ".join(kinds)


def _check_value(owner: str, name: str, value: Any, deterministic: object) -> None:
    """What the signature cannot say: finite numbers, batch limits that train something, no cuDNN benchmark in
    deterministic mode."""
    where = f"{owner}(trainer=...): lightning.Trainer's {name!r}"
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidParameterError(f"{where} must be a finite number; got {value!r}.")
    if name in _LIMITS and value is not None and not isinstance(value, bool) and not (
            (isinstance(value, int) and value >= 1) or (isinstance(value, float) and 0.0 < value <= 1.0)):
        raise InvalidParameterError(
            f"{where} takes an int >= 1 (batches per epoch) or a float in (0, 1] (a fraction of the split), or None "
            f"for all; got {value!r} of type {type(value).__name__}"
            + (": 0 runs no batch, so no trial would have its metrics." if value == 0 else "."))
    if name == "accumulate_grad_batches" and isinstance(value, int) and not isinstance(value, bool) and value < 1:
        raise InvalidParameterError(f"{where} must be an int >= 1 (batches per optimizer step); got {value!r}.")
    if name == "benchmark" and value is True and deterministic not in (False, None):
        raise InvalidParameterError(
            f"{where} is True but {owner}(deterministic={deterministic!r}): cuDNN's benchmark picks algorithms by "
            "timing them, which repeats no run bit for bit. Drop 'benchmark' or pass deterministic=False.")


def check_trainer_options(options: object, owner: str = "TrainingTask", deterministic: object = False) -> dict[str, Any]:
    """Check ``trainer=...`` options against ``lightning.Trainer``'s signature; return them as a plain dict.

    Parameters
    ----------
    options : Mapping or None
        ``{name: value}``: ``lightning.Trainer`` arguments nasbook does not set itself (:data:`TRAINER_OWNED`),
        with plain values (None, bool, int, float, str: they are stored as JSON with the search).
    owner : str, default "TrainingTask"
        Who takes them, as the errors name it.
    deterministic : {False, True, "warn"}, default False
        The task's ``deterministic``: ``benchmark=True`` is refused with it.

    Returns
    -------
    dict
        The options, keys sorted, numpy scalars as plain Python values; ``{}`` for None.

    Raises
    ------
    InvalidParameterError
        Naming the option, what it takes and what it got: an unknown name (with the closest one), one
        nasbook sets itself (with the parameter to use instead), a value of the wrong kind, NaN or infinity,
        a batch limit of 0, ``accumulate_grad_batches < 1``, ``benchmark=True`` with ``deterministic``.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidParameterTypeError(
            f"{owner}(trainer=...) must be a dict of lightning.Trainer arguments such as "
            f"{{'precision': 'bf16-mixed', 'gradient_clip_val': 1.0}}, or None; got {options!r} of type {type(options).__name__}.")
    params = trainer_parameters()
    passable = sorted(n for n in params if n not in TRAINER_OWNED)
    out: dict[str, Any] = {}
    for name in sorted(options, key=str):
        value = plain_scalar(options[name])
        if not isinstance(name, str) or name not in params:
            raise InvalidParameterError(
                f"{owner}(trainer=...): {name!r} is not an argument of lightning.Trainer {pl.__version__}"
                f"{did_you_mean(str(name), passable)}. It takes: {', '.join(passable)}.")
        if name in TRAINER_OWNED:
            raise InvalidParameterError(
                f"{owner}(trainer=...) cannot pass {name!r} to lightning.Trainer: "
                f"{'' if name == 'plugins' else 'nasbook sets it; '}{TRAINER_OWNED[name]}"
                + ("" if TRAINER_OWNED[name].endswith(".") else "."))
        plain = isinstance(value, _PLAIN)
        annotation = params[name].annotation
        fits = _fits(value, annotation) if plain else False
        if not fits and not (fits is None and plain):
            wanted = _allowed(annotation) or "a value lightning.Trainer takes"
            why = "" if plain else " (only None, bool, int, float and str: the options are stored as JSON with the search)"
            raise InvalidParameterError(
                f"{owner}(trainer=...): lightning.Trainer's {name!r} takes {wanted}; got {value!r} of type "
                f"{type(value).__name__}{why}.")
        _check_value(owner, name, value, deterministic)
        out[str(name)] = value  # np.str_ too
    return out


def check_deterministic(value: object, owner: str = "TrainingTask") -> Any:
    """``value`` if it is False, True or "warn" (a numpy bool as a bool); else InvalidParameterTypeError."""
    value = plain_scalar(value)
    if not (isinstance(value, bool) or value == "warn"):
        raise InvalidParameterTypeError(
            f"{owner}(deterministic=...) must be False, True or 'warn' (deterministic algorithms, 'warn': only "
            f"warn where torch has none); got {value!r} of type {type(value).__name__}.")
    return value


@contextlib.contextmanager
def torch_flags_kept() -> Iterator[None]:
    """Give back, on exit, what ``Trainer(deterministic=...)`` changes in the process.

    ``torch.use_deterministic_algorithms`` (and its ``warn_only``), ``torch.backends.cudnn.benchmark`` and
    the ``CUBLAS_WORKSPACE_CONFIG`` environment variable: a deterministic trial leaves neither the
    notebook nor the next trial on the same worker deterministic.

    Yields
    ------
    None
        Control to the block.
    """
    enabled, warn_only = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark
        if cublas is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = cublas


_GLOBAL_POOLS: dict[type, int] = {torch.nn.AdaptiveAvgPool1d: 1, torch.nn.AdaptiveAvgPool2d: 2, torch.nn.AdaptiveAvgPool3d: 3}


def _is_global(module: torch.nn.Module) -> bool:
    size = getattr(module, "output_size", None)
    sizes = size if isinstance(size, (tuple, list)) else (size,)
    return all(s == 1 for s in sizes)


@contextlib.contextmanager
def deterministic_pools(net: torch.nn.Module, enabled: bool = True) -> Iterator[None]:
    """Global average pools that torch's deterministic mode accepts on CUDA, while the block runs.

    ``nn.AdaptiveAvgPool1d/2d/3d`` have no deterministic CUDA backward: in deterministic mode torch raises
    at the first backward pass, and every CNN of nasbook's spaces ends with ``AdaptiveAvgPool(1)``. With
    ``enabled``, each such pool with output size 1 takes the mean over its spatial dims instead (the same
    function, whose backward is deterministic), only on CUDA tensors in deterministic mode: on the CPU, and
    outside deterministic mode, the pool runs as before. The pools are given back on exit.

    Parameters
    ----------
    net : torch.nn.Module
        The network to train.
    enabled : bool, default True
        False changes nothing.

    Yields
    ------
    None
        Control to the block.
    """
    patched = []
    if enabled:
        for module in net.modules():
            dims = _GLOBAL_POOLS.get(type(module))
            if dims is not None and _is_global(module) and "forward" not in vars(module):
                module.forward = _mean_or(module.forward, dims)  # type: ignore[method-assign]
                patched.append(module)
    try:
        yield
    finally:
        for module in patched:
            del module.forward


def _mean_or(pool: Any, dims: int) -> Any:
    def forward(x: torch.Tensor) -> torch.Tensor:
        if x.is_cuda and torch.are_deterministic_algorithms_enabled():
            return x.mean(dim=tuple(range(-dims, 0)), keepdim=True)
        return pool(x)

    return forward
