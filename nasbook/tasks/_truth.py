"""The ground truth of a tabular task as an xarray Dataset: every architecture's score at once.

``Task.ground_truth()`` is what predictor evaluation (``nasbook.predictors.evaluate``), regret
and benchmarks read; strategies never see it. The builders live here so that the task modules
only gain a one-line method each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import NasbookError

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.tasks._base import Task
    from nasbook.tasks._nbg import NasBenchGraph
    from nasbook.tasks._table import CurveTableTask


def not_tabular(task: Task) -> NasbookError:
    """The error of ``ground_truth()`` on a task that trains (or otherwise has no table)."""
    return NasbookError(
        f"{task.name} ({type(task).__name__}) has no ground truth: ground_truth() (and predictor evaluation, "
        "nasbook.predictors.evaluate) needs a tabular task, one that holds every architecture's score in a table, "
        "such as NasBenchGraph or DigitsTable. Evaluate a predictor on such a task, or fit it on a search's trials."
    )


def _dataset(task: Task, ids: list[str], variables: dict[str, tuple[np.ndarray, dict[str, Any]]],
             attrs: dict[str, Any]) -> xr.Dataset:
    import xarray as xr

    data = {name: xr.Variable("arch", np.asarray(values, dtype=np.float64), meta) for name, (values, meta) in variables.items()}
    base = {"task": task.name, "task_repr": repr(task), "metric": task.metric, "mode": task.mode, "n_archs": len(ids)}
    return xr.Dataset(data, coords={"arch": np.asarray(ids, dtype=str)}, attrs={**base, **attrs})


def nbg_ground_truth(task: NasBenchGraph) -> xr.Dataset:
    """See :meth:`NasBenchGraph.ground_truth`."""
    table = task.table
    archs = task.space.enumerate()
    keys = np.fromiter((int(a.id) for a in archs), dtype=np.int64, count=len(archs))
    if len(keys) == len(table.keys) and np.array_equal(keys, table.keys):
        rows = np.arange(len(keys))
    else:  # pragma: no cover - the space enumerates exactly the table's keys today
        rows = np.array([table.row(int(k)) for k in keys])
        if (rows < 0).any():
            raise NasbookError(f"{task.name}: {int((rows < 0).sum())} architectures of the space are not in the table.")
    return _dataset(task, [a.id for a in archs], {
        "value": (table.valid[rows], {"long_name": task.metric, "note": "mean over the benchmark's 3 training seeds"}),
        "test": (table.test[rows], {"long_name": task.test_metric, "note": "mean over the benchmark's 3 training seeds"}),
        "params": (table.params_m[rows] * 1e6, {"long_name": "parameters"}),
        "latency_ms": (table.latency_s[rows] * 1e3, {"long_name": "latency", "units": "ms"}),
    }, {"test_metric": task.test_metric, "noise_ceiling_note": (
        "none: NAS-Bench-Graph's light tables hold only the mean over training seeds, so the seed-to-seed "
        "agreement cannot be measured")})


def curve_ground_truth(task: CurveTableTask) -> xr.Dataset:
    """See :meth:`CurveTableTask.ground_truth`."""
    from scipy import stats

    table = task.table
    final = table.curves["val_accuracy"][:, :, -1].astype(np.float64)  # (n_archs, n_seeds)
    taus = [
        float(stats.kendalltau(final[:, i], final[:, j]).statistic)
        for i in range(final.shape[1]) for j in range(i + 1, final.shape[1])
    ]
    seeds = "the mean over training seeds" if task.seed == "mean" else f"training seed {task.seed}"
    attrs: dict[str, Any] = {"test_metric": "test_accuracy", "epochs": table.n_epochs}
    if taus:
        attrs["noise_ceiling"] = float(np.mean(taus))
        attrs["noise_ceiling_note"] = (
            f"Kendall tau between the final val_accuracy of training seeds {table.seeds} "
            f"({'mean over pairs of seeds' if len(taus) > 1 else 'one pair'}): how well one training run ranks another"
        )
    else:
        attrs["noise_ceiling_note"] = "none: the table holds a single training seed"
    return _dataset(task, [a.id for a in task.space.enumerate()], {
        "value": (task.values(), {"long_name": task.metric, "note": f"after epoch {table.n_epochs}, {seeds}"}),
        "test": (task._per_arch(table.test_accuracy), {"long_name": "test_accuracy", "note": seeds}),
        "params": (table.n_params, {"long_name": "parameters"}),
        "flops": (table.flops, {"long_name": "FLOPs"}),
    }, attrs)
