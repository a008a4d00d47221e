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
from pathlib import Path
from typing import Any, Literal

from nasbook._errors import InvalidParameterError
from nasbook.tasks._bundled import MNIST1D
from nasbook.tasks._table import CurveTable, CurveTableTask, load_curve_table

_STEM = "mnist1d_chains"


@functools.cache
def load_mnist1d_table(path: str | None = None) -> CurveTable:
    """The shipped MNIST-1D table (once per process), or the table at ``path`` (``.npz``/``.json`` prefix)."""
    if path is None:
        files = resources.files("nasbook") / "_data"
        return load_curve_table((files / f"{_STEM}.npz").read_bytes(), json.loads((files / f"{_STEM}.json").read_text()))
    prefix = Path(path)
    missing = [str(f) for f in (prefix.with_suffix(".npz"), prefix.with_suffix(".json")) if not f.is_file()]
    if missing:
        raise InvalidParameterError(
            f"MNIST1DTable(path={path!r}) must be the prefix of a .npz/.json pair (as benchmarks/build_curve_table.py "
            f"writes them); no such file: {', '.join(repr(m) for m in missing)}."
        )
    return load_curve_table(prefix.with_suffix(".npz"), prefix.with_suffix(".json"))


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
        Which training seed's curves to answer with, or their mean over the table's seeds.
    path : str, optional
        Prefix of another table (``<path>.npz`` + ``<path>.json``, as written by
        ``benchmarks/build_curve_table.py``); None: the shipped one.

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
        if path is not None and not isinstance(path, str):
            raise InvalidParameterError(f"MNIST1DTable(path=...) must be a str prefix of a .npz/.json pair or None; got {path!r}.")

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
