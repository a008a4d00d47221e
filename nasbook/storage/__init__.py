"""Durable storage of searches and trials (SQLAlchemy; a SQLite file by default).

The same store is the knowledge base's (:class:`nasbook.KnowledgeBase`): every search created in
it is catalogued by task (a stable :func:`task_key`) and space. ``TABLES`` gives the SQLAlchemy
tables, ``dumps``/``loads`` the JSON form of the JSON columns (NaN and infinities kept).
"""

from types import MappingProxyType

from nasbook._errors import SearchLockedError
from nasbook.storage._catalog import describe_task, insert_ignore, task_identity, task_key
from nasbook.storage._fidelity import (
    TopFidelityBest,
    best_counted,
    best_of_searches,
    fidelity_groups,
    mixed_fidelity_tasks,
    search_bests,
    top_fidelity_cells,
    top_fidelity_trials,
)
from nasbook.storage._lease import renew_apart as renew_lease_apart
from nasbook.storage._lease import renews_apart as renews_lease_apart
from nasbook.storage._numbers import lease_holder, trials_stored_from
from nasbook.storage._owner import TrialTaken, claim_trials, owner_kwargs, search_owner_kwargs
from nasbook.storage._records import SearchRecord, trial_row_problem
from nasbook.storage._rekey import rekeyed_task_rows
from nasbook.storage._schema import SCHEMA_VERSION, TRIAL_COLUMNS, dumps, loads, searches, spaces, tasks, trials
from nasbook.storage._sql import Storage, open_storage
from nasbook.storage._stats import quantiles, ranked_tasks, read_ranks, refresh_ranks, store_id, trials_token
from nasbook.storage._stats import rebuild as rebuild_stats

#: the knowledge base's tables by short name (read-only mapping of SQLAlchemy tables)
TABLES = MappingProxyType({"searches": searches, "trials": trials, "tasks": tasks, "spaces": spaces})

__all__ = [
    "SCHEMA_VERSION", "TABLES", "TRIAL_COLUMNS", "SearchLockedError", "SearchRecord", "Storage", "TopFidelityBest", "TrialTaken",
    "best_counted", "best_of_searches", "fidelity_groups",
    "claim_trials", "describe_task", "dumps", "insert_ignore", "lease_holder", "loads", "mixed_fidelity_tasks", "open_storage", "owner_kwargs", "quantiles", "ranked_tasks",
    "read_ranks", "rebuild_stats", "rekeyed_task_rows", "refresh_ranks", "renew_lease_apart", "renews_lease_apart", "search_bests",
    "search_owner_kwargs", "store_id",
    "task_identity", "task_key", "top_fidelity_cells", "top_fidelity_trials",
    "trial_row_problem", "trials_stored_from", "trials_token",
]
