"""Checks and helpers shared by the built-in spaces (re-exported by :mod:`nasbook.space._base`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, unknown_choice

if TYPE_CHECKING:
    from nasbook.space._base import Architecture, SearchSpace

#: Widest layer (channels or units) a built-in space accepts: a 3x3 convolution this wide already
#: holds 38 billion weights, so anything larger is a typo (a missing comma, an extra zero).
MAX_WIDTH = 2**16


def _freeze(value: Any) -> Any:
    """Turn lists/dicts into tuples so that a spec is hashable and immutable."""
    if isinstance(value, Mapping):
        return tuple((str(k), _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def check_int_range(owner: str, param: str, value: object, minimum: int, maximum: int, why: str = "") -> int:
    """Check that ``value`` is an int in ``[minimum, maximum]``; ``why`` explains the upper bound."""
    check_int(owner, param, value, minimum=minimum)
    if value > maximum:  # type: ignore[operator]
        raise InvalidParameterError(
            f"{owner}({param}=...) must be an int from {minimum} to {maximum}; got {value!r}." + (f" {why}" if why else "")
        )
    return int(value)  # type: ignore[call-overload]


def check_choice_list(owner: str, param: str, values: object, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    """Validate a non-empty list of distinct op names (optionally from ``allowed``)."""
    listed = f" Allowed: {', '.join(repr(a) for a in allowed)}." if allowed is not None else ""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidParameterTypeError(
            f"{owner}({param}=...) must be a non-empty list of names; got {values!r} of type {type(values).__name__}.{listed}"
        )
    if not values:
        raise InvalidParameterError(f"{owner}({param}=...) must be a non-empty list of names; got {values!r}.{listed}")
    out = tuple(values)
    for v in out:
        if not isinstance(v, str):
            raise InvalidParameterTypeError(
                f"{owner}({param}=...) must hold strings; got {v!r} of type {type(v).__name__} in {list(out)!r}.{listed}"
            )
        if allowed is not None and v not in allowed:
            raise unknown_choice(f"op in {owner}({param}=...)", v, allowed)
    if len(set(out)) != len(out):
        dups = sorted({v for v in out if out.count(v) > 1})
        raise InvalidParameterError(f"{owner}({param}=...) must not repeat names; got {list(out)!r} ({dups!r} repeated).")
    return out


def check_rng(space: object, method: str, rng: object) -> None:
    """Refuse anything but a numpy Generator (an int seed or None would fail deep inside numpy).
    On the hot path of every sample: the message is built only when it is needed."""
    if type(rng) is not np.random.Generator and not isinstance(rng, np.random.Generator):
        raise InvalidParameterTypeError(
            f"{type(space).__name__}.{method}(rng=...) must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {rng!r:.60} of type {type(rng).__name__}."
        )


def randbelow(rng: np.random.Generator, n: int) -> int:
    """A uniform int in ``[0, n)`` for any Python int ``n`` (numpy stops at 2**63)."""
    if n <= 2**62:
        return int(rng.integers(n))
    bits = n.bit_length()
    chunks = math.ceil(bits / 62)
    while True:
        x = 0
        for _ in range(chunks):
            x = (x << 62) | int(rng.integers(2**62))
        x >>= 62 * chunks - bits
        if x < n:
            return x


def enumerate_by_walking(space: SearchSpace, seed: int = 0) -> list[Architecture]:
    """Every architecture of ``space`` by walking neighbours from samples of a fixed seed, sorted by id.

    Complete when the count reaches ``space.cardinality``; raises NotEnumerableError when the walk
    and ``20 * cardinality`` samples still miss some (the neighbour graph is not connected and
    sampling is not uniform), so a space never silently lists fewer architectures than it has.
    """
    from nasbook._errors import NotEnumerableError

    card = space.cardinality
    rng = np.random.default_rng(seed)
    seen: dict[str, Architecture] = {}
    for _ in range(20 * card):
        if len(seen) >= card:
            break
        todo = [space.sample(rng)]
        while todo:
            arch = todo.pop()
            if arch.id not in seen:
                seen[arch.id] = arch
                todo.extend(n for n in space.neighbours(arch) if n.id not in seen)
    if len(seen) != card:
        raise NotEnumerableError(
            f"{type(space).__name__}.enumerate(): walking neighbours from {20 * card} samples found {len(seen)} "
            f"architectures, but cardinality is {card}; override _enumerate() to list this space's architectures."
        )
    return [seen[k] for k in sorted(seen)]
