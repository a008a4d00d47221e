"""Rows in and out: a Trial to its column values (one place), stored rows back to checked values.

Everything read from a database is treated as untrusted: a damaged or hand-edited file gives a
:class:`~nasbook._errors.StorageError` naming the search and the trial, never a bare
RecursionError, KeyError or ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasbook._errors import StorageError
from nasbook.storage._schema import dumps, loads
from nasbook.trial import Trial, TrialState

if TYPE_CHECKING:
    from nasbook.space import SearchSpace

_STATES = {s.value: s for s in TrialState}


@dataclass(frozen=True)
class SearchRecord:
    """A stored search, as :meth:`Storage.get_search` and :meth:`Storage.list_searches` return it.

    Attributes
    ----------
    id : int
        The search's row id in the store.
    name : str
        Its unique name.
    config : dict
        Its stored configuration: task, space, strategy, budget, seed, ...
    state : str
        The search's last recorded :class:`~nasbook.search.SearchState` value: ``"created"``, ``"running"``,
        ``"interrupted"`` or ``"done"``. :meth:`Storage.list_searches` says ``"running"`` only while a process
        holds the search's lease: a run whose process died (killed, the machine lost) reads ``"interrupted"``, as
        ``load_search`` reads it.
    elapsed_s : float
        Run time recorded so far, in seconds.
    created_at : float
        Creation time, seconds since the epoch.
    nasbook_version : str
        The nasbook version that created it.
    n_trials : int or None
        Stored trials; filled by :meth:`Storage.list_searches` only.
    best_value : float or None
        The value of the search's best trial under the config's ``"mode"`` (``"max"`` unless it says
        ``"min"``) by the top-fidelity rule, as ``Search.best``; filled by :meth:`Storage.list_searches` only.
    label : str
        The store's label (path, or URL with the password masked), for error messages.
    """

    id: int
    name: str
    config: dict[str, Any] = field(repr=False)
    state: str
    elapsed_s: float
    created_at: float
    nasbook_version: str
    n_trials: int | None = None
    best_value: float | None = None
    label: str = field(default="", repr=False, compare=False)

    def require(self, key: str, kind: type | tuple[type, ...] = object) -> Any:
        """``config[key]``, or a StorageError naming the search if it is missing or not of ``kind``.

        Parameters
        ----------
        key : str
            The configuration key.
        kind : type or tuple of type, default object
            What the value must be (a bool is not accepted as an int or float).

        Returns
        -------
        object
            The value.
        """
        if key not in self.config:
            raise StorageError(
                f"search {self.name!r} in {self.label!r} has a damaged configuration: key {key!r} is missing "
                f"(keys: {sorted(self.config)[:12]!r})."
            )
        value = self.config[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
            want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise StorageError(
                f"search {self.name!r} in {self.label!r} has a damaged configuration: {key!r} should be a "
                f"{want}, got {type(value).__name__} {str(value)[:60]!r}."
            )
        return value



# -- writing ---------------------------------------------------------------------------------------------
def _json_field(trial: Trial, name: str, value: Any) -> str:
    try:
        return dumps(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StorageError(f"trial {trial.number}: its {name} cannot be stored as JSON: {exc}") from None


def trial_values(trial: Trial, tell_seq: int | None) -> dict[str, Any]:
    """The trial's row by column name, JSON columns already dumped: the one place a Trial becomes a row."""
    metrics, attrs, curves, lineage = trial.metrics, trial.attrs, trial.curves, trial.lineage
    return {
        "number": trial.number,
        "state": trial.state.value,
        "arch_id": trial.arch.id,
        "arch": trial.arch.to_json(),
        "value": trial.value,
        "metrics": _json_field(trial, "metrics", metrics) if metrics else "{}",
        "attrs": _json_field(trial, "attrs", attrs) if attrs else "{}",
        "epochs": trial.epochs,
        "n_told_before": trial.n_told_before,
        "tell_seq": tell_seq,
        "started_at": trial.started_at,
        "finished_at": trial.finished_at,
        "reason": trial.reason,
        "curves": _json_field(trial, "curves", curves) if curves else "{}",
        "parent": trial.parent,
        "lineage": _json_field(trial, "lineage", list(lineage)) if lineage else "[]",
    }


# -- reading ---------------------------------------------------------------------------------------------
class Damaged(Exception):
    """A stored value is not what nasbook wrote; the caller names the search and trial."""


def decode_json(text: Any, what: str) -> Any:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        raise Damaged(f"{what} should be JSON text, got {type(text).__name__} {str(text)[:40]!r}")
    try:
        return loads(text)
    except RecursionError:
        raise Damaged(f"{what} is JSON nested too deeply to read") from None
    except ValueError as exc:
        raise Damaged(f"{what} is not valid JSON ({exc})") from None


def _json_of(row: Mapping[str, Any], name: str, kind: type) -> Any:
    value = decode_json(row[name], name)
    if not isinstance(value, kind):
        raise Damaged(f"{name} should be a JSON {'object' if kind is dict else 'list'}, got {type(value).__name__}")
    return value


