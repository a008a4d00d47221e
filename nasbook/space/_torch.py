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


def check_image_shape(owner: str, input_shape: object) -> tuple[int, int]:
    """Check a ``(channels, length)`` sequence or ``(channels, height, width)`` image shape; return
    its channels and its number of spatial dimensions (1 or 2)."""
    if not (_positive_ints(input_shape, 2) and len(input_shape) in (2, 3)):  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"{owner}.build(input_shape=...) must be (channels, height, width) of an image, e.g. (1, 8, 8), or "
            f"(channels, length) of a sequence, e.g. (1, 40), positive ints; got {input_shape!r}."
        )
    return int(input_shape[0]), len(input_shape) - 1  # type: ignore[index, arg-type]


class _Layers:
    """The convolution, normalisation and pooling modules of 1-D (sequences) or 2-D (images) networks."""

    def __init__(self, dims: int):
        self.dims = dims
        self.conv: type[nn.Module] = nn.Conv1d if dims == 1 else nn.Conv2d
        self.batch_norm: type[nn.Module] = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        self.max_pool: type[nn.Module] = nn.MaxPool1d if dims == 1 else nn.MaxPool2d
        self.avg_pool: type[nn.Module] = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
        self.global_pool: type[nn.Module] = nn.AdaptiveAvgPool1d if dims == 1 else nn.AdaptiveAvgPool2d


