"""Several candidate regions for :class:`~nasbook.strategies.BO` (``regions=k``): edit-distance balls
around the best told architectures of distinct basins, in the spirit of TuRBO's multiple trust
regions (Eriksson et al., 2019), on a discrete space."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasbook.space import Architecture, SearchSpace


def ball(space: SearchSpace, centres: Iterable[Architecture], radius: int) -> dict[str, Architecture]:
    """The architectures within ``radius`` edits of any of ``centres`` (breadth-first through
    ``space.neighbours``), centres included, in breadth-first order."""
    frontier = list(centres)
    out = {a.id: a for a in frontier}
    for _ in range(radius):
        nxt = []
        for a in frontier:
            for b in space.neighbours(a):
                if b.id not in out:
                    out[b.id] = b
                    nxt.append(b)
        frontier = nxt
    return out


def basin_centres(space: SearchSpace, ranked: list[Architecture], k: int, radius: int) -> list[Architecture]:
    """Up to ``k`` centres of distinct basins, greedily: the best of ``ranked`` (best first), then
    each next-best architecture more than ``radius`` edits from every earlier centre."""
    centres: list[Architecture] = []
    covered: set[str] = set()
    for a in ranked:
        if len(centres) >= k:
            break
        if a.id in covered:
            continue
        centres.append(a)
        if len(centres) < k:  # the last centre's ball is not needed to choose the next
            covered.update(ball(space, [a], radius))
    return centres
