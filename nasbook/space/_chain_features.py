"""The ``graf`` features and column names of :class:`~nasbook.space.ChainSpace` encodings.

A chain has one input->output path, so GRAF's graph features (Kadlecová et al., ICML 2024)
reduce to what the layers hold and how big the network is:

- ``depth``; ``count[op]`` per op; ``count[width=w]`` per width;
- ``first_op[op]`` / ``last_op[op]``: one-hot of the op of the first / last layer;
- ``width_mean``, ``width_min``, ``width_max``, ``width_first``, ``width_last``,
  ``log2_width_total`` (log2 of the sum of the widths), ``n_width_increases``,
  ``n_width_decreases`` between consecutive layers;
- ``kind="cnn"`` with ``maxpool_conv3x3`` among the ops: ``n_downsamples``,
  ``first_downsample`` / ``last_downsample`` (1-based layer positions, 0 when there is none);
- ``log10_params`` and ``log10_flops``: the weights and multiply-accumulates of the network
  :meth:`~nasbook.space.ChainSpace.build` makes, computed from the spec alone for a nominal
  input (``cnn``: 3 channels of 32x32, ``mlp``: 64 features) and 10 classes. They rank chains
  by size; they are not the exact figures for another input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nasbook.space._chain import ChainSpace

#: the nominal input and classes of the size estimates
CNN_INPUT = (3, 32, 32)
MLP_INPUT = 64
N_CLASSES = 10
_KERNEL = {"conv1x1": 1, "conv3x3": 3, "conv5x5": 5, "dilconv3x3": 3, "maxpool_conv3x3": 3}


def size_estimate(kind: str, layers: Sequence[tuple[str, int]]) -> tuple[float, float]:
    """(weights, multiply-accumulates) of the built network for the nominal input (see the module docstring)."""
    params = flops = 0.0
    if kind == "cnn":
        c, h, w = CNN_INPUT
        for op, width in layers:
            if op == "maxpool_conv3x3":
                h, w = (h + 1) // 2, (w + 1) // 2
            if op == "sepconv3x3":
                weights = c * 9 + c * width
            else:
                weights = c * width * _KERNEL[op] ** 2
            params += weights + 2 * width  # the convolution, then BatchNorm's scale and shift
            flops += weights * h * w
            c = width
    else:
        c = MLP_INPUT
        for _, width in layers:
            params += c * width + width
            flops += c * width
            c = width
    params += c * N_CLASSES + N_CLASSES
    flops += c * N_CLASSES
    return params, flops


def _graf_pairs(space: ChainSpace, layers: Sequence[tuple[str, int]]) -> list[tuple[str, float]]:
    ops = [op for op, _ in layers]
    widths = [w for _, w in layers]
    out: list[tuple[str, float]] = [("depth", len(layers))]
    out += [(f"count[{o}]", ops.count(o)) for o in space._ops]
    out += [(f"count[width={w}]", widths.count(w)) for w in space._widths]
    out += [(f"first_op[{o}]", ops[0] == o) for o in space._ops]
    out += [(f"last_op[{o}]", ops[-1] == o) for o in space._ops]
    out += [
        ("width_mean", sum(widths) / len(widths)), ("width_min", min(widths)), ("width_max", max(widths)),
        ("width_first", widths[0]), ("width_last", widths[-1]), ("log2_width_total", math.log2(sum(widths))),
        ("n_width_increases", sum(b > a for a, b in zip(widths, widths[1:]))),
        ("n_width_decreases", sum(b < a for a, b in zip(widths, widths[1:]))),
    ]
    if space.kind == "cnn" and "maxpool_conv3x3" in space._ops:
        where = [p + 1 for p, o in enumerate(ops) if o == "maxpool_conv3x3"]
        out += [("n_downsamples", len(where)), ("first_downsample", where[0] if where else 0),
                ("last_downsample", where[-1] if where else 0)]
    params, flops = size_estimate(space.kind, layers)
    return [*out, ("log10_params", math.log10(params)), ("log10_flops", math.log10(max(flops, 1.0)))]


def graf(space: ChainSpace, layers: Sequence[tuple[str, int]]) -> np.ndarray:
    """The ``graf`` vector of a chain, in the order of :func:`graf_names`."""
    return np.asarray([float(v) for _, v in _graf_pairs(space, layers)], dtype=np.float32)


def graf_names(space: ChainSpace) -> list[str]:
    """Names of the ``graf`` columns (they depend on the space, not on the chain)."""
    return [name for name, _ in _graf_pairs(space, [space.layer_choices[0]] * space.min_depth)]


def feature_names(space: ChainSpace, kind: str) -> list[str]:
    """Column names of every encoding of ``space`` (see ``ChainSpace._encode`` for the layouts)."""
    if kind == "graf":
        return graf_names(space)
    positions = range(space.max_depth)
    op_names = [f"op[{p}={o}]" for p in positions for o in space._ops]
    width_names = [f"width[{p}={w}]" for p in positions for w in space._widths]
    if kind == "adjacency":
        per_position = [
            name for p in positions
            for name in [*(f"op[{p}={o}]" for o in space._ops), *(f"width[{p}={w}]" for w in space._widths)]
        ]
        return per_position + [f"depth={d}" for d in range(space.min_depth, space.max_depth + 1)]
    return op_names + width_names + [f"transition[{a}->{b}]" for a in space._ops for b in space._ops]
