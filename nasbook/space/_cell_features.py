"""Encodings and enumeration of :class:`~nasbook.space.CellSpace` cells (kept out of ``_cell.py``).

A cell is a DAG over nodes ``0`` (input) to ``n - 1`` (output) with one op per edge ``i -> j``,
``i < j`` (``"none"``: no edge). Three encodings:

``adjacency``
    one bit per edge (present or not), then one-hot of each edge's op over ``ops``.
``path`` (White et al., BANANAS)
    one indicator per sequence of non-``none`` ops of length 1 to ``n - 1``, set when some
    input->output path carries exactly that sequence; ordered by length, then as base-``n_live``
    numbers.
``graf`` (GRAF, Kadlecová et al., ICML 2024: graph features)
    - ``count[op]``: edges with that op (each op but ``none``);
    - for every op subset ``S``: ``min_path[S]`` / ``max_path[S]``, the fewest / most edges on an
      input->output path all of whose edges have ops in ``S`` (0 when there is none), and
      ``n_paths[S]``, the number of such paths. The subsets are every non-empty set of the
      non-``none`` ops when there are at most four of them (NAS-Bench-201: 15 subsets, as in
      GRAF), else each op alone and the groups ``conv`` (ops named ``*conv*``), ``pool``,
      ``no_skip``, ``no_pool`` and ``all``;
    - for the groups ``conv``, ``pool`` and ``skip``: ``min_hops[G]`` / ``max_hops[G]``, the
      fewest / most edges of the group on an input->output path;
    - per op: ``input_out_degree[op]`` (edges with it leaving the input), ``output_in_degree[op]``
      (entering the output), ``in_degree_mean[op]`` / ``in_degree_max[op]`` /
      ``out_degree_mean[op]`` / ``out_degree_max[op]`` over the intermediate nodes in use;
    - ``depth`` (longest input->output path), ``n_edges`` (edges in use), ``n_nodes_used``
      (intermediate nodes in use).

Groups and subsets with no op of the space, or equal to an earlier one, are left out, so the
length depends on ``ops`` and ``n_nodes`` only.

:func:`graf_many` computes them for many cells at once with array operations over blocks of cells (every
input->output path of the layout is a bit mask of edge positions, enumerated once per layout); one cell's
vector (:func:`graf`) is the same call on a block of one.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nasbook.space._cell_graph import Key, path_codes

if TYPE_CHECKING:
    from nasbook.space._base import Architecture
    from nasbook.space._cell import CellSpace

_MAX_RAW = 2_000_000  # enumerate by canonicalizing every raw spec up to this many, else walk neighbours


@functools.cache
def op_subsets(live_ops: tuple[str, ...]) -> list[tuple[str, frozenset[str]]]:
    """The op subsets of the path features, in a fixed order (see the module docstring)."""
    live = list(live_ops)
    if len(live) <= 4:
        groups = [
            ("+".join(c), frozenset(c)) for r in range(1, len(live) + 1) for c in itertools.combinations(live, r)
        ]
    else:
        conv = frozenset(o for o in live if "conv" in o)
        pool = frozenset(o for o in live if "pool" in o)
        groups = [(o, frozenset([o])) for o in live] + [
            ("conv", conv), ("pool", pool), ("no_skip", frozenset(live) - {"skip_connect"}),
            ("no_pool", frozenset(live) - pool), ("all", frozenset(live)),
        ]
    out: list[tuple[str, frozenset[str]]] = []
    for name, subset in groups:
        if subset and all(subset != s for _, s in out):
            out.append((name, subset))
    return out


@functools.cache
def hop_groups(live_ops: tuple[str, ...]) -> list[tuple[str, frozenset[str]]]:
    groups = [
        ("conv", frozenset(o for o in live_ops if "conv" in o)),
        ("pool", frozenset(o for o in live_ops if "pool" in o)),
        ("skip", frozenset(o for o in live_ops if o == "skip_connect")),
    ]
    return [(name, g) for name, g in groups if g]


def graf_names(live_ops: tuple[str, ...]) -> list[str]:
    names = [f"count[{o}]" for o in live_ops]
    for name, _ in op_subsets(live_ops):
        names += [f"min_path[{name}]", f"max_path[{name}]", f"n_paths[{name}]"]
    for name, _ in hop_groups(live_ops):
        names += [f"min_hops[{name}]", f"max_hops[{name}]"]
    for o in live_ops:
        names += [f"input_out_degree[{o}]", f"output_in_degree[{o}]", f"in_degree_mean[{o}]", f"in_degree_max[{o}]",
                  f"out_degree_mean[{o}]", f"out_degree_max[{o}]"]
    return [*names, "depth", "n_edges", "n_nodes_used"]


class _Tables:
    """What the ``graf`` features of every cell of one layout (nodes, edges, ops) share, computed once.

    Edges and paths are bit masks over the edge positions: bit ``e`` is edge ``pairs[e]``. A path
    (a sequence of edges from the input to the output) exists in a cell through the op subset ``S``
    when every one of its bits is among the cell's edges whose op is in ``S``.
    """

    def __init__(self, n: int, pairs: tuple[tuple[int, int], ...], live_ops: tuple[str, ...]):
        k = len(live_ops)
        self.index = {o: a for a, o in enumerate(live_ops)} | {"none": k}  # "none": a column dropped below
        bit = {e: 1 << b for b, e in enumerate(pairs)}
        paths: list[tuple[int, int]] = []  # (mask, length) of every input->output path over `pairs`
        stack = [(0, 0, 0)]
        while stack:
            node, mask, length = stack.pop()
            if node == n - 1:
                paths.append((mask, length))
                continue
            stack.extend((j, mask | bit[(i, j)], length + 1) for i, j in pairs if i == node)
        self.path_mask = np.array([m for m, _ in paths], dtype=np.int64)
        self.path_len = np.array([length for _, length in paths], dtype=np.int64)
        self.bits = np.array([bit[e] for e in pairs], dtype=np.int64)
        member = np.array([[o in s for o in live_ops] for _, s in op_subsets(live_ops)], dtype=np.int64)
        self.subsets = member.reshape(-1, k).T  # (op, subset): op masks @ subsets = the subsets' edge masks
        self.groups = np.array([[o in g for o in live_ops] for _, g in hop_groups(live_ops)], dtype=np.int64).reshape(-1, k).T
        self.popcount = np.zeros(1 << len(pairs), dtype=np.int64)
        for b in range(len(pairs)):
            self.popcount += (np.arange(1 << len(pairs)) >> b) & 1
        nodes = np.arange(n)
        self.into = (np.array([j for _, j in pairs])[None, :] == nodes[:, None]).astype(np.int64)  # (node, edge)
        self.out_of = (np.array([i for i, _ in pairs])[None, :] == nodes[:, None]).astype(np.int64)
        self.n, self.k, self.n_edges, self.size = n, k, len(pairs), len(graf_names(live_ops))


@functools.cache
def _tables(n: int, pairs: tuple[tuple[int, int], ...], live_ops: tuple[str, ...]) -> _Tables:
    return _Tables(n, pairs, live_ops)


_LO, _HI = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _path_stats(valid: np.ndarray, length: np.ndarray, lo: np.ndarray, hi: np.ndarray, lo_none: float, hi_none: float) -> None:
    """Writes into ``lo`` / ``hi`` the fewest / most ``length`` over the ``valid`` paths (last axis), and ``lo_none`` /
    ``hi_none`` where there is none."""
    lo[...] = np.where(valid, length, _LO).min(axis=-1)
    hi[...] = np.where(valid, length, _HI).max(axis=-1)
    none = ~valid.any(axis=-1)
    lo[none], hi[none] = lo_none, hi_none


def _graf_block(codes: np.ndarray, t: _Tables, out: np.ndarray) -> None:
    """Writes into ``out`` (cells, columns) the ``graf`` rows of cells given as op codes (cells, edges); code ``t.k``
    is ``"none"``. Values are computed as integers or float64 and rounded to ``out``'s float32 once."""
    n, k, m = t.n, t.k, len(codes)
    s, g = t.subsets.shape[1], t.groups.shape[1]
    onehot = (codes[:, :, None] == np.arange(k)).astype(np.int64)  # (cell, edge, op)
    op_mask = (onehot * t.bits[None, :, None]).sum(axis=1)  # (cell, op): bit mask of the edges with the op
    out[:, :k] = onehot.sum(axis=1)  # count[op]
    # min_path / max_path / n_paths of every op subset: over the paths all of whose edges have ops in it
    per_subset = out[:, k:k + 3 * s].reshape(m, s, 3)
    valid = ((op_mask @ t.subsets)[:, :, None] & t.path_mask) == t.path_mask  # (cell, subset, path)
    _path_stats(valid, t.path_len, per_subset[:, :, 0], per_subset[:, :, 1], 0.0, 0.0)
    per_subset[:, :, 2] = valid.sum(axis=-1)
    # min_hops / max_hops: the group's edges on the paths of edges in use (inf / -inf where there is none)
    at = k + 3 * s
    per_group = out[:, at:at + 2 * g].reshape(m, g, 2)
    on = (op_mask.sum(axis=1)[:, None] & t.path_mask) == t.path_mask  # (cell, path); the ops' masks are disjoint
    hops = t.popcount[(op_mask @ t.groups)[:, :, None] & t.path_mask]  # (cell, group, path)
    _path_stats(np.broadcast_to(on[:, None, :], hops.shape), hops, per_group[:, :, 0], per_group[:, :, 1], np.inf, -np.inf)
    # per op: the six degree features
    at += 2 * g
    per_op = out[:, at:at + 6 * k].reshape(m, k, 6)
    ins = np.matmul(t.into, onehot)  # (cell, node, op): edges with that op entering / leaving the node
    outs = np.matmul(t.out_of, onehot)
    n_used = ((ins[:, 1:n - 1] + outs[:, 1:n - 1]).sum(axis=2) > 0).sum(axis=1)  # intermediate nodes in use
    per_op[:, :, 0], per_op[:, :, 1] = outs[:, 0], ins[:, n - 1]
    for c, deg in ((2, ins[:, 1:n - 1]), (4, outs[:, 1:n - 1])):  # an unused node has degree 0: the mean over the used
        total = deg.sum(axis=1).astype(np.float64)
        per_op[:, :, c] = np.divide(total, n_used[:, None], out=np.zeros_like(total), where=n_used[:, None] > 0)
        per_op[:, :, c + 1] = deg.max(axis=1, initial=0)
    depth = np.empty(m)  # the longest path of edges in use (0 when there is none)
    _path_stats(on, t.path_len, np.empty(m), depth, 0.0, 0.0)
    out[:, -3], out[:, -2], out[:, -1] = depth, np.count_nonzero(codes < k, axis=1), n_used


