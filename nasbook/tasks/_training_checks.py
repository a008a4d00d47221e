"""The checks of a :class:`~nasbook.tasks.TrainingTask`'s training parameters.

The body of ``TrainingTask._check_training_params`` (kept there with its docstring); it takes the
task as its argument and stores the checked values back on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from nasbook._errors import InvalidParameterError, check_int, plain_number, unknown_choice
from nasbook.tasks._run_params import check_run_settings

if TYPE_CHECKING:
    from nasbook.tasks._training import TrainingTask

_OPTIMIZERS = ("adam", "adamw", "sgd")
_ACCELERATORS = ("auto", "cpu", "cuda", "gpu", "mps")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_training_params(task: TrainingTask) -> None:
    """The body of ``TrainingTask._check_training_params``: mode, max_epochs, input_shape, n_classes,
    optimizer, lr, weight_decay, seed, accelerator, num_threads, health, latency and the run settings."""
    owner = type(task).__name__
    if task.mode not in ("max", "min"):
        raise unknown_choice("mode", task.mode, ("max", "min"), f"{owner}(mode=...) says whether {task.metric!r} is maximised or minimised.")
    # ints are stored back as plain ints (np.int64 -> int): the config is the task's stored identity
    task.max_epochs = check_int(owner, "max_epochs", task.max_epochs, minimum=1)
    if task.input_shape is not None:
        shape = task.input_shape
        if (
            not isinstance(shape, Sequence)
            or isinstance(shape, str)
            or not shape
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)
        ):
            raise InvalidParameterError(
                f"{owner}(input_shape=...) must be the shape of one sample, positive ints such as (1, 8, 8) "
                f"or (30,), or None to infer it from the data; got {shape!r}."
            )
    task.n_classes = check_int(owner, "n_classes", task.n_classes, minimum=2, allow_none=True)
    if task.optimizer not in _OPTIMIZERS:
        raise unknown_choice("optimizer", task.optimizer, _OPTIMIZERS, f"Pass {owner}(optimizer=...) one of them.")
    task.lr, task.weight_decay = plain_number(task.lr), plain_number(task.weight_decay)  # np.float32(1e-4) too
    if not _is_number(task.lr) or not task.lr > 0:
        raise InvalidParameterError(f"{owner}(lr=...) must be a finite number > 0; got {task.lr!r}.")
    if not _is_number(task.weight_decay) or task.weight_decay < 0:
        raise InvalidParameterError(f"{owner}(weight_decay=...) must be a finite number >= 0; got {task.weight_decay!r}.")
    task.seed = check_int(owner, "seed", task.seed, minimum=0)
    if task.accelerator not in _ACCELERATORS:
        raise unknown_choice("accelerator", task.accelerator, _ACCELERATORS, f"Pass {owner}(accelerator=...) one of them.")
    task.num_threads = check_int(owner, "num_threads", task.num_threads, minimum=1, allow_none=True)
    if not isinstance(task.health, (bool, Mapping)):
        raise InvalidParameterError(
            f"{owner}(health=...) must be True, False or a dict of HealthCheck thresholds; got {task.health!r}."
        )
    if not isinstance(getattr(task, "latency", False), bool):
        raise InvalidParameterError(f"{owner}(latency=...) must be True or False; got {task.latency!r}.")
    check_run_settings(task)  # deterministic and trainer (Lightning imported only for trainer options)
