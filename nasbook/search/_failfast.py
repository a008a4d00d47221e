"""Stop a run whose first trials all fail with the same error (``set_options(stop_after_failures=k)``).

A trial whose task raises is recorded FAILED and the search goes on: one architecture that does not
fit must not end a search. But when the first ``k`` trials of a ``run()`` all raised the same
exception, type and message alike (``Digits(accelerator="gpu")`` on a machine without one), the
set-up is at fault and every further trial would fail too: the run stops with
:class:`~nasbook._errors.RepeatedTrialFailure`, which names the error once (each trial keeps its
traceback in ``attrs["traceback"]``). Optuna stops ``study.optimize`` at the first exception by
default (``catch=()``) and Ray Tune can (``FailureConfig(fail_fast=True)``); nasbook keeps going
through failures that differ and stops only on one that repeats from the start. Only exceptions
count: not ``TrialFailed`` (a task's own verdict on one trial), timeouts or diverged trials. A trial
whose dask worker died every time it ran (``KilledWorker``) counts as the same error as another one
whose workers died the same way (out of memory, or killed): a batch that does not fit in a worker's
memory limit kills every architecture's workers, and each such trial costs several worker restarts.

A run that ends before ``k`` trials (a smaller budget) with every trial failed that way warns instead.
The stop is an ordinary interruption: finished trials are stored, those in flight are stored QUEUED,
and the search stays resumable.
"""

from __future__ import annotations

import warnings

from nasbook._errors import NasbookWarning, RepeatedTrialFailure, stacklevel_outside_nasbook
from nasbook._options import OPTIONS
from nasbook.trial import Trial, TrialState


class FailureWatch:
    """Watches the trials one run finishes, in order; :meth:`see` raises on the ``k``-th identical failure."""

    def __init__(self, name: str, k: int | None = None):
        self.name = name
        self.k = int(OPTIONS["stop_after_failures"]) if k is None else k
        self.numbers: list[int] = []
        self.reason: str | None = None  # what the message says: the first such trial's error
        self.key: str | None = None  # what the next trials must share with it
        self.active = self.k > 0

    def see(self, trial: Trial) -> None:
        if not self.active:
            return
        error = _error(trial)
        if error is None or (self.key is not None and error[0] != self.key):
            self.active = False  # a trial that did not fail this way: the set-up can work
            return
        if self.key is None:
            self.key, self.reason = error
        self.numbers.append(trial.number)
        if len(self.numbers) >= self.k:
            self.active = False
            raise RepeatedTrialFailure(
                f"Search {self.name!r} stopped: its first {self.k} trials (numbers {self.numbers[0]}..{self.numbers[-1]}) "
                f"all failed with the same error, so the set-up rather than the architectures is at fault:\n"
                f"    {self.reason}\n"
                f"Each trial keeps {self._kept()}. Fix the set-up and start a new Search "
                f"(this one stays resumable: run() tries again). nasbook.set_options(stop_after_failures=0) never stops."
            )

    def _kept(self) -> str:
        if self.key is not None and self.key.startswith("KilledWorker: "):
            return "what happened to each of its workers in trial.attrs['worker_deaths']"
        return "its traceback in trial.attrs['traceback']"

    def at_end(self) -> None:
        """Warn when the run ended (its budget spent) with every trial failed with the same error."""
        if self.active and self.numbers:
            warnings.warn(f"Search {self.name!r}: all {len(self.numbers)} trials of this run failed with the same "
                          f"error, likely the set-up: {self.reason}", NasbookWarning, stacklevel=stacklevel_outside_nasbook())


def _error(trial: Trial) -> tuple[str, str] | None:
    """``(what failing trials must share, what to say)`` for a FAILED trial that raised or whose dask
    workers all died (KilledWorker); None for any other trial."""
    if trial.state is not TrialState.FAILED or not trial.reason:
        return None
    deaths = trial.attrs.get("worker_deaths")
    if isinstance(deaths, str) and trial.reason.startswith("its worker died"):
        how = "ran out of memory" if all("ran out of memory" in d for d in deaths.split("; ")) else "died"
        return f"KilledWorker: {how}", f"its dask worker {how} each time it ran (trial {trial.number}: {trial.reason})"
    return (trial.reason, trial.reason) if "traceback" in trial.attrs else None