_BLOCK = 4096  # cells per block of array operations (bounds the temporaries: tens of MB for 6-node cells)


def graf_many(keys: Sequence[Key], n: int, pairs: Sequence[tuple[int, int]], live_ops: tuple[str, ...]) -> np.ndarray:
    """The ``graf`` rows of cells given as op tuples (one op per pair, ``"none"``: no edge), float32, in the
    order of :func:`graf_names`. Computed over blocks of cells with array operations."""
    t = _tables(n, tuple(pairs), live_ops)
    out = np.empty((len(keys), t.size), dtype=np.float32)
    for start in range(0, len(keys), _BLOCK):
        block = keys[start:start + _BLOCK]
        codes = np.fromiter(map(t.index.__getitem__, itertools.chain.from_iterable(block)), dtype=np.int64,
                            count=len(block) * t.n_edges).reshape(len(block), t.n_edges)
        _graf_block(codes, t, out[start:start + len(block)])
    return out


def graf(key: Key, n: int, pairs: Sequence[tuple[int, int]], live_ops: tuple[str, ...]) -> np.ndarray:
    """The ``graf`` vector of one cell: :func:`graf_many` of it alone."""
    return graf_many([key], n, pairs, live_ops)[0]


# -- what CellSpace calls ------------------------------------------------------------------------------------
def encoding_size(space: CellSpace, kind: str) -> int:
    if kind == "adjacency":
        return space.n_edges * (1 + len(space._ops))
    if kind == "graf":
        return len(graf_names(space._live_ops))
    m = len(space._live_ops)
    return sum(m**length for length in range(1, space.n_nodes))


