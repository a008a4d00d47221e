"""The moves of a :class:`~nasbook.space.CellSpace`: one op change in some labelling of a cell.

The bodies of ``CellSpace._neighbour_keys`` and ``CellSpace.mutate`` (kept there with their docstrings);
each takes the space as its first argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nasbook._errors import InvalidArchitectureError
from nasbook.space import _cell_graph as graph
from nasbook.space._base import Architecture, check_rng
from nasbook.space._cell_graph import Key

if TYPE_CHECKING:
    from nasbook.space._cell import CellSpace


def neighbour_keys(space: CellSpace, key: Key) -> tuple[Key, ...]:
    """The canonical keys one op change away from ``key`` (cached on the space, see ``CellSpace.neighbours``)."""
    cached = space._nbrs.get(key)
    if cached is None:
        from nasbook.space._cell import _CACHE_LIMIT

        seen = {key}
        out = []
        # edit every labelling of the cell, not only the canonical one: which edges can be
        # added between intermediate nodes depends on how they are numbered
        live = [k for k, op in enumerate(key) if op != "none"]
        labellings = {key: None}
        for emap in space._relabellings:
            relabelled = graph.relabel(key, emap, live)
            if relabelled is not None:
                labellings[relabelled] = None
        for lab in labellings:
            for k in range(space.n_edges):
                for op in space._ops:
                    if op == lab[k]:
                        continue
                    cand = space._canonical((*lab[:k], op, *lab[k + 1 :]))
                    if cand is not None and cand not in seen:
                        seen.add(cand)
                        out.append(cand)
        if len(space._nbrs) > _CACHE_LIMIT:
            space._nbrs.clear()
        cached = space._nbrs[key] = tuple(out)
    return cached


def mutate(space: CellSpace, arch: Architecture, rng: np.random.Generator) -> Architecture:
    """A uniformly random neighbour of ``arch``; a random other cell if it has none (``CellSpace.mutate``)."""
    check_rng(space, "mutate", rng)
    keys = space._neighbour_keys(tuple(space.validate(arch)["edges"]))
    if keys:
        return space._arch(keys[int(rng.integers(len(keys)))])
    if space.cardinality < 2:
        raise InvalidArchitectureError(
            f"Architecture {arch.id!r} has no neighbours in {space!r}: it is its only cell."
        )
    while True:
        other = space.sample(rng)
        if other != arch:
            return other
