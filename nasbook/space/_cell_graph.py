"""Pure helpers of :class:`~nasbook.space.CellSpace` on cells as op tuples: pruning, relabelling,
counting by Burnside's lemma, and NAS-Bench-201's ``|op~0|+|op~0|op~1|`` strings.

A cell over ``n`` nodes is a tuple of op names, one per edge ``(i, j)``, ``i < j``, in
lexicographic order; ``"none"`` means no edge.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from nasbook._errors import InvalidArchitectureError

Key = tuple[str, ...]
#: one entry per shape of canonical cell: (live edge positions, symmetries, number of cells)
ShapeClass = tuple[tuple[int, ...], tuple[tuple[int, ...], ...], int]


def dag_edges(n: int) -> tuple[tuple[int, int], ...]:
    """Every edge ``(i, j)``, ``i < j``, of an ``n``-node cell, in lexicographic order."""
    return tuple((i, j) for i in range(n) for j in range(i + 1, n))


def relabellings(n: int, edges: Sequence[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """One row per order of the intermediate nodes: where each edge position goes under it.

    ``-1`` marks an edge that would point backwards: the relabelling is not allowed when that edge
    exists.
    """
    index = {e: k for k, e in enumerate(edges)}
    maps = []
    for perm in itertools.permutations(range(1, n - 1)):
        p = (0, *perm, n - 1)
        maps.append(tuple(index.get((p[i], p[j]), -1) for i, j in edges))
    return tuple(maps)


def relabel(key: Key, emap: Sequence[int], live: Sequence[int]) -> Key | None:
    """``key`` relabelled by ``emap`` (a row of :func:`relabellings`); None when not allowed."""
    if any(emap[k] < 0 for k in live):
        return None
    out = ["none"] * len(key)
    for k in live:
        out[emap[k]] = key[k]
    return tuple(out)


def prune(raw: Key, n: int, edges: Sequence[tuple[int, int]]) -> Key | None:
    """Set every edge on no input->output path to "none"; None when there is no such path."""
    reach = [False] * n
    reach[0] = True
    for k, (i, j) in enumerate(edges):  # lexicographic order visits i's in-edges before i's out-edges
        if reach[i] and raw[k] != "none":
            reach[j] = True
    if not reach[n - 1]:
        return None
    coreach = [False] * n
    coreach[n - 1] = True
    for k in range(len(edges) - 1, -1, -1):
        i, j = edges[k]
        if coreach[j] and raw[k] != "none":
            coreach[i] = True
    return tuple(op if op != "none" and reach[i] and coreach[j] else "none" for op, (i, j) in zip(raw, edges))


def n_cycles(perm: Sequence[int]) -> int:
    """Number of cycles of a permutation given as a sequence of images."""
    seen = [False] * len(perm)
    cycles = 0
    for start in range(len(perm)):
        if not seen[start]:
            cycles += 1
            k = start
            while not seen[k]:
                seen[k] = True
                k = perm[k]
    return cycles


def shape_classes(
    n_edges: int,
    maps: Sequence[Sequence[int]],
    pruned: Callable[[Key], Key | None],
    n_live_ops: int,
    has_none: bool,
) -> tuple[ShapeClass, ...]:
    """One entry per shape of canonical cell (edge set up to relabelling).

    Each entry is ``(edges, symmetries, count)``: the edge positions of a representative shape,
    its symmetries (relabellings that map the shape onto itself, as permutations of those
    positions) and the number of distinct cells of that shape, by Burnside's lemma: the
    average over symmetries of ``n_live_ops ** cycles``.
    """
    masks = range(2**n_edges) if has_none else [2**n_edges - 1]
    out = []
    for mask in masks:
        present = tuple("x" if mask >> (n_edges - 1 - k) & 1 else "none" for k in range(n_edges))
        if pruned(present) != present:
            continue
        live = [k for k in range(n_edges) if present[k] != "none"]
        shape = frozenset(live)
        allowed = [emap for emap in maps if all(emap[k] >= 0 for k in live)]
        if min(tuple(sorted(emap[k] for k in live)) for emap in allowed) != tuple(live):
            continue  # keep one representative per shape
        pos = {k: a for a, k in enumerate(live)}
        syms = [tuple(pos[emap[k]] for k in live) for emap in allowed if frozenset(emap[k] for k in live) == shape]
        total = sum(n_live_ops ** n_cycles(g) for g in syms)
        assert total % len(syms) == 0
        out.append((tuple(live), tuple(syms), total // len(syms)))
    return tuple(out)


# -- NAS-Bench-201 strings -------------------------------------------------------------------------------
def to_nb201(edges: Sequence[str], n: int, edge_index: dict[tuple[int, int], int]) -> str:
    """``|op~0|+|op~0|op~1|+...``: node ``j`` lists the ops of its inputs ``0 .. j-1``."""
    return "+".join("|" + "|".join(f"{edges[edge_index[(i, j)]]}~{i}" for i in range(j)) + "|" for j in range(1, n))


def from_nb201(owner: str, text: object, n: int) -> dict[tuple[int, int], str]:
    """Parse a NAS-Bench-201 string into ``{(i, j): op}``; raise InvalidArchitectureError if malformed."""
    form = "'|op~0|+|op~0|op~1|+...', node j listing its inputs 0..j-1"
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"{owner}.from_string(text=...) takes a string like {form}; got {text!r:.120} "
                                       f"of type {type(text).__name__}.")
    nodes = text.strip().split("+")
    if len(nodes) != n - 1:
        raise InvalidArchitectureError(
            f"{owner}.from_string(): expected {n - 1} '+'-separated nodes for n_nodes={n} ({form}); "
            f"got {len(nodes)} in {text!r}."
        )
    ops: dict[tuple[int, int], str] = {}
    for j, part in enumerate(nodes, start=1):
        items = part.strip("|").split("|") if part.startswith("|") and part.endswith("|") else None
        if items is None or len(items) != j:
            raise InvalidArchitectureError(
                f"{owner}.from_string(): node {j} must read like "
                f"{'|' + '|'.join(f'op~{i}' for i in range(j)) + '|'}; got {part!r} in {text!r}."
            )
        for i, item in enumerate(items):
            op, sep, src = item.rpartition("~")
            if not sep or src != str(i):
                raise InvalidArchitectureError(
                    f"{owner}.from_string(): input {i} of node {j} must read 'op~{i}'; got {item!r} in {text!r}."
                )
            ops[(i, j)] = op
    return ops


def path_codes(key: Key, n: int, edges: Sequence[tuple[int, int]], live_index: dict[str, int]) -> list[int]:
    """Positions set in the path encoding of ``key`` (White et al., BANANAS).

    One indicator per sequence of non-``none`` ops of length 1 to ``n - 1``, set when some
    input->output path carries exactly that sequence; sequences are ordered by length, then as
    base-``len(live_index)`` numbers.
    """
    m, last = len(live_index), n - 1
    succ: dict[int, list[tuple[int, int]]] = {}
    for (i, j), op in zip(edges, key):
        if op != "none":
            succ.setdefault(i, []).append((j, live_index[op]))
    offsets = [0] * (n + 1)
    for length in range(1, n):
        offsets[length + 1] = offsets[length] + m**length
    out: list[int] = []

    def walk(node: int, length: int, code: int) -> None:
        for nxt, o in succ.get(node, ()):
            c = code * m + o
            if nxt == last:
                out.append(offsets[length + 1] + c)
            else:
                walk(nxt, length + 1, c)

    walk(0, 0, 0)
    return out


def cell_diagram(owner: str, arch: Any, edges: tuple[tuple[int, int], ...], n_nodes: int) -> Any:
    """A cell as a display diagram (``CellSpace.draw``): nodes ``in, 1, ..., out``, one labelled
    edge per op that is not ``none``."""
    from nasbook.display import Diagram, DiagramEdge, DiagramNode

    ops = [str(op) for op in arch["edges"]]
    if len(ops) != len(edges):
        raise InvalidArchitectureError(
            f"{owner}.draw(): architecture {arch.id!r} has {len(ops)} edges; the cells of "
            f"this space have {len(edges)}. Draw it with the space it belongs to."
        )
    labels = ["in" if k == 0 else "out" if k == n_nodes - 1 else str(k) for k in range(n_nodes)]
    return Diagram(
        tuple(DiagramNode(label, "point") for label in labels),
        tuple(DiagramEdge(i, j, op) for (i, j), op in zip(edges, ops) if op != "none"),
        kind="cell",
    )
