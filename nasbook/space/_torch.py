"""The torch side of the built-in spaces: the networks ``CellSpace.build`` and ``ChainSpace.build`` return.

This is the only module of :mod:`nasbook.space` that imports torch, and the spaces import it
inside ``build()`` only, so ``import nasbook.space`` (sampling, encodings, strategies) never loads
torch. The modules are plain top-level classes, so built networks pickle by reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nasbook._errors import InvalidParameterError


# -- input checks ------------------------------------------------------------------------------------
def _positive_ints(shape: object, min_len: int) -> bool:
    return (
        isinstance(shape, Sequence)
        and not isinstance(shape, str)
        and len(shape) >= min_len
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in shape)
    )


def check_image_shape(owner: str, input_shape: object) -> int:
    """Check an image ``(channels, height, width)`` shape; return its channels."""
    if not (_positive_ints(input_shape, 3) and len(input_shape) == 3):  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"{owner}.build(input_shape=...) must be (channels, height, width) of positive ints, "
            f"e.g. (1, 8, 8); got {input_shape!r}."
        )
    return int(input_shape[0])  # type: ignore[index]


def check_sample_shape(owner: str, input_shape: object) -> int:
    """Check the shape of one sample of any rank; return its number of features."""
    if not _positive_ints(input_shape, 1):
        raise InvalidParameterError(
            f"{owner}.build(input_shape=...) must be the shape of one sample, positive ints such as "
            f"(30,) or (1, 8, 8); got {input_shape!r}."
        )
    assert isinstance(input_shape, Sequence)
    return math.prod(int(s) for s in input_shape)


# -- CellSpace -----------------------------------------------------------------------------------------
def _relu_conv_bn(c: int, kernel: int, dilation: int = 1, separable: bool = False) -> nn.Module:
    pad = dilation * (kernel // 2)
    if separable:
        conv: list[nn.Module] = [
            nn.Conv2d(c, c, kernel, padding=pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
        ]
    else:
        conv = [nn.Conv2d(c, c, kernel, padding=pad, dilation=dilation, bias=False)]
    return nn.Sequential(nn.ReLU(), *conv, nn.BatchNorm2d(c))


def cell_op(op: str, c: int) -> nn.Module:
    """The module of one cell edge (``none`` edges are never built)."""
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return _relu_conv_bn(c, 1)
    if op == "nor_conv_3x3":
        return _relu_conv_bn(c, 3)
    if op == "nor_conv_5x5":
        return _relu_conv_bn(c, 5)
    if op == "sep_conv_3x3":
        return _relu_conv_bn(c, 3, separable=True)
    if op == "dil_conv_3x3":
        return _relu_conv_bn(c, 3, dilation=2)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if op == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"no module for op {op!r}")  # unreachable: ops are validated


class Cell(nn.Module):
    """One cell: node j is the sum over edges (i, j, op) of op(node i); returns the last node."""

    def __init__(self, edges: tuple[tuple[int, int, str], ...], n_nodes: int, channels: int):
        super().__init__()
        self.edge_list = [(i, j) for i, j, _ in edges]  # lexicographic: node i is complete before use
        self.n_nodes = n_nodes
        self.edge_ops = nn.ModuleList(cell_op(op, channels) for _, _, op in edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * (self.n_nodes - 1)
        for (i, j), op in zip(self.edge_list, self.edge_ops):
            y = op(nodes[i])
            nodes[j] = y if nodes[j] is None else nodes[j] + y
        return nodes[-1]  # type: ignore[return-value]


class CellNetwork(nn.Module):
    """Stem, stages of cells joined by stride-2 reductions, global average pool, linear head."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        edges: tuple[tuple[int, int, str], ...],
        n_nodes: int,
        cells_per_stage: tuple[int, ...],
        n_classes: int,
    ):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        ]
        c = channels
        for s, n_cells in enumerate(cells_per_stage):
            if s > 0:
                layers.append(
                    nn.Sequential(nn.ReLU(), nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c))
                )
                c *= 2
            layers.extend(Cell(edges, n_nodes, c) for _ in range(n_cells))
        layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.features(x))
        return logits


def build_cell_network(
    owner: str,
    edges: tuple[tuple[int, int, str], ...],
    n_nodes: int,
    channels: int,
    cells_per_stage: tuple[int, ...],
    input_shape: Sequence[int],
    n_classes: int,
) -> nn.Module:
    """``CellSpace.build``: ``edges`` are the cell's live ``(i, j, op)`` edges."""
    c_in = check_image_shape(owner, input_shape)
    return CellNetwork(c_in, channels, edges, n_nodes, cells_per_stage, n_classes)


# -- ChainSpace ----------------------------------------------------------------------------------------
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "sigmoid": nn.Sigmoid,
}


def conv_block(op: str, c_in: int, c_out: int) -> list[nn.Module]:
    """The modules of one CNN layer of a chain."""
    pre: list[nn.Module] = []
    if op == "maxpool_conv3x3":
        pre.append(nn.MaxPool2d(3, stride=2, padding=1))
        op = "conv3x3"
    if op == "sepconv3x3":
        conv = [nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False), nn.Conv2d(c_in, c_out, 1, bias=False)]
    elif op == "dilconv3x3":
        conv = [nn.Conv2d(c_in, c_out, 3, padding=2, dilation=2, bias=False)]
    else:
        size = {"conv1x1": 1, "conv3x3": 3, "conv5x5": 5}[op]
        conv = [nn.Conv2d(c_in, c_out, size, padding=size // 2, bias=False)]
    return [*pre, *conv, nn.BatchNorm2d(c_out), nn.ReLU()]


def build_chain(
    owner: str, kind: str, layers: Sequence[tuple[str, int]], input_shape: Sequence[int], n_classes: int
) -> nn.Module:
    """``ChainSpace.build``: a ``torch.nn.Sequential`` of ``layers`` (``[(op, width), ...]``) and a linear head."""
    modules: list[nn.Module] = []
    if kind == "cnn":
        c = check_image_shape(owner, input_shape)
        for op, w in layers:
            modules.extend(conv_block(op, c, w))
            c = w
        modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    else:
        c = check_sample_shape(owner, input_shape)
        modules.append(nn.Flatten())
        for op, w in layers:
            modules += [nn.Linear(c, w), _ACTIVATIONS[op]()]
            c = w
    modules.append(nn.Linear(c, int(n_classes)))
    return nn.Sequential(*modules)
