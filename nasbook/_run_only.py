"""The one rule for what identifies a stored task configuration, and what is only how its trials run.

A task configuration (``task.to_config()``) holds its run-only settings under ``"run_params"``:
``deterministic`` and the ``lightning.Trainer`` options of :data:`RUN_ONLY_TRAINER`, which change a trial's
speed or the checks it makes, not its results. Its *identity* (what ``nasbook.storage.task_key`` hashes,
what ``load_search`` compares) is the configuration without them. A configuration stored before they left
the key holds run-only options in ``params["trainer"]``: its identity is that of the same task stored now.

Both the store (task keys, the knowledge base's catalogue, the schema-6 migration) and the tasks
(``load_search``'s comparison, ``nasbook.tasks.split_config``) use :func:`split_config`: one copy of the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the configuration's key for run-only settings, out of the task's key
RUN_PARAMS = "run_params"

#: ``lightning.Trainer`` options that change how a trial runs (speed, checks, logging), not what it computes
RUN_ONLY_TRAINER: frozenset[str] = frozenset({"benchmark", "detect_anomaly", "inference_mode", "limit_predict_batches",
                                              "log_every_n_steps", "use_distributed_sampler"})


def split_trainer(trainer: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(options in the key, run-only options)`` of ``trainer=...`` options."""
    options = dict(trainer or {})
    return ({k: v for k, v in options.items() if k not in RUN_ONLY_TRAINER},
            {k: v for k, v in options.items() if k in RUN_ONLY_TRAINER})


def split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(identity, run_params)`` of a stored task configuration.

    The identity is what the task's key hashes: the configuration without ``run_params``, and without the
    run-only options a configuration stored before they left the key holds in ``params["trainer"]`` (they are
    moved to the run parameters; a ``trainer`` left empty goes, as a task stored now has none). The identity
    of an identity is itself.

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
