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
    from nasbook.trial import Proposal

# Keys a user may write for a wall-clock limit: each is pointed to "seconds".
_TIME_WORDS = frozenset({"time", "timeout", "max_time", "time_limit", "walltime", "wall_time", "duration", "secs", "sec"})


@dataclass(frozen=True)
class Budget:
    """When a search stops: after ``trials`` trials, ``epochs`` trained epochs, or ``seconds`` of run time.

    Whichever comes first stops it. ``Search(budget=100)`` is ``Budget(trials=100)``; a dict such as
    ``{"seconds": 60}`` works too.

    The budget stops the search from *starting* trials; trials already running finish. A trials budget
    counts running trials, so it is never exceeded. Nor is an epochs budget, on any executor: a trial
    starts only if the epochs trained so far, the most the running trials may still train (the epochs
    each asked for, less those it continues from its parent's checkpoint) and its own all fit in it. The
    next trial that does not fit (a 6-epoch promotion with 4 epochs left) waits while trials run, since
    one may stop early. With none running, a strategy that stops trials early (``MedianStopping``,
    ``CurveStopping``, ``FingerprintStopping``: ``strategy.stops_trials``) starts it with only the epochs
    left: it is stopped there and stored PRUNED, ``attrs["stopped_by"] == "budget"`` and its reason saying
    so, never a complete (best-of) result; the budget is then spent to its last epoch. Any other strategy's
    run ends, the budget not quite spent (by less than that trial's epochs: a rung's or a full trial cut
    short would be worth nothing to it), and the trial, already proposed, is stored QUEUED: the search's
    repr and the run's progress say so (``57 of 60 epochs, 1 trial queued for extend()``), and it runs first
    after ``search.extend(epochs=...)`` (or a larger budget given to ``load_search``), as it would have in
    one longer run. A run that starts no trial that way (a budget smaller than one trial) says so in a
    NasbookWarning. This holds as long as the task trains at most the epochs it is asked for, as
    nasbook's tasks do (a trial cut by the budget is also stopped at that epoch's report). Epochs trained
    by an attempt lost with its dask worker (a process killed or out of memory mid-trial; dask runs the
    trial again elsewhere) count as spent (``trial.lost_attempt_epochs``) from the poll that finds the loss
    (which stores them in the trial's row: a process that dies then keeps them for ``load_search``):
    no trial starts beyond the budget after it, but the trials already running finish, so such a loss
    overshoots the budget by at most the epochs the lost attempts trained. A seconds
    budget is overshot by the trials in flight when it runs out: they finish (``trial_timeout_s`` bounds
    each), but none starts after it. Compare searches at equal cost by ``search.epochs_spent`` or
    ``search.elapsed_s``, not by the budget alone.

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


def epochs_cost(s: Search, proposal: Proposal, fidelity: Mapping[str, Any] | None) -> int:
    """The most epochs a trial of ``proposal`` trains, as an epochs budget counts them
    (:meth:`Trial.epochs_trained <nasbook.trial.Trial.epochs_trained>`): the epochs it asks for (the task's ``max_epochs``
    when it names none), less its parent's when it continues the parent's checkpoint (``"checkpoint"`` in
    ``fidelity``, what the task gets); a continuation whose checkpoint is gone trains from scratch."""
    epochs = proposal.epochs if proposal.epochs is not None else s.task.max_epochs
    if not epochs:
        return 0
    if fidelity and fidelity.get("checkpoint") is not None and proposal.grow is None and proposal.parent is not None:
        parent = s._trial_by_number(proposal.parent)
        if parent is not None and parent.epochs:
            epochs -= parent.epochs
    return max(0, int(epochs))


def fits(s: Search, cost: int, reserved: int) -> bool:
    """Whether a trial of ``cost`` epochs may start with ``reserved`` epochs held by the trials running: an
    epochs budget is never exceeded, so it starts only if the epochs trained, those of the running trials
    and its own all fit in it."""
    b = s.budget
    return b.epochs is None or s._epochs_spent + reserved + cost <= b.epochs


def allowed(s: Search, cost: int, reserved: int, n_running: int) -> int | None:
    """The epochs a trial of ``cost`` epochs may train now, or None: it waits (or is kept QUEUED).

    ``cost`` when it fits (:func:`fits`). Otherwise, for a strategy that stops trials early
    (``strategy.stops_trials``: its trials' epochs are the most they train, seldom what they do) and with no
    trial running, the epochs left: the last trial starts with only those and is stopped there
    (:func:`limited`). Run to its end once the budget has room it would rarely have needed them; a
    multi-fidelity scheduler's trial (its rung's epochs, exactly what it trains) or a plain strategy's, cut
    short, would be worth nothing to it, so those stay QUEUED for ``extend``, as :func:`queued_note` says.
    """
    if fits(s, cost, reserved):
        return cost
    left = (s.budget.epochs or 0) - s._epochs_spent - reserved
    if n_running or left < 1 or not s.strategy.stops_trials:
        return None
    return left


def limited(s: Search, proposal: Proposal, fidelity: dict[str, Any] | None, cost: int,
            allowed: int) -> tuple[dict[str, Any] | None, int | None]:
    """What ``task.evaluate`` gets for a trial allowed ``allowed`` of its ``cost`` epochs, and the epochs (in all,
    a continuation's parent's included) it is stopped at, None when it is allowed them all: ``fidelity['epochs']``
    is lowered to those (a task trains at most the epochs it is asked for), and the loop stops it at that
    epoch's report too (a task that reports each epoch but reads no fidelity)."""
    if allowed >= cost:
        return fidelity, None
    epochs = (proposal.epochs if proposal.epochs is not None else s.task.max_epochs) or 0
    until = epochs - (cost - allowed)
    return {**(fidelity or {}), "epochs": until}, until


def queued_note(s: Search) -> str:
    """``"1 trial queued for extend()"`` for a search that ended (``done``) with proposals stored QUEUED, which
    the budget had no room for (run first after ``extend``); empty otherwise. Said by its repr and progress."""
    n = len(s._requeue)
    if not n or s.state.value != "done":
        return ""
    return f"{n} trial{'s' if n != 1 else ''} queued for extend()"


def warn_unfit(s: Search, number: int, cost: int, reserved: int) -> None:
    """Warn that a run started no trial because the next one (trial ``number``, ``cost`` epochs) does not fit
    in what the epochs budget has left; it is kept QUEUED and runs first once the budget has room. Said once per
    budget and state: a finished search run again in the same session stays silent."""
    b = s.budget
    seen = (b.epochs, s._epochs_spent, number)
    if s._unfit_seen == seen:
        return
    s._unfit_seen = seen
    left = (b.epochs or 0) - s._epochs_spent - reserved
    warnings.warn(
        f"Search {s.name!r} ran no trial: its next trial ({number}) trains {cost} epoch{'s' if cost != 1 else ''}, "
        f"but {left} of its budget of {b.epochs} epochs {'is' if left == 1 else 'are'} left, and an epochs budget is "
        f"never exceeded. The trial is stored queued and runs first after search.extend(epochs={cost - left}) (or "
        "more) and run() again.",
        NasbookWarning, stacklevel=stacklevel_outside_nasbook())
