"""GRAF-style graph features of :class:`~nasbook.space.GraphSpace` cells, computed for many cells at once.

A NAS-Bench-Graph cell is a tree: node ``j`` (1 to 4) applies ``ops[j-1]`` to node ``link[j-1]``
(0 is the cell input), and the nodes nobody reads (the leaves) feed the output. So every
input->output path ends at one leaf, and a cell has one path per leaf. The features follow GRAF
(Kadlecová et al., "Surprisingly Strong Performance Prediction with Neural Graph Features",
ICML 2024), adapted to ops on nodes:

- ``count[op]``: nodes with that op;
- for every op subset ``S`` (each op alone, ``mp`` = the message-passing ops, i.e. all but ``fc``
  and ``skip``, ``no_skip`` and ``all``): ``min_path[S]`` / ``max_path[S]``, the fewest / most
  nodes on an input->output path whose nodes all have ops in ``S`` (0 when there is none), and
  ``n_paths[S]``, the number of such paths;
- for the groups ``mp``, ``fc`` and ``skip``: ``min_hops[G]`` / ``max_hops[G]`` / ``mean_hops[G]``,
  the number of nodes of the group on a path, over all paths (``min_hops[mp]`` is the number of
  message-passing rounds of the shallowest branch);
- ``out_degree_mean[op]`` / ``out_degree_max[op]``: readers of the nodes with that op (the output
  counts as a reader), 0 when no node has it;
- ``output_count[op]`` / ``input_count[op]``: nodes with that op that feed the output / read the input;
- ``level_count[op@d]``: nodes with that op at depth ``d`` (1 to 4) from the input;
- ``n_outputs``, ``depth`` (deepest node), ``input_out_degree``, ``link_pattern[k]`` (one-hot of the
  nine canonical link patterns of :data:`~nasbook.space.LINKS`).

Groups with no op in the space are left out, so the length depends on the space's ``ops`` only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

_N = 4


def op_subsets(ops: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """The op subsets of the path features: each op alone, then ``mp``, ``no_skip``, ``all`` (distinct, non-empty)."""
    n = len(ops)
    mp = np.array([o not in ("fc", "skip") for o in ops])
    groups = [(o, np.eye(n, dtype=bool)[i]) for i, o in enumerate(ops)]
    groups += [("mp", mp), ("no_skip", np.array([o != "skip" for o in ops])), ("all", np.ones(n, dtype=bool))]
    out: list[tuple[str, np.ndarray]] = []
    for name, mask in groups:
        if mask.any() and not any(np.array_equal(mask, m) for _, m in out):
            out.append((name, mask))
    return out


def hop_groups(ops: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """``mp``, ``fc`` and ``skip`` as op masks, those with an op in ``ops`` only."""
    groups = [
        ("mp", np.array([o not in ("fc", "skip") for o in ops])),
        ("fc", np.array([o == "fc" for o in ops])),
        ("skip", np.array([o == "skip" for o in ops])),
    ]
    return [(name, mask) for name, mask in groups if mask.any()]


def _masked_min_max(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max over the first axis (nodes) of ``values`` where ``mask``; 0 where nothing is masked in."""
    any_ = mask.any(axis=0)
    lo = np.where(mask, values, np.inf).min(axis=0, initial=np.inf)
    hi = np.where(mask, values, -np.inf).max(axis=0, initial=-np.inf)
    return np.where(any_, lo, 0.0), np.where(any_, hi, 0.0)