def encode(space: CellSpace, edges: Sequence[str], kind: str) -> np.ndarray:
    """The ``kind`` encoding of a canonical cell's ``edges`` (see the module docstring)."""
    if kind == "graf":
        return graf(tuple(edges), space.n_nodes, space.edges, space._live_ops)
    out = np.zeros(encoding_size(space, kind), dtype=np.float32)
    if kind == "adjacency":
        n_edges, width = space.n_edges, len(space._ops)
        for k, op in enumerate(edges):
            if op != "none":
                out[k] = 1.0
            out[n_edges + k * width + space._op_index[op]] = 1.0
        return out
    out[path_codes(tuple(edges), space.n_nodes, space.edges, space._live_index)] = 1.0
    return out


def feature_names(space: CellSpace, kind: str) -> list[str]:
    if kind == "graf":
        return graf_names(space._live_ops)
    if kind == "adjacency":
        pairs = [f"{i}->{j}" for i, j in space.edges]
        return [f"edge[{p}]" for p in pairs] + [f"op[{p}={o}]" for p in pairs for o in space._ops]
    return [f"path[{i}]" for i in range(encoding_size(space, kind))]


def enumerate_cells(space: CellSpace) -> list[Architecture]:
    """Every cell, in order of first appearance among the raw specs (``itertools.product`` over ``ops``);
    spaces with more than two million raw specs walk neighbours instead (sorted by id)."""
    if len(space._ops) ** space.n_edges > _MAX_RAW:
        from nasbook.space._helpers import enumerate_by_walking

        return enumerate_by_walking(space)
    seen: dict[Key, None] = {}
    for raw in itertools.product(space._ops, repeat=space.n_edges):
        canon = space._canonical(raw)
        if canon is not None and canon not in seen:
            seen[canon] = None
    return [space._arch(k) for k in seen]
