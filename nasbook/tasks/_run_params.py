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

#: the configuration's key for run-only settings, out of the task's key
RUN_PARAMS = "run_params"

#: ``lightning.Trainer`` options that change how a trial runs (speed, checks, logging), not what it computes
RUN_ONLY_TRAINER: frozenset[str] = frozenset({"benchmark", "detect_anomaly", "inference_mode", "limit_predict_batches",
                                              "log_every_n_steps", "use_distributed_sampler"})


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


def split_trainer(trainer: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(options in the key, run-only options)`` of checked ``trainer=...`` options."""
    options = dict(trainer or {})
    return ({k: v for k, v in options.items() if k not in RUN_ONLY_TRAINER},
            {k: v for k, v in options.items() if k in RUN_ONLY_TRAINER})


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


def split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(identity, run_params)`` of a stored task configuration: what ``load_search`` compares, apart.

    The identity is what the task's key hashes: the configuration without ``run_params``, and without the run-only
    options a configuration stored before they left the key holds in ``params["trainer"]`` (they are moved to the
    run parameters, so such a search resumes with the same task).

    Parameters
    ----------
    config : Mapping
        ``task.to_config()``, as stored.

    Returns
    -------
    identity : dict
        The configuration without run-only settings.
    run_params : dict
        The run-only settings (``{}`` when none).
    """
    identity = {k: v for k, v in config.items() if k != RUN_PARAMS}
    run = dict(config.get(RUN_PARAMS) or {})
    params = identity.get("params")
    if isinstance(params, Mapping) and isinstance(params.get("trainer"), Mapping):
        kept, moved = split_trainer(params["trainer"])
        if moved:
            run["trainer"] = {**moved, **dict(run.get("trainer") or {})}
            identity["params"] = {k: v for k, v in params.items() if k != "trainer"}
            if kept:
                identity["params"]["trainer"] = kept
    return identity, run


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
