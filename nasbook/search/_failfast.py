"""Stop a run whose first trials all fail with the same error (``set_options(stop_after_failures=k)``).

A trial whose task raises is recorded FAILED and the search goes on: one architecture that does not
fit must not end a search. But when the first ``k`` trials of a ``run()`` all raised the same
exception, type and message alike (``Digits(accelerator="gpu")`` on a machine without one), the
set-up is at fault and every further trial would fail too: the run stops with
:class:`~nasbook._errors.RepeatedTrialFailure`, which names the error once (each trial keeps its
traceback in ``attrs["traceback"]``). Optuna stops ``study.optimize`` at the first exception by
default (``catch=()``) and Ray Tune can (``FailureConfig(fail_fast=True)``); nasbook keeps going
through failures that differ and stops only on one that repeats from the start. Only exceptions
count: not ``TrialFailed`` (a task's own verdict on one trial), timeouts or diverged trials.

A run that ends before ``k`` trials (a smaller budget) with every trial failed that way warns instead.
The stop is an ordinary interruption: finished trials are stored, those in flight are stored QUEUED,
and the search stays resumable.
"""

from __future__ import annotations

import warnings

from nasbook._errors import NasbookWarning, RepeatedTrialFailure
from nasbook._options import OPTIONS
from nasbook.trial import Trial, TrialState


class FailureWatch:
    """Watches the trials one run finishes, in order; :meth:`see` raises on the ``k``-th identical failure."""

    def __init__(self, name: str, k: int | None = None):
        self.name = name
        self.k = int(OPTIONS["stop_after_failures"]) if k is None else k
        self.numbers: list[int] = []
        self.reason: str | None = None
        self.active = self.k > 0

    def see(self, trial: Trial) -> None:
        if not self.active:
            return
        raised = trial.state is TrialState.FAILED and "traceback" in trial.attrs and trial.reason
        if not raised or (self.reason is not None and trial.reason != self.reason):
            self.active = False  # a trial that did not fail this way: the set-up can work
            return
        self.reason = trial.reason
        self.numbers.append(trial.number)
        if len(self.numbers) >= self.k:
            self.active = False
            raise RepeatedTrialFailure(
                f"Search {self.name!r} stopped: its first {self.k} trials (numbers {self.numbers[0]}..{self.numbers[-1]}) "
                f"all failed with the same error, so the set-up rather than the architectures is at fault:\n"
                f"    {self.reason}\n"
                f"Each trial keeps its traceback in trial.attrs['traceback']. Fix the set-up and start a new Search "
                f"(this one stays resumable: run() tries again). nasbook.set_options(stop_after_failures=0) never stops."
            )

    def at_end(self) -> None:
        """Warn when the run ended (its budget spent) with every trial failed with the same error."""
        if self.active and self.numbers:
            warnings.warn(f"Search {self.name!r}: all {len(self.numbers)} trials of this run failed with the same "
                          f"error, likely the set-up: {self.reason}", NasbookWarning, stacklevel=5)
