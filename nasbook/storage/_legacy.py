"""Deprecated: removed when the loop moves to add_trial.

The schema-1 trial methods (positional tuples in, TrialRow out), kept as thin wrappers around the
new row code so the search loop keeps working until it calls ``add_trial``/``update_trial``/
``load_trials``. Delete this module (and ``LegacyStorageMethods`` from Storage's bases) then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nasbook._errors import StorageError
from nasbook.storage._records import Damaged, decode_trial_row
from nasbook.storage._schema import TRIAL_COLUMNS as _ALL_COLUMNS

#: deprecated: removed when the loop moves to add_trial. Column order of ``commit_trial``'s ``values``.
TRIAL_COLUMNS: tuple[str, ...] = tuple(c for c in _ALL_COLUMNS if c != "lineage")


@dataclass(frozen=True)
class TrialRow:
    """Deprecated: removed when the loop moves to add_trial. A trial as stored, JSON decoded."""

    number: int
    state: str
    arch_id: str
    arch: dict[str, Any]
    value: float | None
    metrics: dict[str, Any]
    attrs: dict[str, Any]
    epochs: int | None
    n_told_before: int
    tell_seq: int | None
    started_at: float | None
    finished_at: float | None
    reason: str | None
    curves: dict[str, list[float]]
    parent: int | None
    lineage: tuple[int, ...] = ()


class LegacyStorageMethods:
    """Deprecated: removed when the loop moves to add_trial."""

    label: str
    _write_trial: Any
    _read: Any
    _search_name: Any

    def _legacy_values(self, search_id: int, values: tuple[Any, ...]) -> dict[str, Any]:
        row = dict(zip(TRIAL_COLUMNS, values))
        row["search_id"] = search_id
        row["lineage"] = "[]"
        return row

    def commit_trial(self, search_id: int, values: tuple[Any, ...]) -> None:
        """Deprecated: removed when the loop moves to add_trial. Insert a row given in TRIAL_COLUMNS order."""
        from nasbook.storage._sql import _INSERT

        self._write_trial(_INSERT, self._legacy_values(search_id, values))

    def finish_trial(self, search_id: int, values: tuple[Any, ...]) -> None:
        """Deprecated: removed when the loop moves to add_trial (use update_trial)."""
        from nasbook.storage._sql import _UPDATE

        self._write_trial(_UPDATE, self._legacy_values(search_id, values))

    def iter_trials(self, search_id: int) -> Iterator[TrialRow]:
        """Deprecated: removed when the loop moves to add_trial (use load_trials)."""
        from nasbook.storage._sql import _SELECT_SQL

        for row in self._read(sa.text(_SELECT_SQL), {"search_id": search_id}):
            m = row._mapping
            try:
                v = decode_trial_row(m)
            except Damaged as exc:
                raise StorageError(f"trial {m['number']!s:.20} in {self.label!r} is corrupt: {exc}.") from None
            yield TrialRow(**{**v, "state": v["state"].value})