def _int(row: Mapping[str, Any], name: str, *, none: bool) -> int | None:
    v = row[name]
    if v is None and none:
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if not isinstance(v, int) or isinstance(v, bool):
        raise Damaged(f"{name} should be an integer, got {type(v).__name__} {str(v)[:40]!r}")
    return v


def _float(row: Mapping[str, Any], name: str) -> float | None:
    v = row[name]
    if v is None:
        return None
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise Damaged(f"{name} should be a number, got {type(v).__name__} {str(v)[:40]!r}")
    return float(v)


def decode_trial_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Checked Python values of a stored trial row (JSON columns read as text). Raises :class:`Damaged`."""
    state = _STATES.get(row["state"]) if isinstance(row["state"], str) else None
    if state is None:
        raise Damaged(f"state {str(row['state'])[:40]!r} is not one of {sorted(_STATES)}")
    curves = _json_of(row, "curves", dict)
    for k, v in curves.items():
        if not isinstance(v, list):
            raise Damaged(f"curve {k!r} should be a list, got {type(v).__name__}")
    lineage = _json_of(row, "lineage", list)
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in lineage):
        raise Damaged(f"lineage should list trial numbers, got {str(lineage)[:60]}")
    reason = row["reason"]
    if reason is not None and not isinstance(reason, str):
        raise Damaged(f"reason should be text, got {type(reason).__name__}")
    arch_id = row["arch_id"]
    if not isinstance(arch_id, str):
        raise Damaged(f"arch_id should be text, got {type(arch_id).__name__}")
    return {
        "number": _int(row, "number", none=False),
        "state": state,
        "arch_id": arch_id,
        "arch": _json_of(row, "arch", dict),
        "value": _float(row, "value"),
        "metrics": _json_of(row, "metrics", dict),
        "attrs": _json_of(row, "attrs", dict),
        "epochs": _int(row, "epochs", none=True),
        "n_told_before": _int(row, "n_told_before", none=False),
        "tell_seq": _int(row, "tell_seq", none=True),
        "started_at": _float(row, "started_at"),
        "finished_at": _float(row, "finished_at"),
        "reason": reason,
        "curves": curves,
        "parent": _int(row, "parent", none=True),
        "lineage": tuple(lineage),
    }


def trial_row_problem(row: Mapping[str, Any]) -> str | None:
    """What is wrong with a trial row read from a file, or None: the checks of reading a stored trial back.

    Parameters
    ----------
    row : Mapping
        Every column of ``TRIAL_COLUMNS``, the JSON columns as JSON text (as a Parquet export holds them).

    Returns
    -------
    str or None
        The problem (``"arch is not valid JSON (...)"``, ``"state 'x' is not one of [...]"``), or None when
        the row reads back as a trial.
    """
    try:
        decode_trial_row(row)
    except Damaged as exc:
        return str(exc)
    return None


def build_trial(values: dict[str, Any], space: SearchSpace) -> Trial:
    """A Trial from decoded values; the architecture rebuilt in ``space`` and its id checked. Raises Damaged."""
    from nasbook._errors import InvalidArchitectureError

    try:
        arch = space.from_dict(values["arch"])
    except (InvalidArchitectureError, TypeError, ValueError, KeyError, RecursionError) as exc:
        raise Damaged(f"holds an architecture outside its space: {exc}") from None
    if arch.id != values["arch_id"]:
        raise Damaged(
            f"stored id {values['arch_id']!r} but its architecture canonicalises to {arch.id!r}; the space "
            "definition changed since it was stored"
        )
    return Trial(
        values["number"], arch, values["state"], values["value"], values["metrics"], values["attrs"],
        values["epochs"], values["started_at"], values["finished_at"], values["reason"], values["n_told_before"],
        values["curves"], values["parent"], values["lineage"],
    )


def search_record(row: Mapping[str, Any], label: str, n_trials: int | None = None,
                  best: tuple[Any, Any] | None = None) -> SearchRecord:
    """A checked SearchRecord from a nasbook_searches row (config read as text)."""
    name = row["name"]
    try:
        config = decode_json(row["config"], "its configuration")
        if not isinstance(config, dict):
            raise Damaged(f"its configuration should be a JSON object, got {type(config).__name__} "
                          f"{str(config)[:60]!r}")
        if not isinstance(row["state"], str):
            raise Damaged(f"its state should be text, got {type(row['state']).__name__}")
        elapsed = _float(row, "elapsed_s")
        created = _float(row, "created_at")
    except Damaged as exc:
        raise StorageError(f"search {name!r} in {label!r} is damaged: {exc}. Nothing was changed.") from None
    best_value = None
    if best is not None:
        best_value = best[1] if config.get("mode") == "min" else best[0]
        if best_value is not None:
            best_value = float(best_value) if isinstance(best_value, (int, float)) else None
    return SearchRecord(
        int(row["id"]), str(name), config, row["state"], elapsed or 0.0, created or 0.0,
        str(row["nasbook_version"]), n_trials, best_value, label,
    )
