"""Where a search was created and where it ran since: Python, platform, package versions, CUDA.

Stored in the search's configuration (a JSON column: no schema change):

* ``config["environment"]``: the environment of the process that created the search, recorded once
  and kept as it is when the search is loaded and extended (:attr:`Search.environment`).
* ``config["environment_history"]``: one entry per ``run()`` session (the first ``run()`` of a created
  or loaded search object) whose environment differs from the last one recorded (the creation one,
  or the previous entry): ``{"at": <unix time>, "environment": {...}, "changed": {field: [old, new]}}``.
  A resume in an identical environment adds nothing, so the list stays empty for a search that always
  ran where it was created (:attr:`Search.environment_history`). The session's environment is taken
  when ``run()`` starts and again when it ends, so CUDA facts appear once the session trained on a GPU;
  both land in one entry per session. Every configuration write first merges the entries another object of
  the same search (another process) stored meanwhile (:func:`merge_stored`), so no session's entry is lost.

Both are written into ``Search.to_xarray().attrs`` as JSON text (which a netCDF attribute can hold).
Versions come from the installed distributions' metadata, so nothing is imported. CUDA facts
(``{"cuda": {"version", "cudnn", "devices"}}``) are recorded only for a process where torch is imported
and has initialised CUDA (it trained on a GPU): asking torch for device names would otherwise
initialise CUDA here, which a forked worker process could then no longer use. The environment is the
one of the process that runs the loop: workers of a dask executor are not described.
"""

from __future__ import annotations

import copy
import functools
import sys
import time
from typing import TYPE_CHECKING, Any

from nasbook._version import __version__

if TYPE_CHECKING:
    from nasbook.search._search import Search

#: the distributions whose versions decide what a search computes: the loop, the predictors and
#: strategies, and training (torch, Lightning) on the workers
PACKAGES = ("numpy", "scipy", "pandas", "xarray", "scikit-learn", "torch", "lightning", "optuna", "dask",
            "distributed", "sqlalchemy", "nas-bench-graph", "faiss-cpu", "mnist1d")


@functools.lru_cache(maxsize=1)
def _environment() -> dict[str, Any]:
    import importlib.metadata  # here, not at import: `import nasbook` stays light
    import platform

    packages = {"nasbook": __version__}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # an optional one (optuna), or a build of another name
            continue
    return {"python": platform.python_version(), "platform": platform.platform(), "packages": packages}


def cuda() -> dict[str, Any] | None:
    """``{"version": torch.version.cuda, "cudnn": ..., "devices": [name, ...]}`` when torch in this
    process has initialised CUDA; None otherwise (torch not imported, no GPU, or not used yet)."""
    torch = sys.modules.get("torch")
    if torch is None:  # never import torch here: a look-up search does not need it
        return None
    try:
        if not torch.cuda.is_available() or not torch.cuda.is_initialized():
            return None
        return {"version": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
                "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}
    except Exception:  # a broken CUDA install must not stop a search; its absence is recorded
        return None


def environment() -> dict[str, Any]:
    """This process's environment, as stored with a search it creates or runs (a fresh copy each call).

    Returns
    -------
    dict
        ``{"python": "3.11.9", "platform": "Linux-...", "packages": {"nasbook": ..., "torch": ..., ...}}``:
        the installed packages of :data:`PACKAGES`, the ones not installed left out; plus ``"cuda"``
        (:func:`cuda`) when this process trained on a GPU.
    """
    env = copy.deepcopy(_environment())
    facts = cuda()
    if facts is not None:
        env["cuda"] = facts
    return env


def changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` of what differs (``packages`` compared package by package, as
    ``"packages.torch"``; None for a value one side lacks)."""
    def flat(env: dict[str, Any] | None) -> dict[str, Any]:
        env = env or {}
        out = {k: v for k, v in env.items() if k != "packages"}
        out.update({f"packages.{k}": v for k, v in dict(env.get("packages") or {}).items()})
        return out

    a, b = flat(old), flat(new)
    return {k: [a.get(k), b.get(k)] for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def note_session(s: Search) -> bool:
    """Record this session's environment in ``s`` when it differs from the last one recorded; True
    when something was recorded (the caller stores the configuration). One entry per session: a
    second call in the same session (at the end of ``run()``) updates that session's entry."""
    history: list[dict[str, Any]] = merge_stored(s)
    env = environment()
    mine = s._session_entry
    before = [e for e in history if e is not mine]
    last = before[-1]["environment"] if before else s._environment
    if mine is not None and mine["environment"] == env:
        return False
    if mine is None and env == last:
        return False
    if mine is not None and env == last:  # back to what was recorded before (not expected): drop the entry
        history.remove(mine)
        s._session_entry = None
        s.__dict__.setdefault("_dropped_sessions", set()).add(mine["at"])  # not merged back from the store
        return True
    entry = {"at": time.time() if mine is None else mine["at"], "environment": env, "changed": changes(last, env)}
    if mine is None:
        history.append(entry)
    else:
        history[history.index(mine)] = entry
    s._session_entry = entry
    return True


def merge_stored(s: Search) -> list[dict[str, Any]]:
    """``s``'s history with the entries another object of the same search (another process) stored since this
    one read it, in time order: a configuration written from this object then keeps them (it was
    last-writer-wins). Entries are told apart by their ``at``; this object's own stay the same dicts."""
    history: list[dict[str, Any]] = s._environment_history
    storage, sid = getattr(s, "_storage", None), getattr(s, "_search_id", None)
    if storage is None or sid is None:  # being created: nothing stored yet
        return history
    from nasbook._errors import SearchNotFoundError, StorageError

    try:
        stored = storage.get_search(s.name).config.get("environment_history") or []
    except (SearchNotFoundError, StorageError):  # a damaged or unreadable row: write what this object knows
        return history
    known = {e.get("at") for e in history} | s.__dict__.get("_dropped_sessions", set())
    extra = [e for e in stored if isinstance(e, dict) and isinstance(e.get("at"), (int, float)) and e["at"] not in known]
    if extra:
        history.extend(extra)
        history.sort(key=lambda e: float(e.get("at") or 0.0))
    return history


def note_and_store(s: Search) -> None:
    """:func:`note_session`, and the configuration stored when it recorded something."""
    if note_session(s):  # in run()'s set-up: only while the run holds the lease
        s._storage.update_search(s._search_id, config=s._config(), **s._owned_search)


def with_config(s: Search, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with ``environment`` (where the search was created; a store written before nasbook
    recorded it has none) and ``environment_history`` (when a session ran elsewhere)."""
    if s._environment is not None:
        config["environment"] = s._environment
    if merge_stored(s):
        config["environment_history"] = s._environment_history
    return config
