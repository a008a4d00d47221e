"""What report-based early stoppers saw: the metric names trials reported, to say when the metric they read
never came (a task reporting ``val_acc`` to a search of ``accuracy`` was never stopped, without a word)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from nasbook._errors import NasbookWarning, stacklevel_outside_nasbook

#: names listed in the warning, at most
SHOWN = 12


class ReportedNames:
    """The names a stopper's reports carried, and whether its metric was among them.

    :meth:`saw` is called with each report's metrics, :meth:`check` when a trial is told: once trials have
    reported, none of them under ``metric``, it warns (once) that the stopper never stops anything, naming
    the metric and the names seen. A report carrying the metric, in any trial, silences it for good.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner  # "MedianStopping": for the message
        self.names: set[str] = set()
        self.found = False
        self.warned = False

    def saw(self, metric: str | None, metrics: Mapping[str, float]) -> bool:
        """Remember a report's names (nothing once the metric was seen); whether this report has ``metric``."""
        has = metric is not None and metric in metrics
        if not self.found:
            self.found = has
            self.names.update(str(k) for k in metrics)
        return has

    def check(self, metric: str | None) -> None:
        """Warn once if trials reported, but never under ``metric``."""
        if self.found or self.warned or not self.names or metric is None:
            return
        self.warned = True
        names = sorted(self.names)
        listed = ", ".join(repr(n) for n in names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
        warnings.warn(
            f"{self.owner} reads the search's metric {metric!r} from the trials' per-epoch reports, but they reported "
            f"only {listed}: it stops no trial. Report {metric!r} each epoch (report(epoch, {metric}=...)), or give "
            f"the task's metric the name it reports.", NasbookWarning, stacklevel=stacklevel_outside_nasbook())
