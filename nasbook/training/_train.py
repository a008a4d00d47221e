"""``train``: one quiet, seeded Lightning fit that can continue from a checkpoint."""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from torch import nn

from nasbook._errors import InvalidParameterError, TrialDiverged, check_int
from nasbook._seeding import seeded
from nasbook.training._callbacks import HealthCheck, NasbookCallback
from nasbook.training._checkpoint import CHECKPOINT_FORMAT as CHECKPOINT_FORMAT  # re-exported: its home before
from nasbook.training._checkpoint import load_checkpoint, save_checkpoint
from nasbook.training._fingerprint import RunFingerprint
from nasbook.training._module import ArchModule
from nasbook.training._options import check_deterministic, check_trainer_options, deterministic_pools, torch_flags_kept
from nasbook.trial import Reporter

#: Accelerators :func:`train` accepts (passed on to ``lightning.Trainer``).
ACCELERATORS: tuple[str, ...] = ("auto", "cpu", "cuda", "gpu", "mps")

# lightning's messages that say nothing useful about a small in-memory dataset, and one
# deprecation lightning triggers itself with recent torch
_QUIET = (
    r".*does not have many workers.*",
    r".*is smaller than the logging interval.*",
    r".*isinstance\(treespec, LeafSpec\).*",
)


def quiet_lightning() -> None:
    """Set lightning's loggers to WARNING: no "GPU available" or "Seed set" lines in the notebook."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)


def make_trainer(
    max_epochs: int,
    *,
    callbacks: Sequence[pl.Callback] = (),
    accelerator: str = "cpu",
    **kwargs: Any,
) -> pl.Trainer:
    """A ``lightning.Trainer`` that writes nothing and prints nothing.

    No checkpoints, no logger (so no ``lightning_logs/``), no progress bar or model summary, no
    sanity validation, one device: the first one visible, which on a dask-cuda worker is the
    worker's own GPU (dask-cuda lists it first in the worker's ``CUDA_VISIBLE_DEVICES``; the others
    follow, so ``devices="auto"`` would take every GPU of the machine). ``kwargs`` go to
    ``lightning.Trainer`` and override these defaults.

    Parameters
    ----------
    max_epochs : int
        Epochs to train.
    callbacks : sequence of lightning.Callback, default ()
        Callbacks for the trainer (nasbook's reporter and health checks, your own).
    accelerator : str, default "cpu"
        Lightning's accelerator (``"cpu"``, ``"gpu"``, ``"auto"``, ...); always one device. A GPU
        accelerator where this process sees none raises RuntimeError saying why (a CPU-only torch
        build, or no GPU visible) instead of Lightning's bare "No supported gpu backend found!".
    **kwargs
        Any other ``lightning.Trainer`` argument; these override the defaults above.

    Returns
    -------
    lightning.Trainer
        A new trainer.

    Examples
    --------
    >>> trainer = make_trainer(3)
    >>> trainer.max_epochs, trainer.logger
    (3, None)
    """
    quiet_lightning()
    options: dict[str, Any] = {
        "max_epochs": max_epochs,
        "accelerator": accelerator,
        "devices": 1,
        "callbacks": list(callbacks),
        "enable_checkpointing": False,
        "logger": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    options.update(kwargs)
    try:
        return pl.Trainer(**options)
    except MisconfigurationException as exc:
        if not _gpu_missing(str(options["accelerator"])):  # another misconfiguration: Lightning's message says it
            raise
        raise RuntimeError(no_gpu_message(str(options["accelerator"]), exc)) from exc


def _gpu_missing(accelerator: str) -> bool:
    mps = bool(torch.backends.mps.is_available())
    cuda = torch.cuda.device_count() > 0
    return {"mps": not mps, "cuda": not cuda, "gpu": not (cuda or mps)}.get(accelerator, False)


def no_gpu_message(accelerator: str, exc: BaseException) -> str:
    """Why ``accelerator`` cannot run here. The same text on every worker (no host or process id), so
    that a search whose first trials all fail this way stops with it once (``stop_after_failures``)."""
    if accelerator == "mps":
        why = "torch sees no Apple MPS device here"
    elif torch.version.cuda is None:
        why = (f"torch {torch.__version__} is a CPU-only build (torch.version.cuda is None): install a CUDA "
               "build of torch (README, 'GPU machines')")
    else:
        why = (f"torch {torch.__version__} is built for CUDA {torch.version.cuda} but sees no GPU "
               "(torch.cuda.device_count() == 0: no NVIDIA GPU or driver, or CUDA_VISIBLE_DEVICES hides them)")
    return (f"accelerator={accelerator!r} cannot train here: {why}. accelerator='auto' trains on a GPU where there "
            f"is one and on the CPU elsewhere. (Lightning: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")


def profile(net: nn.Module, x: torch.Tensor) -> dict[str, int | None]:
    """``n_params``, forward ``flops`` per sample and ``n_outputs`` of ``net`` on one sample of ``x``.

    Runs one forward pass in eval mode without gradients, so it also checks that ``net`` takes
    inputs shaped like ``x``: a shape mismatch raises the ``RuntimeError`` of that pass.
    FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add is 2);
    ops it does not know (pooling, activations) count 0.

    Parameters
    ----------
    net : torch.nn.Module
        The network (its train/eval mode is restored).
    x : torch.Tensor
        A batch; only its first sample is run.

    Returns
    -------
    dict
        ``{"n_params": int, "flops": int or None, "n_outputs": int or None}``: ``flops`` is None
        if counting fails, ``n_outputs`` (values per sample) when the output is not a tensor.
    """
    from torch.utils.flop_counter import FlopCounterMode

    n_params = sum(p.numel() for p in net.parameters())
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            sample = x[:1]
            flops: int | None
            try:
                counter = FlopCounterMode(display=False)
                with counter:
                    out = net(sample)
                flops = int(counter.get_total_flops())
            except RuntimeError:
                out = net(sample)  # a real shape error raises here, outside the counter
                flops = None
    finally:
        net.train(was_training)
    n_outputs = int(out[0].numel()) if isinstance(out, torch.Tensor) and out.dim() >= 1 else None
    return {"n_params": int(n_params), "flops": flops, "n_outputs": n_outputs}


def train(
    net: nn.Module,
    datamodule: pl.LightningDataModule,
    *,
    max_epochs: int,
    report: Reporter | None = None,
    checkpoint: bytes | Mapping[str, Any] | None = None,
    seed: int | None = 0,
    monitor: str = "val_accuracy",
    optimizer: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    accelerator: str = "cpu",
    num_threads: int | None = 1,
    health: HealthCheck | Mapping[str, Any] | bool = True,
    deterministic: bool | str = False,
    trainer: Mapping[str, Any] | None = None,
    test: bool = True,
    extra: Mapping[str, Any] | None = None,
    fingerprint: bool = True,
    callbacks: Sequence[pl.Callback] = (),
) -> dict[str, Any]:
    """Train ``net`` on ``datamodule`` until ``max_epochs`` epochs in all; return what happened.

    With a ``checkpoint`` (a previous run's ``"checkpoint"`` bytes), the network weights,
    optimizer state, curves, epoch and step counters and torch's random state (CPU, and CUDA's when
    CUDA was used and the same number of GPUs is visible) are restored, and
    only ``max_epochs - checkpoint epochs`` more epochs are trained. On CPU with the same
    ``num_threads`` this continues exactly as an uninterrupted run would have.

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``(batch, *input_shape)`` to ``(batch, n_classes)`` logits. Build it inside
        :func:`seeded` for reproducible initial weights.
    datamodule : lightning.LightningDataModule
        Yields ``(x, y)`` batches; ``test_dataloader`` is optional.
    max_epochs : int
        Epochs in all, including those in ``checkpoint``.
    report : callable, optional
        ``report(epoch, **metrics) -> Decision``, called after every epoch (epoch counted from
        0, across checkpoints); ``Decision.STOP`` ends training after that epoch.
    checkpoint : bytes or dict, optional
        A previous result's checkpoint (bytes) or its loaded state (dict) to continue from; None starts afresh.
    seed : int or None, default 0
        Seeds torch for the data order and dropout (ignored with a checkpoint, which holds the
        random state to continue from).
    monitor : str, default "val_accuracy"
        Must be logged (checked after the first epoch).
    optimizer, lr, weight_decay
        See :class:`ArchModule`.
    accelerator : {"cpu", "auto", "cuda", "gpu", "mps"}, default "cpu"
        Where to train; ``"auto"`` uses a GPU when there is one (always one device).
    num_threads : int or None, default 1
        torch intra-op threads while training (restored afterwards); None leaves them alone.
    health : HealthCheck, dict or bool, default True
        True: a default :class:`HealthCheck`; a dict: its keyword arguments; False: none.
    deterministic : {False, True, "warn"}, default False
        ``lightning.Trainer(deterministic=...)``: True makes torch use deterministic algorithms
        (``torch.use_deterministic_algorithms``, cuDNN's benchmark off, ``CUBLAS_WORKSPACE_CONFIG=:4096:8``)
        and raise on an op that has none; "warn" only warns there. Global average pools run as a mean on
        CUDA (torch has no deterministic CUDA backward for them). The process's settings are restored afterwards. False leaves torch's settings as they are.
    trainer : dict, optional
        More ``lightning.Trainer`` arguments (``precision``, ``gradient_clip_val``,
        ``accumulate_grad_batches``, ``limit_train_batches``...), checked by
        :func:`check_trainer_options`: not those nasbook sets itself.
    test : bool, default True
        Evaluate the final network on the test split when the datamodule has one.
    extra : dict, optional
        Plain data stored in the checkpoint under ``"extra"`` (e.g. the architecture id).
    fingerprint : bool, default True
        Fingerprint the first steps (:class:`RunFingerprint`): reported with every epoch's metrics
        and returned (also when the run diverges, as the exception's ``metrics``).
    callbacks : sequence of lightning callbacks, optional
        Run before the recorder, so what they log at an epoch's end is in that epoch's curves; a
        callback with a ``checkpoint_extra()`` method adds its dict to the checkpoint's ``"extra"``.

    Returns
    -------
    dict
        ``curves`` (metric -> per-epoch list, all epochs), ``epochs`` (in all), ``epochs_run`` and
        ``steps_run`` (by this call), ``steps`` (optimizer steps in all), ``stopped`` (True when
        ``report`` said STOP), ``test`` (``test_loss``, ``test_accuracy``, or empty),
        ``train_time_s`` (this call's fit), ``train_time_total_s`` (all fits),
        ``fingerprint`` (``fp_*`` numbers, empty with ``fingerprint=False``), ``checkpoint`` (bytes).

    Raises
    ------
    TrialDiverged
        From :class:`HealthCheck`, with attributes ``epochs`` (completed before the failure),
        ``curves`` (their metrics) and ``metrics`` (the fingerprint).
    InvalidParameterError
        For a bad setting, an unreadable checkpoint or a ``monitor`` that is never logged.
    """
    max_epochs = check_int("train", "max_epochs", max_epochs, minimum=1)
    deterministic = check_deterministic(deterministic, "train")
    options = check_trainer_options(trainer, "train", deterministic)
    if accelerator not in ACCELERATORS:
        raise InvalidParameterError(
            f"accelerator must be one of {', '.join(map(repr, ACCELERATORS))}; got {accelerator!r}."
        )
    state: dict[str, Any] | None = None
    if checkpoint is not None:
        state = dict(checkpoint) if isinstance(checkpoint, Mapping) else load_checkpoint(checkpoint)
    done = int(state["epochs"]) if state else 0
    if done > max_epochs:
        raise InvalidParameterError(
            f"the checkpoint has already trained {done} epochs, more than the {max_epochs} asked for; "
            f"ask for epochs >= {done}."
        )
    curves: dict[str, list[float]] = {k: list(v) for k, v in (state or {}).get("curves", {}).items()}
    if state and state.get("optimizer_name", optimizer) != optimizer:
        raise InvalidParameterError(
            f"the checkpoint was trained with optimizer {state['optimizer_name']!r}; continue it with the same "
            f"optimizer, not {optimizer!r}."
        )
    if state:
        try:
            net.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise InvalidParameterError(
                f"the checkpoint does not fit this network (was it written for another architecture?): "
                f"{str(exc).splitlines()[0]}"
            ) from exc
    module = ArchModule(
        net, optimizer=optimizer, lr=lr, weight_decay=weight_decay,
        optimizer_state=state["optimizer"] if state else None,
    )
    printer = RunFingerprint(state=(state or {}).get("fingerprint")) if fingerprint else None
    recorder = NasbookCallback(report, monitor, epoch_offset=done, curves=curves,
                               extra=printer.features if printer is not None else None)
    cbs: list[pl.Callback] = [*callbacks, recorder]
    steps_before = int(state.get("steps", 0)) if state else 0
    checker: HealthCheck | None = None
    if health is not False:
        if isinstance(health, HealthCheck):
            checker = health
        else:
            checker = HealthCheck(**(dict(health) if isinstance(health, Mapping) else {}))
        checker.epoch_offset, checker.step_offset = done, steps_before
        checker.reference_loss = _health_reference(checker.reference_loss, state)
        cbs.insert(0, checker)
    if printer is not None:
        cbs.insert(0, printer)  # before the health check: it records the step that fails
    with torch_flags_kept(), deterministic_pools(net, bool(deterministic)), \
            seeded(seed if state is None else None, num_threads), warnings.catch_warnings():
        pl_trainer = _trainer(max_epochs - done, cbs, accelerator, deterministic, options)
        for pattern in _QUIET:
            warnings.filterwarnings("ignore", message=pattern)
        if state is not None and isinstance(state.get("rng"), torch.Tensor):
            torch.set_rng_state(state["rng"])
        if state is not None:
            _set_cuda_rng(state.get("cuda_rng"))
        t0 = time.perf_counter()
        if max_epochs > done:
            try:
                _interruptible(pl_trainer.fit, module, datamodule=datamodule)
            except TrialDiverged as exc:
                # what was reached before the failure, for the record (plain data: it pickles)
                vars(exc).update(epochs=recorder.epochs, curves={k: list(v) for k, v in recorder.curves.items()},
                                 metrics=printer.features() if printer is not None else {})
                raise
        fit_s = time.perf_counter() - t0
        rng, cuda_rng = torch.get_rng_state(), _cuda_rng()
        steps_run = int(pl_trainer.global_step)
        tested: dict[str, float] = {}
        if test and _has_test_split(datamodule):
            out = _interruptible(pl_trainer.test, module, datamodule=datamodule, verbose=False)
            tested = {k: float(v) for k, v in (out[0] if out else {}).items()}
    opt_state = module.optimizer_state
    if pl_trainer.optimizers:
        opt_state = pl_trainer.optimizers[0].state_dict()
    total_s = float(state.get("train_time_total_s", 0.0)) + fit_s if state else fit_s
    new_state = {
        "model": net.state_dict(),
        "optimizer": opt_state if opt_state is not None else {},
        "optimizer_name": optimizer,
        "epochs": recorder.epochs,
        "steps": steps_before + steps_run,
        "curves": recorder.curves,
        "rng": rng,
        **({"cuda_rng": cuda_rng} if cuda_rng is not None else {}),
        "train_time_total_s": total_s,
        "extra": {**(extra or {}), **{k: v for cb in cbs if hasattr(cb, "checkpoint_extra")
                                       for k, v in cb.checkpoint_extra().items()}},
        "fingerprint": printer.state if printer is not None else {},
        "health_reference": checker.reference_loss if checker is not None else None,
    }
    return {
        "curves": recorder.curves,
        "epochs": recorder.epochs,
        "epochs_run": recorder.epochs_run,
        "steps_run": steps_run,
        "steps": steps_before + steps_run,
        "stopped": recorder.stopped,
        "test": tested,
        "train_time_s": fit_s,
        "train_time_total_s": total_s,
        "fingerprint": printer.features() if printer is not None else {},
        "checkpoint": save_checkpoint(new_state),
    }


def _health_reference(given: float | None, state: Mapping[str, Any] | None) -> float | None:
    """HealthCheck's divergence reference for a fit continuing ``state``: the one the checkpoint keeps;
    from an older checkpoint, its fingerprint's first step loss, else its first epoch's mean loss."""
    if given is not None or not state:
        return given
    for value in (state.get("health_reference"), *(state.get("fingerprint") or {}).get("losses", [])[:1],
                  *state.get("curves", {}).get("train_loss", [])[:1]):
        if value is not None and math.isfinite(value):
            return float(value)
    return None


def _trainer(epochs: int, cbs: list[pl.Callback], accelerator: str, deterministic: bool | str,
             options: dict[str, Any]) -> pl.Trainer:
    """:func:`make_trainer` with the task's options; a value Lightning refuses is the task's mistake
    (InvalidParameterError, which stops a search) rather than one failed trial after another."""
    if deterministic:
        options = {**options, "deterministic": deterministic}  # False: Lightning leaves torch's settings alone
    try:
        return make_trainer(epochs, callbacks=cbs, accelerator=accelerator, **options)
    except (MisconfigurationException, ValueError, TypeError) as exc:
        if not options or isinstance(exc, InvalidParameterError):
            raise
        raise InvalidParameterError(
            f"lightning.Trainer refused the options trainer={options!r} with accelerator={accelerator!r}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


def _cuda_rng() -> list[torch.Tensor] | None:
    """The CUDA generators' states when CUDA was used in this process (GPU dropout draws from them), else None."""
    return list(torch.cuda.get_rng_state_all()) if torch.cuda.is_initialized() else None


def _set_cuda_rng(states: Any) -> None:
    """Restore :func:`_cuda_rng`'s states, when this process sees as many GPUs (else they cannot be continued)."""
    if isinstance(states, list) and states and all(isinstance(t, torch.Tensor) for t in states) \
            and torch.cuda.device_count() == len(states):
        torch.cuda.set_rng_state_all(states)


def _interruptible(trainer_fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``trainer.fit``/``test`` so that Ctrl+C stays a ``KeyboardInterrupt``.

    On a KeyboardInterrupt Lightning ignores SIGINT from then on and calls ``sys.exit(1)``: in a
    notebook that leaves a kernel that can no longer be interrupted. Undo both.
    """
    handler = signal.getsignal(signal.SIGINT)
    try:
        return trainer_fn(*args, **kwargs)
    except SystemExit as exc:
        if not isinstance(exc.__context__, KeyboardInterrupt):
            raise
        if handler is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, handler)
        raise exc.__context__ from None


def _has_test_split(datamodule: pl.LightningDataModule) -> bool:
    from lightning.pytorch.utilities.model_helpers import is_overridden

    return bool(is_overridden("test_dataloader", datamodule, pl.LightningDataModule))
