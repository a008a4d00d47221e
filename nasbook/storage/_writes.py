"""The write statements of one trial row (``Storage.add_trial``, ``update_trial``), built once.

Each is held in two forms (:class:`Write`): named parameters for ``sa.text`` on any database, and
``?`` placeholders with an itemgetter for SQLite's DBAPI, the hot path of every trial.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nasbook.storage._owner import OWNED_NAMED, OWNED_QMARK
from nasbook.storage._schema import TRIAL_COLUMNS

_COLS = ("search_id", *TRIAL_COLUMNS, "owner")
_SET_COLS = tuple(c for c in TRIAL_COLUMNS if c != "number")


@dataclass(frozen=True)
class Write:
    """One write statement, from one column list, in two forms: named parameters for ``sa.text`` (any
    database), and ``?`` placeholders plus an itemgetter for SQLite's DBAPI (the hot path: positional
    parameters bind in about half the time of named ones)."""

    named: str
    qmark: str
    order: Callable[[dict[str, Any]], tuple[Any, ...]]


def insert_stmt() -> Write:
    head = f"INSERT INTO nasbook_trials ({', '.join(_COLS)}) VALUES "
    return Write(head + f"({', '.join(':' + c for c in _COLS)})", head + f"({', '.join('?' * len(_COLS))})",
                 operator.itemgetter(*_COLS))


def update_stmt() -> Write:
    where, params = " WHERE search_id = {} AND number = {}", (*_SET_COLS, "search_id", "number")
    head = "UPDATE nasbook_trials SET "
    return Write(head + ", ".join(f"{c} = :{c}" for c in _SET_COLS) + where.format(":search_id", ":number"),
                  head + ", ".join(f"{c} = ?" for c in _SET_COLS) + where.format("?", "?"),
                 operator.itemgetter(*params))


INSERT, UPDATE = insert_stmt(), update_stmt()
#: the usual update: a row not complete yet (an overwritten complete trial is found by the row count, no SELECT)
UPDATE_FRESH = Write(UPDATE.named + " AND state <> 'complete'", UPDATE.qmark + " AND state <> 'complete'", UPDATE.order)
#: a run's update of its own row: only while the row is unfinished and still the run's (``_owner.py``)
UPDATE_OWNED = Write(UPDATE.named + OWNED_NAMED, UPDATE.qmark + OWNED_QMARK,
                     operator.itemgetter(*_SET_COLS, "search_id", "number", "owner"))
