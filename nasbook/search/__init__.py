"""The search loop: :class:`Search`, budgets, resume (:func:`load_search`)."""

from nasbook._errors import SearchNotResumableError  # its old path (defined in nasbook._errors, exported as nasbook.X)
from nasbook.search._budget import Budget
from nasbook.search._checks import check_strategy_task as check_strategy_task  # for the CLI: refused before storing
from nasbook.search._readonly import UnrebuiltStrategy, UnrebuiltTask  # in a read-only search (load_search)
from nasbook.search._resume import load_search
from nasbook.search._resume import rebuild_space as rebuild_space  # for the CLI: a stored configuration rebuilt
from nasbook.search._resume import rebuild_task as rebuild_task
from nasbook.search._search import Search, SearchState
from nasbook.trial import Trial, TrialState

__all__ = ["Budget", "Search", "SearchNotResumableError", "SearchState", "Trial", "TrialState", "UnrebuiltStrategy",
           "UnrebuiltTask", "load_search"]

from nasbook.search._views import register_views  # noqa: E402 - after the classes it registers

register_views(Search, Trial)  # reprs of Search and Trial (nasbook.display knows neither class)