def layers_for(dims: int) -> _Layers:
    """Conv/BatchNorm/pooling classes for ``dims`` spatial dimensions (1: Conv1d..., 2: Conv2d...)."""
    return _Layers(dims)


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
def _relu_conv_bn(c: int, kernel: int, dilation: int = 1, separable: bool = False, dims: int = 2) -> nn.Module:
    L = layers_for(dims)
    pad = dilation * (kernel // 2)
    if separable:
        conv: list[nn.Module] = [
            L.conv(c, c, kernel, padding=pad, groups=c, bias=False),
            L.conv(c, c, 1, bias=False),
        ]
    else:
        conv = [L.conv(c, c, kernel, padding=pad, dilation=dilation, bias=False)]
    return nn.Sequential(nn.ReLU(), *conv, L.batch_norm(c))


def cell_op(op: str, c: int, dims: int = 2) -> nn.Module:
    """The module of one cell edge (``none`` edges are never built), on ``dims`` spatial dimensions."""
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return _relu_conv_bn(c, 1, dims=dims)
    if op == "nor_conv_3x3":
        return _relu_conv_bn(c, 3, dims=dims)
    if op == "nor_conv_5x5":
        return _relu_conv_bn(c, 5, dims=dims)
    if op == "sep_conv_3x3":
        return _relu_conv_bn(c, 3, separable=True, dims=dims)
    if op == "dil_conv_3x3":
        return _relu_conv_bn(c, 3, dilation=2, dims=dims)
    if op == "avg_pool_3x3":
        return layers_for(dims).avg_pool(3, stride=1, padding=1, count_include_pad=False)
    if op == "max_pool_3x3":
        return layers_for(dims).max_pool(3, stride=1, padding=1)
    raise ValueError(f"no module for op {op!r}")  # unreachable: ops are validated


class Cell(nn.Module):
    """One cell: node j is the sum over edges (i, j, op) of op(node i); returns the last node."""

    def __init__(self, edges: tuple[tuple[int, int, str], ...], n_nodes: int, channels: int, dims: int = 2):
        super().__init__()
        self.edge_list = [(i, j) for i, j, _ in edges]  # lexicographic: node i is complete before use
        self.n_nodes = n_nodes
        self.edge_ops = nn.ModuleList(cell_op(op, channels, dims) for _, _, op in edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * (self.n_nodes - 1)
        for (i, j), op in zip(self.edge_list, self.edge_ops):
            y = op(nodes[i])
            nodes[j] = y if nodes[j] is None else nodes[j] + y
        return nodes[-1]  # type: ignore[return-value]


class CellNetwork(nn.Module):
    """Stem, stages of cells joined by stride-2 reductions, global average pool, linear head
    (Conv2d on images for ``dims=2``, Conv1d on sequences for ``dims=1``)."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        edges: tuple[tuple[int, int, str], ...],
        n_nodes: int,
        cells_per_stage: tuple[int, ...],
        n_classes: int,
        dims: int = 2,
    ):
        super().__init__()
        L = layers_for(dims)
        layers: list[nn.Module] = [
            L.conv(in_channels, channels, 3, padding=1, bias=False),
            L.batch_norm(channels),
        ]
        c = channels
        for s, n_cells in enumerate(cells_per_stage):
            if s > 0:
                layers.append(
                    nn.Sequential(nn.ReLU(), L.conv(c, 2 * c, 3, stride=2, padding=1, bias=False), L.batch_norm(2 * c))
                )
                c *= 2
            layers.extend(Cell(edges, n_nodes, c, dims) for _ in range(n_cells))
        layers += [L.batch_norm(c), nn.ReLU(), L.global_pool(1), nn.Flatten()]
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
    c_in, dims = check_image_shape(owner, input_shape)
    return CellNetwork(c_in, channels, edges, n_nodes, cells_per_stage, n_classes, dims)


# -- ChainSpace ----------------------------------------------------------------------------------------
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "sigmoid": nn.Sigmoid,
}


def conv_block(op: str, c_in: int, c_out: int, dims: int = 2) -> list[nn.Module]:
    """The modules of one CNN layer of a chain (on ``dims`` spatial dimensions: 3x3 means 3 on sequences)."""
    L = layers_for(dims)
    pre: list[nn.Module] = []
    if op == "maxpool_conv3x3":
        pre.append(L.max_pool(3, stride=2, padding=1))
        op = "conv3x3"
    if op == "sepconv3x3":
        conv = [L.conv(c_in, c_in, 3, padding=1, groups=c_in, bias=False), L.conv(c_in, c_out, 1, bias=False)]
    elif op == "dilconv3x3":
        conv = [L.conv(c_in, c_out, 3, padding=2, dilation=2, bias=False)]
    else:
        size = {"conv1x1": 1, "conv3x3": 3, "conv5x5": 5}[op]
        conv = [L.conv(c_in, c_out, size, padding=size // 2, bias=False)]
    return [*pre, *conv, L.batch_norm(c_out), nn.ReLU()]


def build_chain(
    owner: str, kind: str, layers: Sequence[tuple[str, int]], input_shape: Sequence[int], n_classes: int
) -> nn.Module:
    """``ChainSpace.build``: a ``torch.nn.Sequential`` of ``layers`` (``[(op, width), ...]``) and a linear head."""
    modules: list[nn.Module] = []
    if kind == "cnn":
        c, dims = check_image_shape(owner, input_shape)
        for op, w in layers:
            modules.extend(conv_block(op, c, w, dims))
            c = w
        modules += [layers_for(dims).global_pool(1), nn.Flatten()]
    else:
        c = check_sample_shape(owner, input_shape)
        modules.append(nn.Flatten())
        for op, w in layers:
            modules += [nn.Linear(c, w), _ACTIVATIONS[op]()]
            c = w
    modules.append(nn.Linear(c, int(n_classes)))
    return nn.Sequential(*modules)


# -- ConvDenseSpace ------------------------------------------------------------------------------------
def build_conv_dense(
    owner: str, conv: Sequence[tuple[str, int]], dense: Sequence[int], input_shape: Sequence[int], n_classes: int
) -> nn.Module:
    """``ConvDenseSpace.build``: conv blocks, flatten, dense layers with ReLU, a linear head."""
    from nasbook.space._convdense import conv_dense_size, op_kernel_stride

    modules: list[nn.Module] = []
    if conv:
        c, dims = check_image_shape(owner, input_shape)
        L = layers_for(dims)
        for op, width in conv:
            k, s = op_kernel_stride(op)
            modules += [L.conv(c, width, k, stride=s, padding=k // 2, bias=False), L.batch_norm(width), nn.ReLU()]
            c = width
        features = conv_dense_size(conv, dense, tuple(int(v) for v in input_shape), n_classes)[2]
    else:
        features = check_sample_shape(owner, input_shape)
    modules.append(nn.Flatten())
    for width in dense:
        modules += [nn.Linear(features, width), nn.ReLU()]
        features = width
    modules.append(nn.Linear(features, int(n_classes)))
    return nn.Sequential(*modules)
