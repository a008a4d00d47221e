"""Budgets in trials, epochs or seconds."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    NasbookWarning,
    checked_signature,
    did_you_mean,
    stacklevel_outside_nasbook,
)

if TYPE_CHECKING:
    from nasbook.search._search import Search

# Keys a user may write for a wall-clock limit: each is pointed to "seconds".
_TIME_WORDS = frozenset({"time", "timeout", "max_time", "time_limit", "walltime", "wall_time", "duration", "secs", "sec"})


@dataclass(frozen=True)
class Budget:
    """When a search stops: after ``trials`` trials, ``epochs`` trained epochs, or ``seconds`` of run time.

    Whichever comes first stops it. ``Search(budget=100)`` is ``Budget(trials=100)``; a dict such as
    ``{"seconds": 60}`` works too.

    The budget stops the search from *starting* trials; trials already running finish. A trials budget
    counts running trials, so it is never exceeded. An epochs or seconds budget can be overshot by the
    trials in flight when it is spent. Epochs count when a trial finishes, so the trial that crosses an
    epochs budget runs to its end: on the local executor the search spends less than the budget plus
    that trial's epochs (a budget of 30 epochs for ``ASHA`` on ``MNIST1DTable`` spent 34), on a parallel
    executor less than the budget plus the epochs of every trial in flight (up to ``capacity`` of them).
    A seconds budget likewise waits for the running trials (``trial_timeout_s`` bounds each). Compare
    searches at equal cost by ``search.epochs_spent`` or ``search.elapsed_s``, not by the budget alone.

    Parameters
    ----------
    trials : int, optional
        Trials to run (> 0), counting every finished trial, failed ones too; None: no limit.
    epochs : int, optional
        Training epochs summed over trials (> 0; a continuation counts only its extra epochs), for
        multi-fidelity searches where trials differ in length; None: no limit.
    seconds : float, optional
        Run time in seconds (> 0); None: no limit. At least one of the three is set. It counts
        ``run()``'s own set-up too (the lease, replaying stored trials, starting the executor: a dask
        cluster takes seconds), as ``Search.elapsed_s`` does; a run whose set-up spends it runs no
        trial and says so in a NasbookWarning.
    """

    trials: int | None = None
    epochs: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("trials", "epochs", "seconds"):  # numpy scalars (np.int64(20), np.float32) as plain numbers
            v = getattr(self, name)
            if isinstance(v, numbers.Real) and not isinstance(v, (bool, int, float)):
                object.__setattr__(self, name, int(v) if isinstance(v, numbers.Integral) else float(v))
        for name in ("trials", "epochs"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidParameterTypeError(f"budget {name} must be a positive int; got {v!r} of type {type(v).__name__}.")
            if v <= 0:
                raise InvalidParameterError(f"budget {name} must be a positive int (> 0); got {v!r}.")
        s = self.seconds
        if s is not None:
            if isinstance(s, bool) or not isinstance(s, (int, float)):
                raise InvalidParameterTypeError(f"budget seconds must be a positive number; got {s!r} of type {type(s).__name__}.")
            if not s > 0:
                raise InvalidParameterError(f"budget seconds must be > 0; got {s!r}.")
            if s == float("inf"):  # taken before: a search with no end, and Infinity in the stored JSON config
                raise InvalidParameterError("budget seconds must be a finite number > 0 (leave seconds out for no "
                                            "time limit); got inf.")
        if self.trials is None and self.epochs is None and self.seconds is None:
            raise InvalidParameterError("budget needs at least one of trials, epochs or seconds; got none.")

    @classmethod
    def coerce(cls, budget: Any) -> Budget:
        """Accept an int (trials), a mapping of trials/epochs/seconds, or a Budget.

        Parameters
        ----------
        budget : int, Mapping or Budget
            ``100`` is ``Budget(trials=100)``; ``{"epochs": 200}`` is ``Budget(epochs=200)``; a Budget
            is returned as is. Anything else, or an unknown key, raises an error naming what is allowed.

        Returns
        -------
        Budget
            The budget.
        """
        if isinstance(budget, Budget):
            return budget
        if isinstance(budget, bool):
            raise InvalidParameterTypeError(f"budget must be a positive int (trials), a dict or a Budget; got {budget!r}.")
        if isinstance(budget, numbers.Integral):  # bool was refused above; np.bool_ is not Integral
            budget = int(budget)  # np.int64(20): what a loop over np.array([20, 60, 150]) gives
            if budget <= 0:
                raise InvalidParameterError(f"budget must be a positive number of trials (> 0); got {budget!r}.")
            return cls(trials=budget)
        if isinstance(budget, Mapping):
            unknown = set(budget) - {"trials", "epochs", "seconds"}
            if unknown:
                first = sorted(map(str, unknown))[0]
                hint = (" (did you mean 'seconds'? a time limit is given in seconds)"
                        if first.lower() in _TIME_WORDS else did_you_mean(first, ("trials", "epochs", "seconds")))
                raise InvalidParameterError(
                    f"budget keys must be among 'trials', 'epochs', 'seconds'; got {sorted(map(str, unknown))!r}{hint}."
                )
            return cls(**dict(budget))
        raise InvalidParameterTypeError(
            f"budget must be a positive int (trials), a dict like {{'seconds': 60}} or a Budget; got {budget!r} "
            f"of type {type(budget).__name__}."
        )

    def to_dict(self) -> dict[str, Any]:
        """The limits that are set, as stored with a search.

        Returns
        -------
        dict
            ``{"trials": ..., "epochs": ..., "seconds": ...}`` without the None entries.
        """
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        parts = []
        if self.trials is not None:
            parts.append(f"{self.trials} trials")
        if self.epochs is not None:
            parts.append(f"{self.epochs} epochs")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        return " / ".join(parts)


setattr(Budget, "__init__", checked_signature(Budget.__init__))  # noqa: B010 - Budget(trails=10) suggests "trials"


_MORE = ("A search's budget is set when it is made, Search(..., budget=100) or budget={'epochs': 200}; "
         "add to it with search.extend(trials=50) (or epochs=, seconds=), then run() again.")
#: keywords users bring to run()/start() from other tools (Optuna's optimize(n_trials=...)), and
#: where they go in nasbook
BUDGET_HINTS = {name: _MORE for name in ("n_trials", "trials", "budget", "timeout", "max_trials", "n_iter", "epochs", "*")}



def warn_spent_on_setup(s: Search, t_start: float) -> None:
    """Warn that a run ended with no new trial because its seconds budget, which had time left when
    ``run()`` began (``t_start``), was spent on ``run()``'s own set-up. Called by the loop only when it
    stopped on a spent budget before any trial; silent after :meth:`Search.stop` and for a search whose
    budget was spent before this run (a finished search run again). Epochs and trials count only when
    a trial runs, so set-up spends nothing else."""
    from nasbook.search import _search  # the clock Search._spent reads (a fake one in tests)

    b = s.budget
    if s._stop_flag or b.seconds is None or s._elapsed_before >= b.seconds:
        return
    if (b.trials is not None and len(s._trials) >= b.trials) or (b.epochs is not None and s._epochs_spent >= b.epochs):
        return  # spent before this run, not by its set-up
    setup = _search.time.monotonic() - t_start
    before = f", {s._elapsed_before:.3g} s of it by earlier runs," if s._elapsed_before else ""
    warnings.warn(
        f"Search {s.name!r} ran no trial: its budget of {b.seconds:g} s{before} was spent on run()'s set-up "
        f"({setup:.3g} s: the lease, replaying stored trials, starting the executor) before the first trial. "
        f"Give it more time (search.extend(seconds=...), then run() again), or pass an executor that is already "
        f"started (e.g. DaskExecutor(client=...) on a running cluster), whose start-up is then not counted.",
        NasbookWarning, stacklevel=stacklevel_outside_nasbook())