def graph_features(
    links: np.ndarray, ops: np.ndarray, op_names: Sequence[str], patterns: Sequence[Sequence[int]]
) -> tuple[list[str], np.ndarray]:
    """Names and the ``(n_cells, n_features)`` float32 matrix of the features of many cells.

    ``links``: ``(n_cells, 4)`` ints, ``links[c, j]`` the node that node ``j+1`` reads; ``ops``:
    ``(n_cells, 4)`` indices into ``op_names``; ``patterns``: the canonical link patterns (for the
    one-hot). Called with zero rows it gives the names alone. Arrays are node-major inside
    (``[node, cell]``) so that sums over the four nodes are plain vector additions.
    """
    links = np.asarray(links, dtype=np.int64).reshape(-1, _N)
    ops = np.asarray(ops, dtype=np.int64).reshape(-1, _N)
    n_cells, n_ops = len(links), len(op_names)
    cells = np.arange(n_cells)
    parent, op = links.T, ops.T  # (node, cell); node j + 1 reads parent[j]
    names: list[str] = []
    blocks: list[np.ndarray] = []

    def add(prefix: str, labels: Sequence[str], block: np.ndarray) -> None:
        """Columns ``prefix[label]`` from ``block`` (cells, len(labels)) or (cells,) for a single unlabelled column."""
        names.extend([f"{prefix}[{label}]" for label in labels] if labels else [prefix])
        blocks.append(np.asarray(block, dtype=np.float32).reshape(n_cells, max(len(labels), 1)))

    onehot = np.eye(n_ops, dtype=np.float32)[op]  # (node, cell, op)
    depth = np.zeros((_N + 1, n_cells), dtype=np.float32)  # row 0: the input
    readers = np.zeros((_N + 1, n_cells), dtype=np.float32)
    for j in range(_N):
        depth[j + 1] = depth[parent[j], cells] + 1
        readers[parent[j], cells] += 1
    leaf = readers[1:] == 0  # (node, cell): feeds the output
    node_depth = depth[1:]

    add("count", op_names, onehot.sum(axis=0))
    for name, mask in op_subsets(op_names):
        ok = np.ones((_N + 1, n_cells), dtype=bool)
        allowed = mask[op]
        for j in range(_N):
            ok[j + 1] = ok[parent[j], cells] & allowed[j]
        good = leaf & ok[1:]
        lo, hi = _masked_min_max(node_depth, good)
        add(f"min_path[{name}]", (), lo)
        add(f"max_path[{name}]", (), hi)
        add(f"n_paths[{name}]", (), good.sum(axis=0))
    n_leaves = leaf.sum(axis=0)
    for name, mask in hop_groups(op_names):
        hops = np.zeros((_N + 1, n_cells), dtype=np.float32)
        member = mask[op]
        for j in range(_N):
            hops[j + 1] = hops[parent[j], cells] + member[j]
        lo, hi = _masked_min_max(hops[1:], leaf)
        add(f"min_hops[{name}]", (), lo)
        add(f"max_hops[{name}]", (), hi)
        add(f"mean_hops[{name}]", (), np.where(leaf, hops[1:], 0).sum(axis=0) / np.maximum(n_leaves, 1))
    out_degree = (readers[1:] + leaf)[:, :, None] * onehot  # (node, cell, op), 0 where the node has another op
    mean_degree = out_degree.sum(axis=0) / np.maximum(onehot.sum(axis=0), 1)
    max_degree = out_degree.max(axis=0)
    pairs = np.stack([mean_degree, max_degree], axis=2).reshape(n_cells, 2 * n_ops)
    names.extend(f"out_degree_{stat}[{o}]" for o in op_names for stat in ("mean", "max"))
    blocks.append(pairs)
    add("output_count", op_names, (onehot * leaf[:, :, None]).sum(axis=0))
    add("input_count", op_names, (onehot * (parent == 0)[:, :, None]).sum(axis=0))
    for d in range(1, _N + 1):
        add("level_count", [f"{o}@{d}" for o in op_names], (onehot * (node_depth == d)[:, :, None]).sum(axis=0))
    add("n_outputs", (), n_leaves)
    add("depth", (), depth.max(axis=0, initial=0))
    add("input_out_degree", (), readers[0])
    base = (_N + 1) ** np.arange(_N - 1, -1, -1)  # a link pattern as one base-5 number
    code = links @ base
    codes = np.array([int(np.asarray(p, dtype=np.int64) @ base) for p in patterns], dtype=np.int64)
    add("link_pattern", [str(k) for k in range(len(patterns))], code[:, None] == codes[None, :])
    matrix = np.concatenate(blocks, axis=1) if blocks else np.zeros((n_cells, 0), dtype=np.float32)
    return names, np.ascontiguousarray(matrix, dtype=np.float32)


@functools.cache
def graph_feature_names(op_names: tuple[str, ...], patterns: tuple[tuple[int, ...], ...]) -> tuple[str, ...]:
    """The names of :func:`graph_features`' columns (they depend on the ops and patterns only)."""
    empty = np.zeros((0, _N), dtype=np.int64)
    return tuple(graph_features(empty, empty, op_names, patterns)[0])
