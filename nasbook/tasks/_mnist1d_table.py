""":class:`MNIST1DTable`: the learning-curve table of ``ConvDenseSpace()`` networks trained on MNIST-1D.

Built by ``benchmarks/build_curve_table.py --table mnist1d`` (see ``docs/mnist1d_table.md``):
unlike the Digits table, its architectures differ in kind (logistic regression, MLPs, CNNs,
deep narrow CNNs), so their accuracies span a wide range and two training seeds agree on the
ranking.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any, Literal

from nasbook.tasks._bundled import MNIST1D
from nasbook.tasks._curve_table import table_files
from nasbook.tasks._table import CurveTable, CurveTableTask, load_curve_table

_STEM = "mnist1d_chains"
#: what writes an MNIST-1D table (named in errors)
_WRITER = "benchmarks/build_curve_table.py"


@functools.cache
def load_mnist1d_table(path: str | None = None) -> CurveTable:
    """The shipped MNIST-1D table (once per process), or the table at ``path`` (``.npz``/``.json`` prefix)."""
    if path is None:
        files = resources.files("nasbook") / "_data"
        return load_curve_table((files / f"{_STEM}.npz").read_bytes(), json.loads((files / f"{_STEM}.json").read_text()))
    return load_curve_table(*table_files("MNIST1DTable", path, _WRITER))


class MNIST1DTable(CurveTableTask):
    """The MNIST-1D learning-curve table shipped with nasbook: ``ConvDenseSpace()`` networks trained on
    :class:`~nasbook.tasks.MNIST1D`.

    Networks drawn from ``ConvDenseSpace()`` stratified by their number of convolution layers
    (logistic regression and every MLP of the space, then equal shares of 1 to 4 convolution
    layers), each trained under training seeds 0 and 1, every epoch's ``val_accuracy``,
    ``val_loss`` and ``train_loss`` recorded, with test accuracy, parameters, FLOPs and batch-1
    CPU latency (``attrs["latency_ms"]``). See ``docs/mnist1d_table.md`` for the build and its
    figures, and :class:`CurveTableTask` for what ``evaluate`` returns.

    Parameters
    ----------
    seed : int or "mean", default "mean"
        Which training seed's curves to answer with, or their mean over the table's seeds; another
        value is refused here, naming the table's seeds.
    path : str, optional
        Prefix of another table (``<path>.npz`` + ``<path>.json``, as written by
        ``benchmarks/build_curve_table.py``); None: the shipped one. Both files must exist.

    Examples
    --------
    >>> task = MNIST1DTable()
    >>> res = task.evaluate(task.space.members[0], fidelity={"epochs": 3})
    >>> res.epochs, len(res.curves["val_accuracy"])
    (3, 3)
    >>> task.training_task().max_epochs == task.max_epochs
    True
    """

    def __init__(self, seed: int | Literal["mean"] = "mean", path: str | None = None):
        super().__init__(seed)
        self.path = path
        if path is not None:
            table_files("MNIST1DTable", path, _WRITER)
        self.check()  # at once: a seed the table lacks failed only at the first trial (the table is read once per process)

    @property
    def name(self) -> str:
        return "mnist1d-table"

    @property
    def table(self) -> CurveTable:
        return load_mnist1d_table(self.path)

    def training_task(self, seed: int | None = None) -> MNIST1D:
        """The :class:`~nasbook.tasks.MNIST1D` task the table was built with (epochs, lr, batch size, split).

        Training a tabulated architecture with it reproduces the table's curves up to thread-level
        nondeterminism.

        Parameters
        ----------
        seed : int, optional
            The training seed; default this task's ``seed``, or the table's first seed when it is ``"mean"``.

        Returns
        -------
        MNIST1D
            The training task.
        """
        table = self.table
        if seed is None:
            seed = table.seeds[self._seed_index() or 0]
        params: dict[str, Any] = dict(table.meta.get("task", {}).get("params", {}))
        params.pop("seed", None)
        return MNIST1D(**params, seed=seed)

    def get_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "path": self.path}
