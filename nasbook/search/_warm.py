"""Warm starts of a :class:`~nasbook.Search`: the architectures its strategy proposes first, where each
came from, and how that is stored (so a resumed search serves them again, exactly)."""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, InvalidParameterTypeError, StorageError
from nasbook.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import xarray as xr

    from nasbook.search._search import Search

#: ``warm_start=True`` selects this many architectures
DEFAULT_N = 10
Seeds = list[tuple[Architecture, dict[str, Any]]]
#: ``source(n)``: the ``n`` architectures to start from, with their provenance (``select_warm_start``'s answer)
Source = Callable[[int], Seeds]


def resolve(warm_start: object, space: SearchSpace, source: Source | None = None) -> Seeds:
    """The seeds of ``Search(warm_start=...)``: None/False: none; a list of architectures (or of
    ``(architecture, provenance)`` pairs, as ``select_warm_start`` returns them); True or an int
    ``n``: ``source(n)`` (a knowledge base's selection)."""
    if warm_start is None or warm_start is False:
        return []
    if warm_start is True or (isinstance(warm_start, numbers.Integral) and not isinstance(warm_start, bool)):  # np.int64 too
        n = DEFAULT_N if warm_start is True else int(warm_start)  # type: ignore[call-overload]
        if n < 1:
            raise InvalidParameterError(f"Search(warm_start=...) must be True, a number of architectures >= 1, or a list "
                                        f"of architectures; got {warm_start!r}.")
        if source is None:
            raise InvalidParameterError(
                f"Search(warm_start={warm_start!r}) selects the architectures from past searches: pass kb=KnowledgeBase(...) "
                "too, or give the architectures themselves (warm_start=[arch, ...], e.g. from "
                "nasbook.knowledge.select_warm_start).")
        return _check_list(source(n), space)
    if isinstance(warm_start, (str, bytes, Architecture, Mapping)) or not isinstance(warm_start, Sequence):
        raise InvalidParameterTypeError(
            f"Search(warm_start=...) must be True, a number of architectures, or a list of architectures (or of "
            f"(architecture, provenance) pairs); got {warm_start!r:.80} of type {type(warm_start).__name__}.")
    return _check_list(warm_start, space)


def _check_list(items: Sequence[Any], space: SearchSpace) -> Seeds:
    out: Seeds = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        prov: dict[str, Any] = {"rank": i, "source": "given"}
        arch = item
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            arch, prov = item[0], dict(item[1])
        if not isinstance(arch, Architecture):
            raise InvalidParameterTypeError(
                f"Search(warm_start=[...]): item {i} must be an Architecture (or an (architecture, provenance) pair); "
                f"got {arch!r:.60} of type {type(arch).__name__}.")
        try:
            space.validate(arch)
        except InvalidArchitectureError as exc:
            raise InvalidParameterError(f"Search(warm_start=[...]): item {i} is not an architecture of the search's "
                                        f"space: {exc}") from None
        try:
            json.dumps(prov)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"Search(warm_start=[...]): the provenance of item {i} must be JSON-serializable "
                                        f"(it is stored with the search); got {prov!r:.80}.") from None
        if arch.id not in seen:
            seen.add(arch.id)
            prov.setdefault("rank", len(out))
            out.append((arch, prov))
    return out


def set_seeds(s: Search, seeds: Seeds) -> None:
    """The warm-start architectures of ``s`` (served first by its strategy) and their provenance."""
    s._warm = seeds
    s._warm_by_id = {a.id: prov for a, prov in seeds}


def with_config(s: Search, config: dict[str, Any]) -> dict[str, Any]:
    if s._warm:
        config["warm_start"] = to_config(s._warm)
    return config


def with_summary(s: Search, ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with ``attrs["warm_start"]``: JSON of each seed's id, provenance and aggregated score."""
    if s._warm:
        ds.attrs["warm_start"] = summary(s)
    return ds


def to_config(seeds: Seeds) -> list[dict[str, Any]]:
    return [{"arch": a.to_dict(), "id": a.id, "from": prov} for a, prov in seeds]


def from_config(config: Mapping[str, Any], space: SearchSpace, name: str) -> Seeds:
    """The seeds a stored search was started with (checked: a stored seed must still be in the space)."""
    stored = config.get("warm_start") or []
    out: Seeds = []
    try:
        for item in stored:
            arch = space.from_dict(item["arch"])
            if arch.id != str(item["id"]):
                raise InvalidArchitectureError(f"stored id {item['id']!r}, rebuilt {arch.id!r}")
            out.append((arch, dict(item.get("from") or {})))
    except (InvalidArchitectureError, KeyError, TypeError) as exc:
        raise StorageError(f"search {name!r}: its stored warm-start architectures do not fit {space!r:.80}: {exc}. "
                           "Pass the stored space to load_search.") from None
    return out


def describe(prov: Mapping[str, Any]) -> str:
    """``"given"`` or ``"nbg-cora q=0.99, nbg-photo q=0.97 (+2)"``: where a seed came from."""
    tasks = prov.get("tasks")
    if not isinstance(tasks, Mapping) or not tasks:
        return str(prov.get("source", "given"))
    top = sorted(tasks.items(), key=lambda kv: -float(kv[1].get("weight", 1.0)) * float(kv[1].get("quantile", 0.0)))
    text = ", ".join(f"{t} q={float(v.get('quantile', float('nan'))):.2f}" for t, v in top[:3])
    return text + (f" (+{len(top) - 3})" if len(top) > 3 else "")


def trial_attrs(s: Search, arch: Architecture) -> dict[str, Any]:
    """What a trial records of its warm-start origin (empty for the strategy's own proposals)."""
    prov = s._warm_by_id.get(arch.id)
    if prov is None:
        return {}
    out: dict[str, Any] = {"warm_start_rank": int(prov.get("rank", -1)), "warm_start_from": describe(prov)}
    if isinstance(prov.get("score"), (int, float)):
        out["warm_start_score"] = float(prov["score"])
    return out


def summary(s: Search) -> str:
    return json.dumps([{"id": a.id, "from": describe(p), **({"score": p["score"]} if "score" in p else {})}
                       for a, p in s._warm])
