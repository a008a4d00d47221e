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
    """Row-wise min and max of ``values`` where ``mask``; 0 in rows where nothing is masked in."""
    any_ = mask.any(axis=1)
    lo = np.where(mask, values, np.inf).min(axis=1, initial=np.inf)
    hi = np.where(mask, values, -np.inf).max(axis=1, initial=-np.inf)
    return np.where(any_, lo, 0.0), np.where(any_, hi, 0.0)


def graph_features(
    links: np.ndarray, ops: np.ndarray, op_names: Sequence[str], patterns: Sequence[Sequence[int]]
) -> tuple[list[str], np.ndarray]:
    """Names and the ``(n_cells, n_features)`` float32 matrix of the features of many cells.

    ``links``: ``(n_cells, 4)`` ints, ``links[c, j]`` the node that node ``j+1`` reads; ``ops``:
    ``(n_cells, 4)`` indices into ``op_names``; ``patterns``: the canonical link patterns (for the
    one-hot). Called with zero rows it gives the names alone.
    """
    links = np.asarray(links, dtype=np.int64).reshape(-1, _N)
    ops = np.asarray(ops, dtype=np.int64).reshape(-1, _N)
    n_cells, n_ops = len(links), len(op_names)
    rows = np.arange(n_cells)
    names: list[str] = []
    cols: list[np.ndarray] = []

    def add(name: str, col: np.ndarray) -> None:
        names.append(name)
        cols.append(np.asarray(col, dtype=np.float64).reshape(n_cells))

    onehot = np.eye(n_ops, dtype=np.float64)[ops]  # (cells, node, op)
    depth = np.zeros((n_cells, _N + 1))
    readers = np.zeros((n_cells, _N + 1))
    for j in range(1, _N + 1):
        depth[:, j] = depth[rows, links[:, j - 1]] + 1
        readers[rows, links[:, j - 1]] += 1
    leaf = readers[:, 1:] == 0  # (cells, node): feeds the output
    node_depth = depth[:, 1:]

    counts = onehot.sum(axis=1)
    for i, o in enumerate(op_names):
        add(f"count[{o}]", counts[:, i])
    for name, mask in op_subsets(op_names):
        ok = np.ones((n_cells, _N + 1), dtype=bool)
        allowed = mask[ops]
        for j in range(1, _N + 1):
            ok[:, j] = ok[rows, links[:, j - 1]] & allowed[:, j - 1]
        good = leaf & ok[:, 1:]
        lo, hi = _masked_min_max(node_depth, good)
        add(f"min_path[{name}]", lo)
        add(f"max_path[{name}]", hi)
        add(f"n_paths[{name}]", good.sum(axis=1))
    n_leaves = leaf.sum(axis=1)
    for name, mask in hop_groups(op_names):
        hops = np.zeros((n_cells, _N + 1))
        member = mask[ops]
        for j in range(1, _N + 1):
            hops[:, j] = hops[rows, links[:, j - 1]] + member[:, j - 1]
        lo, hi = _masked_min_max(hops[:, 1:], leaf)
        add(f"min_hops[{name}]", lo)
        add(f"max_hops[{name}]", hi)
        add(f"mean_hops[{name}]", np.where(leaf, hops[:, 1:], 0).sum(axis=1) / np.maximum(n_leaves, 1))
    out_degree = readers[:, 1:] + leaf
    for i, o in enumerate(op_names):
        has = ops == i
        k = has.sum(axis=1)
        add(f"out_degree_mean[{o}]", (out_degree * has).sum(axis=1) / np.maximum(k, 1))
        add(f"out_degree_max[{o}]", (out_degree * has).max(axis=1, initial=0))
    for i, o in enumerate(op_names):
        add(f"output_count[{o}]", (onehot[:, :, i] * leaf).sum(axis=1))
    for i, o in enumerate(op_names):
        add(f"input_count[{o}]", (onehot[:, :, i] * (links == 0)).sum(axis=1))
    for d in range(1, _N + 1):
        for i, o in enumerate(op_names):
            add(f"level_count[{o}@{d}]", (onehot[:, :, i] * (node_depth == d)).sum(axis=1))
    add("n_outputs", n_leaves)
    add("depth", depth.max(axis=1, initial=0))
    add("input_out_degree", readers[:, 0])
    base = (_N + 1) ** np.arange(_N - 1, -1, -1)  # a link pattern as one base-5 number
    code = links @ base
    for k, pattern in enumerate(patterns):
        add(f"link_pattern[{k}]", code == int(np.asarray(pattern, dtype=np.int64) @ base))
    matrix = np.column_stack(cols).astype(np.float32) if cols else np.zeros((n_cells, 0), dtype=np.float32)
    return names, matrix.reshape(n_cells, len(names))
