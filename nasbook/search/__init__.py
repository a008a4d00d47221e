"""The search loop: :class:`Search`, :class:`Trial`, budgets and resume."""

from nasbook.search._budget import Budget
from nasbook.search._search import Search, SearchState, load_search
from nasbook.trial import Trial, TrialState

__all__ = ["Budget", "Search", "SearchState", "Trial", "TrialState", "load_search"]
