"""``Search.extend``: more budget for a search, e.g. a finished one (a mixin of :class:`~nasbook.search.Search`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from nasbook._errors import InvalidParameterTypeError, checked_signature
from nasbook.search import _fresh
from nasbook.search._budget import Budget
from nasbook.search._checks import check_epochs_task

if TYPE_CHECKING:
    from nasbook.search._search import Search


class Extend:
    """Mixin of :class:`~nasbook.search.Search`: :meth:`extend`."""

    @checked_signature(owner="Search.extend")
    def extend(self, trials: int | None = None, *, epochs: int | None = None, seconds: float | None = None) -> Search:
        """Add budget (on top of the current one) to a search, e.g. a finished one. Returns self.

        Each increment adds to its own limit, and the limits still stop the search whichever comes
        first: a search that spent its trials needs ``trials``. A limit the budget lacked is set to
        the increment, counted from the search's start. The new budget is stored, so a resumed search
        keeps it.

        Parameters
        ----------
        trials : int, optional
            More trials (> 0).
        epochs : int, optional
            More training epochs summed over trials (> 0); only for a task that trains for epochs.
        seconds : float, optional
            More run time in seconds (> 0). At least one of the three is given.

        Returns
        -------
        Search
            ``self``, with the larger budget; :meth:`run` (or :meth:`start`) spends it.
        """
        s = cast("Search", self)
        s._check_resumable("extend()")
        b = _fresh.stored_budget(s)  # not s.budget: another object or process may have extended it
        if isinstance(trials, (Mapping, Budget)):  # extend({"epochs": 4}): a budget's form, given where trials go
            given = dict(trials) if isinstance(trials, Mapping) else {k: v for k, v in vars(trials).items() if v is not None}
            raise InvalidParameterTypeError(
                f"Search.extend(trials=...) takes a number of trials; got {trials!r:.80}. Pass each increment by name: "
                f"extend({', '.join(f'{k}={v!r}' for k, v in given.items()) or 'trials=10'}).")
        Budget(trials=trials, epochs=epochs, seconds=seconds)  # validates the increments
        if epochs is not None:
            check_epochs_task(s.task, f"Search.extend(epochs={epochs!r})")

        def add(a: float | None, b: float | None) -> Any:
            return None if a is None and b is None else (a or 0) + (b or 0)

        s.budget = Budget(trials=add(b.trials, trials), epochs=add(b.epochs, epochs), seconds=add(b.seconds, seconds))
        s._storage.update_search(s._search_id, config=s._config())
        return s
