"""Run-only settings of a training task: how its trials run, not what they compute.

``deterministic`` and the ``trainer=`` options of :data:`RUN_ONLY_TRAINER` (cuDNN's benchmark, anomaly
detection...) change a trial's speed or the checks it makes, not the meaning of its results. A task's
configuration holds them under ``"run_params"``, which its stored identity (``nasbook.storage.task_key``)
leaves out: a search resumes with them changed (``load_search`` records the change), and a knowledge base
counts its trials as the same task's. Options that change results (precision, clipping, batch limits...)
stay in ``params["trainer"]``, in the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasbook._errors import InvalidParameterTypeError, plain_scalar
from nasbook._run_only import RUN_ONLY_TRAINER, RUN_PARAMS, split_config, split_trainer

__all__ = ["RUN_ONLY_TRAINER", "RUN_PARAMS", "check_run_settings", "constructor_params", "run_params", "split_config",
           "split_trainer", "with_run_params"]  # the rule itself lives in nasbook._run_only (the store uses it too)


def check_run_settings(task: Any) -> None:
    """Check (and store back as plain values) ``task.deterministic`` and ``task.trainer``.

    ``trainer`` is checked against ``lightning.Trainer``'s signature (importing Lightning) only when it holds
    options; numpy scalars are stored as the Python values they hold (the configuration is JSON).
    """
    owner = type(task).__name__
    det = task.deterministic = plain_scalar(getattr(task, "deterministic", False))
    if not (isinstance(det, bool) or det == "warn"):
        raise InvalidParameterTypeError(f"{owner}(deterministic=...) must be False, True or 'warn'; got {det!r} of type "
                                        f"{type(det).__name__}.")
    trainer = getattr(task, "trainer", None)
    if trainer is not None and not (isinstance(trainer, Mapping) and not trainer):  # {}: nothing to check, no Lightning
        from nasbook.training import check_trainer_options  # imports Lightning: only for a task that has options

        task.trainer = check_trainer_options(trainer, owner, det)


def run_params(task: Any) -> dict[str, Any]:
    """The task's run-only settings that differ from the defaults (``{}``: the configuration has no ``run_params``)."""
    out: dict[str, Any] = {}
    det = getattr(task, "deterministic", False)
    if det:
        out["deterministic"] = det
    run_only = split_trainer(getattr(task, "trainer", None))[1]
    if run_only:
        out["trainer"] = run_only
    return out


def with_run_params(config: dict[str, Any], task: Any) -> dict[str, Any]:
    """``config`` with the task's ``run_params`` added (none when they are the defaults: the config stays as it was)."""
    extra = run_params(task)
    return {**config, RUN_PARAMS: extra} if extra else config


def constructor_params(config: Mapping[str, Any]) -> Any:
    """The constructor arguments a stored task configuration rebuilds its task with.

    Parameters
    ----------
    config : Mapping
        ``task.to_config()``, as stored.

    Returns
    -------
    dict
        ``params``, plus ``deterministic`` and the run-only ``trainer`` options of ``run_params`` (merged into
        ``trainer``); ``params`` as stored when there are no run parameters (a damaged one is the caller's to report).
    """
    params = config.get("params", {})
    run = config.get(RUN_PARAMS)
    if not isinstance(params, Mapping) or not isinstance(run, Mapping) or not run:
        return params  # as stored (a damaged one is reported by the caller)
    out = dict(params)
    if "deterministic" in run:
        out["deterministic"] = run["deterministic"]
    if isinstance(run.get("trainer"), Mapping) and run["trainer"]:
        out["trainer"] = {**dict(out.get("trainer") or {}), **run["trainer"]}
    return out
