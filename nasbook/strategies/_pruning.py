"""Early stopping of running trials from their per-epoch reports: the median stopping rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from nasbook._errors import check_int
from nasbook.strategies._base import BaseStrategy, Proposal
from nasbook.strategies._reported import ReportedNames
from nasbook.strategies._wraps import WrapsBase, refuse_base_class
from nasbook.trial import Decision, TrialState, Wait

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial


class MedianStopping(WrapsBase):
    """Stop a running trial whose objective falls below the median of earlier trials at the same epoch.

    The median stopping rule of Google Vizier (Golovin et al., 2017), in the per-epoch form of
    Optuna's ``MedianPruner``: after epoch ``e`` (counted from 0) a trial is stopped when its
    reported objective is worse than the median of the objective at epoch ``e`` over the
    *completed* trials that reached it, once at least ``min_trials`` of them have. Architectures
    come from ``base`` (any proposing strategy); a stopped trial ends PRUNED with the epochs and
    curves it reached, and ``base`` is told of it like any other trial (its value is the last
    one reported).

    Works with every executor: reports reach the notebook while the trial runs (on dask, as
    events), and the STOP reaches the trial after its current epoch. Needs a task that reports
    per epoch (``has_epochs``), such as ``Digits`` or ``DigitsTable``.

    Parameters
    ----------
    base : str or BaseStrategy, default "random"
        The strategy that proposes architectures.
    min_epochs : int, default 1
        Never stop before this many epochs have run (epochs ``0 .. min_epochs - 1`` are free).
    min_trials : int, default 5
        Completed trials needed at an epoch before the rule applies there.
    seed : int, optional
        Seeds ``base`` (through the search's seed when None).
    """

    alias: ClassVar[str] = "median-stopping"
    needs_epochs: ClassVar[str] = "stops running trials from their per-epoch reports"

    def __init__(self, base: str | BaseStrategy = "random", min_epochs: int = 1, min_trials: int = 5,
                 seed: int | None = None):
        super().__init__(seed=seed)
        refuse_base_class(self, base)  # at once, as Search(strategy=RandomSearch) is refused
        self.base = base
        self.min_epochs = min_epochs
        self.min_trials = min_trials

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        self.min_epochs = check_int(name, "min_epochs", self.min_epochs, minimum=0)
        self.min_trials = check_int(name, "min_trials", self.min_trials, minimum=1)
        self._check_base()

    def _setup(self) -> None:
        self.base_ = self._setup_base()
        #: at_epoch_[e]: the objective at epoch e of every completed trial that reached it (NaN left out)
        self.at_epoch_: list[list[float]] = []
        self.n_stopped_ = 0
        self.reported_ = ReportedNames(type(self).__name__)  # warns when no report carries the metric

    def _ask(self) -> Architecture | Proposal | Wait:
        return self.base_.ask()

    def _tell(self, trial: Trial) -> None:
        self.base_.tell(trial)
        self.reported_.check(self.metric_)
        curve = trial.curves.get(self.metric_ or "", []) if trial.curves else []
        if trial.state is TrialState.COMPLETE and curve:
            while len(self.at_epoch_) < len(curve):
                self.at_epoch_.append([])
            for e, v in enumerate(curve):
                if v == v:
                    self.at_epoch_[e].append(float(v))

    def median_at(self, epoch: int) -> tuple[float, int]:
        """The median objective at ``epoch`` over completed trials, and how many reached it.

        Parameters
        ----------
        epoch : int
            The epoch, 0-based as in reports.

        Returns
        -------
        median : float
            The median reported objective at that epoch; NaN when no completed trial reached it.
        n : int
            The number of completed trials that reached it.
        """
        vals = self.at_epoch_[epoch] if epoch < len(self.at_epoch_) else []
        return (float(np.median(vals)) if vals else float("nan")), len(vals)

    def on_report(self, number: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        self.reported_.saw(self.metric_, metrics)
        if self.metric_ is None or epoch < self.min_epochs:
            return Decision.CONTINUE
        value = metrics.get(self.metric_)
        if value is None:
            return Decision.CONTINUE
        value = float(value)
        median, n = self.median_at(epoch)
        if n < self.min_trials:
            return Decision.CONTINUE
        worse = value != value or (value < median if self.mode_ == "max" else value > median)
        if worse:
            self.n_stopped_ += 1
            return Decision.STOP
        return Decision.CONTINUE
