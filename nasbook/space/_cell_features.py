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


def _paths(n: int, edges: list[tuple[int, int, str]], allowed: frozenset[str]) -> tuple[float, float, float]:
    """(fewest edges, most edges, number) of input->output paths through edges with ops in ``allowed``."""
    lo = [np.inf] * n
    hi = [-np.inf] * n
    count = [0] * n
    lo[0], hi[0], count[0] = 0, 0, 1
    for i, j, op in edges:  # lexicographic order: every edge into i comes before every edge out of i
        if op in allowed and count[i]:
            lo[j] = min(lo[j], lo[i] + 1)
            hi[j] = max(hi[j], hi[i] + 1)
            count[j] += count[i]
    if not count[n - 1]:
        return 0.0, 0.0, 0.0
    return float(lo[n - 1]), float(hi[n - 1]), float(count[n - 1])


def _hops(n: int, edges: list[tuple[int, int, str]], group: frozenset[str]) -> tuple[float, float]:
    """Fewest and most edges of ``group`` on an input->output path (all edges of a pruned cell are on one)."""
    lo = [np.inf] * n
    hi = [-np.inf] * n
    lo[0] = hi[0] = 0
    for i, j, op in edges:
        w = op in group
        lo[j] = min(lo[j], lo[i] + w)
        hi[j] = max(hi[j], hi[i] + w)
    return float(lo[n - 1]), float(hi[n - 1])


def graf(key: Key, n: int, pairs: Sequence[tuple[int, int]], live_ops: tuple[str, ...]) -> np.ndarray:
    """The ``graf`` vector of a canonical (pruned) cell, in the order of :func:`graf_names`."""
    edges = [(i, j, op) for (i, j), op in zip(pairs, key) if op != "none"]
    out: list[float] = [float(sum(op == o for _, _, op in edges)) for o in live_ops]
    for _, subset in op_subsets(live_ops):
        out.extend(_paths(n, edges, subset))
    for _, group in hop_groups(live_ops):
        out.extend(_hops(n, edges, group))
    used = sorted({v for i, j, _ in edges for v in (i, j)} - {0, n - 1})
    k = len(live_ops)
    index = {o: a for a, o in enumerate(live_ops)}
    ins, outs = np.zeros((n, k)), np.zeros((n, k))  # (node, op): edges with that op entering / leaving it
    for i, j, op in edges:
        outs[i, index[op]] += 1
        ins[j, index[op]] += 1
    inner_in, inner_out = (ins[used], outs[used]) if used else (np.zeros((1, k)), np.zeros((1, k)))
    out += np.column_stack([
        outs[0], ins[n - 1], inner_in.mean(axis=0), inner_in.max(axis=0), inner_out.mean(axis=0), inner_out.max(axis=0),
    ]).ravel().tolist()
    out += [_paths(n, edges, frozenset(live_ops))[1], len(edges), len(used)]
    return np.asarray(out, dtype=np.float32)


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
