"""Which of many architectures are canonical cells of a :class:`~nasbook.space.CellSpace`, tested together.

``CellSpace.validate`` tests one architecture by making it again: its canonical form through every relabelling of
the intermediate nodes, a second :class:`~nasbook.space.Architecture` and that one's id (~18 us a cell on a fresh
space: most of what ``encode_many`` cost on a knowledge base's first ``similar`` call, docs/benchmarks.md
11s-graf). :func:`proven_members` tests the same conditions over many cells with array operations: an
architecture passes ``validate`` exactly when

1. it is an :class:`~nasbook.space.Architecture` carrying the space's ``space_id``;
2. its ``edges`` are ``n_edges`` op names of the space;
3. they are their own canonical form: every edge that is not ``"none"`` lies on an input->output path (and there
   is one), and no allowed relabelling of the intermediate nodes gives a smaller op tuple (comparing op names);
4. its ``id`` is ``stable_hash({"edges": edges})``.

This module only proves membership; whatever it does not prove is left to ``validate`` one by one
(``CellSpace._validate_many``), so a non-member raises the very error ``validate`` raises, and the first one in
order raises first.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from nasbook.space._arch import Architecture

if TYPE_CHECKING:
    from nasbook.space._cell import CellSpace

NO = "none"
#: below this many architectures ``CellSpace._validate_many`` calls ``validate`` on each: the array operations
#: cost a fixed ~0.1 ms (e.g. a ``kb.similar`` query, encoded alone, would pay it on every call)
MANY = 64


class _Layout(NamedTuple):
    rank: dict[str, int]  # op of the space -> its rank among the op names (and "none"), in string order
    none_rank: int
    quoted: dict[str, str]  # op -> its JSON text, as stable_hash writes it
    weights: np.ndarray  # base len(ranks) place values: comparing op tuples = comparing integers
    moves: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # per relabelling: (sources, targets, dropped)


@functools.cache
def _layout(ops: tuple[str, ...], relabellings: tuple[tuple[int, ...], ...]) -> _Layout:
    names = sorted({*ops, NO})
    order = {op: r for r, op in enumerate(names)}
    n_edges = len(relabellings[0])
    # len(names) <= 10 ops and n_edges <= 15 (6 nodes): at most 10**15, inside int64
    weights = np.array([len(names) ** (n_edges - 1 - k) for k in range(n_edges)], dtype=np.int64)
    moves = []
    for emap in relabellings:
        em = np.asarray(emap, dtype=np.intp)
        keep = em >= 0
        moves.append((np.flatnonzero(keep), em[keep], np.flatnonzero(~keep)))
    return _Layout({op: order[op] for op in ops}, order[NO], {op: json.dumps(op) for op in ops}, weights, tuple(moves))


def frozen_edges(arch: Architecture) -> Any:
    """The frozen value of ``arch``'s first ``edges`` field (what ``arch["edges"]`` thaws), or None."""
    for k, v in arch._spec:
        if k == "edges":
            return v
    return None


def proven_members(space: CellSpace, archs: Sequence[object]) -> np.ndarray:
    """A boolean mask over ``archs``: True where the architecture is a canonical cell of ``space`` (it passes
    ``space.validate``). False means "not proven here", never "not a member": test those with ``validate``."""
    ok = np.zeros(len(archs), dtype=bool)
    if not len(archs):
        return ok
    lay = _layout(space._ops, space._relabellings)
    rank, quoted, sid, n_edges = lay.rank, lay.quoted, space.space_id, space.n_edges
    kept: list[tuple[str, ...]] = []
    where: list[int] = []
    sha1, made = hashlib.sha1, space._archs  # canonical key -> the Architecture the space made
    for i, a in enumerate(archs):
        if not isinstance(a, Architecture) or a.space_id != sid:
            continue
        spec = a._spec
        edges = spec[0][1] if len(spec) == 1 and spec[0][0] == "edges" else frozen_edges(a)
        if type(edges) is not tuple or len(edges) != n_edges:
            continue
        try:
            known = made.get(edges)
            if known is not None and known == a:  # validate's own shortcut: a cell the space made, under its id
                ok[i] = True
                continue
            text = '{"edges":[' + ",".join(map(quoted.__getitem__, edges)) + "]}"
        except (KeyError, TypeError):  # an op the space does not have, or an unhashable item
            continue
        if sha1(text.encode()).hexdigest()[:12] == a.id:
            kept.append(edges)
            where.append(i)
    if kept:
        codes = np.fromiter(map(rank.__getitem__, itertools.chain.from_iterable(kept)), dtype=np.int64,
                            count=len(kept) * n_edges).reshape(len(kept), n_edges)
        ok[np.asarray(where, dtype=np.intp)[_canonical(codes, space.n_nodes, space.edges, lay)]] = True
    return ok


def _canonical(codes: np.ndarray, n: int, edges: Sequence[tuple[int, int]], lay: _Layout) -> np.ndarray:
    """Rows of ``codes`` (op ranks, one row per cell) that are their own canonical form (``CellSpace._canonical``)."""
    live = codes != lay.none_rank
    m = len(codes)
    reach = np.zeros((m, n), dtype=bool)
    reach[:, 0] = True
    for k, (i, j) in enumerate(edges):  # lexicographic order visits i's in-edges before i's out-edges
        reach[:, j] |= reach[:, i] & live[:, k]
    coreach = np.zeros((m, n), dtype=bool)
    coreach[:, n - 1] = True
    for k in range(len(edges) - 1, -1, -1):
        i, j = edges[k]
        coreach[:, i] |= coreach[:, j] & live[:, k]
    ok = reach[:, n - 1].copy()  # a path from the input to the output
    for k, (i, j) in enumerate(edges):  # pruning changes nothing: every live edge is on such a path
        ok &= ~live[:, k] | (reach[:, i] & coreach[:, j])
    value = codes @ lay.weights
    cand = np.empty_like(codes)
    for src, dst, dropped in lay.moves:
        allowed = ~live[:, dropped].any(axis=1) if len(dropped) else np.ones(m, dtype=bool)
        cand.fill(lay.none_rank)
        cand[:, dst] = codes[:, src]
        ok &= ~(allowed & (cand @ lay.weights < value))  # a smaller relabelling: not canonical
    return ok
