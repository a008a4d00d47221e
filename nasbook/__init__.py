"""nasbook: neural architecture search in a notebook.

Three objects face the user: :class:`Search` (runs a strategy over a space on a task, durable on
disk), :class:`Predictor` (an architecture's quality, with an uncertainty, before it is trained)
and :class:`KnowledgeBase` (every trial of every search, by task and space). Everything else is reached through its subpackage:
``nasbook.space``, ``nasbook.tasks``, ``nasbook.strategies``, ``nasbook.predictors``.
"""

# the errors a plug-in raises or a user catches (the docs name them as nasbook.X): tasks raise
# InvalidParameterError from check(), spaces InvalidArchitectureError, strategies SpaceExhausted
from nasbook._errors import (
    ExecutorError,
    InvalidArchitectureError,
    InvalidParameterError,
    NasbookError,
    NasbookWarning,
    NotEnumerableError,
    NotFittedError,
    RepeatedTrialFailure,
    ReproducibilityWarning,
    SearchLockedError,
    SearchNotResumableError,
    SearchOvertaken,
    SpaceExhausted,
    StaleCheckpointsWarning,
    StorageError,
    TrialDiverged,
    TrialFailed,
)
from nasbook._options import get_options, set_options
from nasbook._version import __version__
from nasbook.predictors import Predictor
from nasbook.search import Budget, Search, Trial, TrialState, load_search

__all__ = [
    "Budget", "KnowledgeBase", "NasbookError", "Predictor", "RepeatedTrialFailure", "Search", "Trial", "TrialDiverged", "TrialFailed", "TrialState", "__version__", "get_options", "load_search",
    "set_options",
    "ExecutorError", "InvalidArchitectureError", "InvalidParameterError", "NasbookWarning", "NotEnumerableError", "NotFittedError",
    "ReproducibilityWarning", "SearchLockedError", "SearchNotResumableError", "SearchOvertaken", "SpaceExhausted", "StaleCheckpointsWarning", "StorageError",
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name == "KnowledgeBase":  # imported on first use: it pulls in SQLAlchemy
        from nasbook.knowledge import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(f"module 'nasbook' has no attribute {name!r}")
