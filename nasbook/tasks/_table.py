"""Learning-curve tables as tasks: training replaced by looking curves up, epoch by epoch.

:class:`CurveTableTask` answers ``evaluate(arch, fidelity={"epochs": e})`` from a table of
per-epoch curves, so multi-fidelity strategies (ASHA, Hyperband, successive halving) can be
benchmarked in seconds through the same loop as real training. :class:`DigitsTable` is the table
shipped with nasbook: ``CellSpace()`` architectures trained on :class:`~nasbook.tasks.Digits`
(see ``docs/digits_table.md`` for how it was built). The table itself, :class:`CurveTable`, and
how it is read from its files are in :mod:`._curve_table`.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, InvalidParameterTypeError, did_you_mean
from nasbook.space import Architecture, SearchSpace, SubsetSpace
from nasbook.tasks._base import Decision, Reporter, Result, Task, check_reporter
from nasbook.tasks._curve_table import CURVE_NAMES, DIGITS_WRITER, CurveTable, load_digits_table, table_files
from nasbook.tasks._curve_table import load_curve_table as load_curve_table  # its old home: re-exported

if TYPE_CHECKING:
    import xarray as xr

_FIDELITY_KEYS = ("checkpoint", "epochs")
_CHECKPOINT_FORMAT = "nasbook-curve-table-1"


class CurveTableTask(Task):
    """A task that looks per-epoch curves up in a :class:`CurveTable` instead of training.

    ``evaluate(arch, fidelity={"epochs": e})`` returns what training ``arch`` for ``e`` epochs
    gave when the table was built:

    - ``value``: ``val_accuracy`` after epoch ``e`` (of training seed ``seed``, or the mean over
      the table's seeds for ``seed="mean"``); no fidelity means the table's last epoch;
    - ``metrics``: epoch ``e``'s ``val_accuracy``, ``val_loss``, ``train_loss``;
    - ``curves``: the three curves up to epoch ``e``; ``epochs``: ``e``;
    - ``attrs`` (never shown to strategies): ``test_accuracy`` of the network **after the table's
      last epoch** (the table stores no per-epoch test score), ``n_params``, ``flops``,
      ``train_time_s`` (the table's training time scaled to the epochs this evaluation "ran"),
      ``train_time_total_s`` (scaled to ``e``), ``epochs_run``, and ``latency_ms`` when the table has it;
    - ``checkpoint``: small JSON bytes; ``fidelity={"epochs": 9, "checkpoint": ...}`` from a
      3-epoch result "runs" only 6 epochs (``epochs_run=6``), as a training task would.

    ``report(epoch, **metrics)`` is called for every epoch run; ``Decision.STOP`` ends there.

    Parameters
    ----------
    seed : int or "mean", default "mean"
        One of the table's training seeds, to see that run's curves, or ``"mean"`` for the mean
        over the seeds (less noisy). Not ``"mean"`` or an int: refused when the task is made; an int
        the table lacks: when it is checked (``DigitsTable`` and ``MNIST1DTable`` check at once).
    """

    has_epochs = True
    metric = "val_accuracy"
    mode: Literal["max", "min"] = "max"

    def __init__(self, seed: int | Literal["mean"] = "mean"):
        self.seed = seed
        self._check_seed_kind()  # which seeds the table has is checked by check() (a subclass's table may not be set yet)

    # -- the table -------------------------------------------------------------------------------
    @property
    def table(self) -> CurveTable:
        """The whole table (for benchmarks and regret; strategies never see it)."""
        raise NotImplementedError

    @property
    def space(self) -> SubsetSpace:
        return self.table.space

    @property
    def max_epochs(self) -> int:  # type: ignore[override]  # a plain attribute on Task
        """Epochs in the table: the highest fidelity."""
        return self.table.n_epochs

    def training_task(self) -> Task:
        """The training task whose runs the table records.

        Use it to draw real batches from (e.g. for :func:`nasbook.proxies.compute`) or to train an
        architecture for real. Subclasses that know it implement this; the base class raises NasbookError.

        Returns
        -------
        Task
            A training task with the table's parameters.
        """
        from nasbook._errors import NasbookError

        raise NasbookError(
            f"{type(self).__name__}.training_task(): this table does not say which training task produced it; "
            "implement training_task() in the subclass, or pass a batch (x, y) or a TrainingTask instead."
        )

    def _check_seed_kind(self) -> None:
        """``seed`` is ``"mean"`` or an int (numpy ints stored as plain ints: the config is the task's identity)."""
        seed, owner = self.seed, type(self).__name__
        allowed = "'mean' or an int, one of the table's training seeds"
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            self.seed = int(seed)
        elif isinstance(seed, str) and seed != "mean":
            raise InvalidParameterError(f"{owner}(seed=...) must be {allowed}; got {seed!r:.80}{did_you_mean(seed, ['mean'])}.")
        elif not isinstance(seed, str):
            raise InvalidParameterTypeError(f"{owner}(seed=...) must be {allowed}; got {seed!r:.80} of type {type(seed).__name__}.")

    def _seed_index(self) -> int | None:
        table = self.table
        if isinstance(self.seed, str) and self.seed == "mean":
            return None
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or int(self.seed) not in table.seeds:
            raise InvalidParameterError(
                f"{type(self).__name__}(seed=...) must be 'mean' or one of the table's training seeds {table.seeds!r}; got {self.seed!r}."
            )
        return table.seeds.index(int(self.seed))

    def check(self) -> None:
        """Validate the parameters (loads the table)."""
        self._check_seed_kind()
        self._seed_index()

    def curve(self, name: str = "val_accuracy") -> np.ndarray:
        """One curve of every architecture for this task's seed (or the seed mean).

        Parameters
        ----------
        name : {"val_accuracy", "val_loss", "train_loss"}, default "val_accuracy"
            Which logged metric.

        Returns
        -------
        numpy.ndarray
            ``(n_archs, n_epochs)`` float64, rows in ``space.members`` order, column ``e - 1`` the value
            after epoch ``e``.
        """
        if name not in CURVE_NAMES:
            raise InvalidParameterError(f"{type(self).__name__}.curve(name=...) takes one of {list(CURVE_NAMES)!r}; got {name!r}{did_you_mean(str(name), CURVE_NAMES)}.")
        arr = self.table.curves[name].astype(np.float64)
        j = self._seed_index()
        return arr.mean(axis=1) if j is None else arr[:, j]

    def values(self, epochs: int | None = None) -> np.ndarray:
        """The objective of every architecture after ``epochs``.

        Parameters
        ----------
        epochs : int, optional
            From 1 to ``max_epochs``; None: the last epoch.

        Returns
        -------
        numpy.ndarray
            ``(n_archs,)`` float64 validation accuracies, in ``space.members`` order.
        """
        e = self._check_epochs(epochs if epochs is not None else self.max_epochs, "values(epochs=...)")
        return self.curve("val_accuracy")[:, e - 1]

    def _per_arch(self, arr: np.ndarray) -> np.ndarray:
        j = self._seed_index()
        a = arr.astype(np.float64)
        return a.mean(axis=1) if j is None else a[:, j]

    def optimum(self, epochs: int | None = None) -> tuple[Architecture, float]:
        """The architecture with the best objective after ``epochs`` and that value.

        Parameters
        ----------
        epochs : int, optional
            From 1 to ``max_epochs``; None: the last epoch.

        Returns
        -------
        arch : Architecture
            The best architecture (the first one on a tie).
        value : float
            Its validation accuracy.
        """
        vals = self.values(epochs)
        i = int(np.argmax(vals))
        return self.space.members[i], float(vals[i])

    def _check_epochs(self, epochs: object, what: str) -> int:
        n = self.max_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 1 <= int(epochs) <= n:
            raise InvalidParameterError(
                f"{type(self).__name__}.{what} must be an int from 1 to {n}, the table's epochs (max_epochs={n}); got {epochs!r}."
            )
        return int(epochs)

    def ground_truth(self) -> xr.Dataset:
        """Every architecture of the table, for benchmarks and predictor evaluation.

        Returns
        -------
        xarray.Dataset
            Dims ``("arch",)`` (ids, in ``space.enumerate()`` order); variables ``value``
            (``values()``: val_accuracy at the last epoch for this task's ``seed``), ``test``,
            ``params``, ``flops``; attr ``noise_ceiling``: Kendall tau between two training seeds'
            final val_accuracy (the mean over pairs with more seeds), the rank agreement a predictor
            of one training run can hope for.
        """
        from nasbook.tasks._truth import curve_ground_truth

        return curve_ground_truth(self)

    # -- evaluation -----------------------------------------------------------------------------
    def _row(self, arch: Architecture) -> int:
        space = self.space
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"{type(self).__name__}.evaluate expected an Architecture; got {arch!r} of type {type(arch).__name__}.")
        if arch.space_id == space.space.space_id:  # the parent space's version of a tabulated arch
            i = space._index.get(arch.id)
            if i is None:
                raise InvalidArchitectureError(
                    f"Architecture {arch.id!r} of {space.space!r} is not in {type(self).__name__}'s table of "
                    f"{space.cardinality} architectures; search task.space (a SubsetSpace) to get only tabulated ones."
                )
            space.space.validate(arch)
            return i
        if arch.space_id != space.space_id:
            raise InvalidArchitectureError(
                f"Architecture {arch.id!r} belongs to space {arch.space_id!r}, not to {type(self).__name__}'s "
                f"table ({space.space_id!r}, a SubsetSpace of {space.space!r})."
            )
        return space.index(space.validate(arch))

    def _fidelity(self, arch: Architecture, fidelity: Mapping[str, Any] | None) -> tuple[int, int]:
        owner = f"{type(self).__name__}.evaluate"
        if fidelity is None:
            return self.max_epochs, 0
        if not isinstance(fidelity, Mapping):
            raise InvalidParameterError(f"{owner}(fidelity=...) must be None or a dict such as {{'epochs': 3}}; got {fidelity!r}.")
        unknown = sorted(set(map(str, fidelity)) - set(_FIDELITY_KEYS))
        if unknown:
            raise InvalidParameterError(
                f"{owner}(fidelity=...) takes keys {list(_FIDELITY_KEYS)!r}; got unknown key(s) {unknown!r}"
                f"{did_you_mean(unknown[0], _FIDELITY_KEYS)}."
            )
        epochs = self._check_epochs(fidelity.get("epochs", self.max_epochs), "evaluate(fidelity['epochs']=...)")
        start = 0
        ckpt = fidelity.get("checkpoint")
        if ckpt is not None:
            try:
                state = json.loads(ckpt)
                ok = isinstance(state, dict) and state.get("format") == _CHECKPOINT_FORMAT
            except (TypeError, ValueError, UnicodeDecodeError):
                ok = False
            if not ok:
                raise InvalidParameterError(f"{owner}(fidelity['checkpoint']=...) is not a checkpoint written by {type(self).__name__}.")
            if state.get("arch_id") != arch.id:
                raise InvalidParameterError(
                    f"{owner}: fidelity['checkpoint'] was written for architecture {state.get('arch_id')!r}, not {arch.id!r}."
                )
            if state.get("seed") != self.seed:
                raise InvalidParameterError(
                    f"{owner}: fidelity['checkpoint'] was written with seed={state.get('seed')!r}, not seed={self.seed!r}."
                )
            start = int(state["epochs"])
            if start > epochs:
                raise InvalidParameterError(
                    f"{owner}(fidelity['epochs']=...) must be at least the {start} epochs the checkpoint has trained; got {epochs}."
                )
        return epochs, start

    def evaluate(
        self,
        arch: Architecture,
        *,
        space: SearchSpace | None = None,
        fidelity: Mapping[str, Any] | None = None,
        report: Reporter | None = None,
    ) -> Result:
        table = self.table
        self.check()
        check_reporter(f"{type(self).__name__}.evaluate", report)
        i = self._row(arch)
        epochs, start = self._fidelity(arch, fidelity)
        j = self._seed_index()
        sel: Any = slice(None) if j is None else j
        curves_all = {c: table.curves[c][i, sel].astype(np.float64) for c in CURVE_NAMES}
        curves_np = {c: (v.mean(axis=0) if j is None else v)[:epochs] for c, v in curves_all.items()}
        if report is not None:
            for epoch in range(start, epochs):
                if report(epoch, **{c: float(v[epoch]) for c, v in curves_np.items()}) is Decision.STOP:
                    epochs = epoch + 1
                    break
        curves = {c: [float(x) for x in v[:epochs]] for c, v in curves_np.items()}
        last = {c: v[-1] for c, v in curves.items()}
        per_epoch_s = float(np.mean(table.train_time_s[i, sel])) / table.n_epochs
        attrs: dict[str, Any] = {
            "test_accuracy": float(np.mean(table.test_accuracy[i, sel])),
            "n_params": int(table.n_params[i]),
            "flops": int(table.flops[i]),
            "train_time_s": per_epoch_s * (epochs - start),
            "train_time_total_s": per_epoch_s * epochs,
            "epochs_run": epochs - start,
        }
        if table.latency_ms is not None:
            attrs["latency_ms"] = float(table.latency_ms[i])
        checkpoint = json.dumps(
            {"format": _CHECKPOINT_FORMAT, "arch_id": arch.id, "seed": self.seed, "epochs": epochs}, separators=(",", ":")
        ).encode()
        value = last["val_accuracy"]
        return Result(
            value=float(value) if math.isfinite(value) else math.nan,
            metrics=last, attrs=attrs, epochs=epochs, curves=curves, checkpoint=checkpoint,
        )

    # -- description -----------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def __getstate__(self) -> dict[str, Any]:
        return self.get_params()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


class DigitsTable(CurveTableTask):
    """The learning-curve table shipped with nasbook: ``CellSpace()`` architectures trained on Digits.

    300 architectures drawn uniformly from ``CellSpace()`` (a seeded list), each trained with :class:`~nasbook.tasks.Digits` (Adam, lr 1e-3,
    batch 64) for 9 epochs under training seeds 0 and 1, every epoch's ``val_accuracy``, ``val_loss`` and ``train_loss`` recorded
    (see ``docs/digits_table.md``). Evaluating looks the curves up: a multi-fidelity search that
    would take an hour of CPU runs in a second, through the same loop as real training. See
    :class:`CurveTableTask` for what ``evaluate`` returns.

    Parameters
    ----------
    seed : int or "mean", default "mean"
        Which training seed's curves to answer with, or their mean over the table's seeds; another
        value is refused here, naming the table's seeds.
    path : str, optional
        Prefix of another table (``<path>.npz`` + ``<path>.json``, as written by
        ``benchmarks/build_digits_table.py``); None: the shipped one. Both files must exist.

    Examples
    --------
    >>> task = DigitsTable()
    >>> res = task.evaluate(task.space.members[0], fidelity={"epochs": 3})
    >>> res.epochs, len(res.curves["val_accuracy"])
    (3, 3)
    """

    def __init__(self, seed: int | Literal["mean"] = "mean", path: str | None = None):
        super().__init__(seed)
        self.path = path
        if path is not None:
            table_files("DigitsTable", path, DIGITS_WRITER)
        self.check()  # at once: a seed the table lacks failed only at the first trial (the table is read once per process)

    @property
    def name(self) -> str:
        return "digits-table"

    @property
    def table(self) -> CurveTable:
        return load_digits_table(self.path)

    def get_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "path": self.path}

    def training_task(self) -> Task:
        """The :class:`~nasbook.tasks.Digits` task the table was built with (from its metadata).

        Returns
        -------
        Task
            With training seed ``seed`` (the table's first seed for ``seed="mean"``).
        """
        from nasbook import tasks

        config = self.table.meta.get("task", {})
        cls = getattr(tasks, str(config.get("class", "")), None)
        if not (isinstance(cls, type) and issubclass(cls, Task)):
            raise InvalidParameterError(f"{self.name}: the table was built with task {config.get('class')!r}, which nasbook cannot rebuild.")
        seed = self.table.seeds[0] if self._seed_index() is None else int(self.seed)
        return cls(**{**dict(config.get("params", {})), "seed": seed})
