"""A macro space whose networks differ in kind: 0..k convolution layers, then 0..k dense layers.

With no convolution layer a network is an MLP (with no dense layer either, logistic regression
on the flattened input); with convolutions it is a CNN whose feature map is flattened into the
dense layers; many narrow convolutions make it deep and narrow. On MNIST-1D these families are
far apart (published: about 30% for logistic regression, 70% for MLPs, 90%+ for CNNs), which is
what a learning-curve table needs for its rankings to be stable across training seeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, check_int
from nasbook.space._base import (
    MAX_WIDTH,
    Architecture,
    SearchSpace,
    check_choice_list,
    check_int_range,
    check_rng,
    randbelow,
    stable_hash,
)

if TYPE_CHECKING:
    import torch

    from nasbook.display import Diagram

#: Convolution ops: ``conv{k}`` is a size-``k`` convolution (padding ``k // 2``: the length is
#: kept), ``conv{k}_s2`` the same with stride 2 (the length is halved, rounding up); each is
#: followed by BatchNorm and ReLU.
CONV_OPS: tuple[str, ...] = ("conv3", "conv5", "conv9", "conv3_s2", "conv5_s2", "conv9_s2")
DEFAULT_CONV_WIDTHS: tuple[int, ...] = (4, 8, 16)
DEFAULT_DENSE_WIDTHS: tuple[int, ...] = (32, 64, 128)
MAX_CONV = 16
MAX_DENSE = 8
#: the nominal input and classes of the size features of the ``graf`` encoding (MNIST-1D)
NOMINAL_INPUT = (1, 40)
N_CLASSES = 10

ConvKey = tuple[tuple[str, int], ...]
DenseKey = tuple[int, ...]
Key = tuple[ConvKey, DenseKey]


def op_kernel_stride(op: str) -> tuple[int, int]:
    """``("conv5_s2") -> (5, 2)``."""
    name, _, stride = op.partition("_s")
    return int(name[4:]), int(stride or 1)


def conv_dense_size(
    conv: Sequence[tuple[str, int]], dense: Sequence[int], input_shape: Sequence[int] = NOMINAL_INPUT,
    n_classes: int = N_CLASSES,
) -> tuple[int, int, int]:
    """(weights, multiply-accumulates, flattened features) of the network ``build`` makes."""
    c, spatial = int(input_shape[0]), [int(s) for s in input_shape[1:]]
    params = flops = 0
    for op, width in conv:
        k, s = op_kernel_stride(op)
        spatial = [(n + 2 * (k // 2) - k) // s + 1 for n in spatial]
        weights = c * width * k ** len(spatial)
        params += weights + 2 * width  # no bias: BatchNorm's scale and shift follow
        flops += weights * math.prod(spatial)
        c = width
    features = c * math.prod(spatial)
    for width in [*dense, n_classes]:
        params += features * width + width
        flops += features * width
        features = width
    return params, flops, c * math.prod(spatial)


class ConvDenseSpace(SearchSpace):
    """Networks of ``min_conv`` to ``max_conv`` convolution layers followed by ``min_dense`` to
    ``max_dense`` dense layers and a linear head.

    A convolution layer has an op (kernel size and stride, :data:`CONV_OPS`) and a width (output
    channels); the feature map after the last one is flattened (no global pooling, so positions
    are kept) and feeds the dense layers (``Linear(width)`` and ReLU each). So the space holds
    logistic regression (no layer), MLPs (dense layers only), CNNs and deep, narrow CNNs, which
    differ in kind and not only in detail. ``build`` makes Conv1d networks for a ``(channels,
    length)`` input such as MNIST-1D's ``(1, 40)`` and Conv2d ones for ``(channels, height,
    width)``; networks without a convolution take any sample shape.

    **Spec.** ``{"conv": [[op, width], ...], "dense": [width, ...]}``, input side first. The
    canonical form is the spec itself (a chain has nothing to relabel).

    Parameters
    ----------
    min_conv, max_conv : int, default 0 and 4
        Bounds on the convolution layers, ``0 <= min_conv <= max_conv <= 16``.
    min_dense, max_dense : int, default 0 and 2
        Bounds on the dense layers, ``0 <= min_dense <= max_dense <= 8``.
    conv_ops : sequence of str, default all of :data:`CONV_OPS`
        Ops a convolution layer may use.
    conv_widths : sequence of int, default ``(4, 8, 16)``
        Channels a convolution layer may have.
    dense_widths : sequence of int, default ``(32, 64, 128)``
        Units a dense layer may have.

    Examples
    --------
    >>> space = ConvDenseSpace(max_conv=1, max_dense=1, conv_ops=("conv5_s2",), conv_widths=(8,), dense_widths=(32,))
    >>> space.cardinality      # (no conv or one) x (no dense layer or one)
    4
    >>> space.make(conv=[["conv5_s2", 8]], dense=[32])["conv"]
    [['conv5_s2', 8]]
    """

    name: ClassVar[str] = "convdense"
    ENCODING_VERSIONS: ClassVar[dict[str, int]] = {"adjacency": 1, "graf": 1}

    def __init__(
        self,
        min_conv: int = 0,
        max_conv: int = 4,
        min_dense: int = 0,
        max_dense: int = 2,
        conv_ops: Sequence[str] = CONV_OPS,
        conv_widths: Sequence[int] = DEFAULT_CONV_WIDTHS,
        dense_widths: Sequence[int] = DEFAULT_DENSE_WIDTHS,
    ):
        owner = type(self).__name__
        min_conv = check_int_range(owner, "min_conv", min_conv, 0, MAX_CONV)
        max_conv = check_int_range(owner, "max_conv", max_conv, 0, MAX_CONV)
        min_dense = check_int_range(owner, "min_dense", min_dense, 0, MAX_DENSE)
        max_dense = check_int_range(owner, "max_dense", max_dense, 0, MAX_DENSE)
        for lo_name, lo, hi_name, hi in (("min_conv", min_conv, "max_conv", max_conv), ("min_dense", min_dense, "max_dense", max_dense)):
            if hi < lo:
                raise InvalidParameterError(f"{owner}({hi_name}=...) must be at least {lo_name}={lo!r}; got {hi!r}.")
        self.min_conv, self.max_conv, self.min_dense, self.max_dense = int(min_conv), int(max_conv), int(min_dense), int(max_dense)
        self.conv_ops = check_choice_list(owner, "conv_ops", conv_ops, allowed=CONV_OPS)
        self.conv_widths = _check_widths(owner, "conv_widths", conv_widths)
        self.dense_widths = _check_widths(owner, "dense_widths", dense_widths)
        self._setup()

    def _setup(self) -> None:
        self._conv_choices: tuple[tuple[str, int], ...] = tuple((o, w) for o in self.conv_ops for w in self.conv_widths)
        self._op_index = {o: k for k, o in enumerate(self.conv_ops)}
        self._cw_index = {w: k for k, w in enumerate(self.conv_widths)}
        self._dw_index = {w: k for k, w in enumerate(self.dense_widths)}
        self._archs: dict[Key, Architecture] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setup()

    def _arch(self, key: Key) -> Architecture:
        arch = self._archs.get(key)
        if arch is None:
            spec = {"conv": [[o, w] for o, w in key[0]], "dense": list(key[1])}
            arch = Architecture(self.space_id, stable_hash(spec), spec, space=self)
            if len(self._archs) > 200_000:
                self._archs.clear()
            self._archs[key] = arch
        return arch

    # -- membership ----------------------------------------------------------------------------
    def make(self, **spec: Any) -> Architecture:
        """Validate a network: ``conv=[[op, width], ...]`` and ``dense=[width, ...]`` (both required).

        Parameters
        ----------
        conv : sequence of (str, int)
            ``[op, width]`` per convolution layer, input side first; ``min_conv`` to ``max_conv`` of them.
        dense : sequence of int
            Units per hidden dense layer; ``min_dense`` to ``max_dense`` of them.

        Returns
        -------
        Architecture
            The network, a member of this space.

        Raises
        ------
        InvalidArchitectureError
            If a field is missing or unknown, a count is out of bounds, or an op or width is not allowed.
        """
        owner = type(self).__name__
        if set(spec) != {"conv", "dense"}:
            raise InvalidArchitectureError(
                f"{owner}.make() takes two fields, conv=[[op, width], ...] and dense=[width, ...]; got {sorted(spec)!r}."
            )
        conv, dense = spec["conv"], spec["dense"]
        for field, value, lo, hi in (("conv", conv, self.min_conv, self.max_conv), ("dense", dense, self.min_dense, self.max_dense)):
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise InvalidArchitectureError(f"{owner}.make({field}=...) must be a list; got {value!r} of type {type(value).__name__}.")
            if not lo <= len(value) <= hi:
                raise InvalidArchitectureError(
                    f"{owner}.make({field}=...) must hold {lo} to {hi} layers (min_{field}, max_{field}); got {len(value)}: {list(value)!r}."
                )
        ckey = []
        for p, layer in enumerate(conv):
            if isinstance(layer, str) or not isinstance(layer, Sequence) or len(layer) != 2:
                raise InvalidArchitectureError(f"{owner}.make(conv=...): layer {p} must be an [op, width] pair; got {layer!r}.")
            op, width = layer
            if not isinstance(op, str) or op not in self._op_index:
                raise InvalidArchitectureError(
                    f"{owner}.make(conv=...): layer {p} has op {op!r}, not one of this space's conv_ops {list(self.conv_ops)!r}."
                )
            ckey.append((op, self._width(f"conv=...): layer {p}", width, self._cw_index, self.conv_widths)))
        dkey = tuple(self._width(f"dense=...): layer {p}", w, self._dw_index, self.dense_widths) for p, w in enumerate(dense))
        return self._arch((tuple(ckey), dkey))

    def _width(self, where: str, width: object, index: dict[int, int], allowed: tuple[int, ...]) -> int:
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or int(width) not in index:
            raise InvalidArchitectureError(
                f"{type(self).__name__}.make({where} has width {width!r}, not one of this space's widths {list(allowed)!r}."
            )
        return int(width)

    def _key(self, arch: Architecture) -> Key:
        arch = self._check_space_id(arch)
        try:
            key: Key = (tuple((str(o), int(w)) for o, w in arch["conv"]), tuple(int(w) for w in arch["dense"]))
        except (KeyError, TypeError, ValueError):
            key = ((), ())
        known = self._archs.get(key)
        if known is None or known != arch:
            try:
                ok = self.make(conv=[list(c) for c in key[0]], dense=list(key[1])) == arch
            except InvalidArchitectureError:
                ok = False
            if not ok:
                raise InvalidArchitectureError(
                    f"Architecture {arch.id!r} claims space {arch.space_id!r} but its spec {arch.spec!r} is not a "
                    f"network of {self!r}. Make architectures with space.make(...)."
                )
        return key

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it is a member of this space, else raise InvalidArchitectureError."""
        self._key(arch)  # type: ignore[arg-type]
        return arch  # type: ignore[return-value]

    def _counts(self) -> tuple[int, int]:
        kc, kd = len(self._conv_choices), len(self.dense_widths)
        return (sum(kc**d for d in range(self.min_conv, self.max_conv + 1)),
                sum(kd**d for d in range(self.min_dense, self.max_dense + 1)))

    @property
    def cardinality(self) -> int:
        """(conv stacks) x (dense stacks): ``sum(len(conv_ops) * len(conv_widths)) ** n`` over the conv
        counts times ``sum(len(dense_widths) ** n)`` over the dense counts."""
        nc, nd = self._counts()
        return nc * nd

    # -- moves ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        """A network drawn uniformly over all networks (so the deepest stacks, being most numerous, dominate)."""
        check_rng(self, "sample", rng)
        nc, nd = self._counts()
        rc, rd = divmod(randbelow(rng, nc * nd), nd)
        conv = _decode(rc, self.min_conv, self._conv_choices)
        dense = _decode(rd, self.min_dense, self.dense_widths)
        return self._arch((tuple(conv), tuple(dense)))

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every network one edit away, in this order, without duplicates: one conv layer's op
        changed; one conv layer's width changed; one dense layer's width changed; one conv layer
        removed; one dense layer removed; one conv layer inserted (any position, op and width);
        one dense layer inserted (any position and width). The relation is symmetric."""
        conv, dense = self._key(arch)
        seen = {(conv, dense)}
        out: list[Architecture] = []

        def add(c: ConvKey, d: DenseKey) -> None:
            if (c, d) not in seen:
                seen.add((c, d))
                out.append(self._arch((c, d)))

        for p, (_op, w) in enumerate(conv):
            for o in self.conv_ops:
                add((*conv[:p], (o, w), *conv[p + 1:]), dense)
        for p, (op, _w) in enumerate(conv):
            for v in self.conv_widths:
                add((*conv[:p], (op, v), *conv[p + 1:]), dense)
        for p in range(len(dense)):
            for v in self.dense_widths:
                add(conv, (*dense[:p], v, *dense[p + 1:]))
        if len(conv) > self.min_conv:
            for p in range(len(conv)):
                add(conv[:p] + conv[p + 1:], dense)
        if len(dense) > self.min_dense:
            for p in range(len(dense)):
                add(conv, dense[:p] + dense[p + 1:])
        if len(conv) < self.max_conv:
            for p in range(len(conv) + 1):
                for layer in self._conv_choices:
                    add((*conv[:p], layer, *conv[p:]), dense)
        if len(dense) < self.max_dense:
            for p in range(len(dense) + 1):
                for v in self.dense_widths:
                    add(conv, (*dense[:p], v, *dense[p:]))
        return out

    def _enumerate(self) -> list[Architecture]:
        """By conv count, conv layers in ``itertools.product`` order; for each, by dense count and product order."""
        convs = [c for n in range(self.min_conv, self.max_conv + 1) for c in itertools.product(self._conv_choices, repeat=n)]
        denses = [d for n in range(self.min_dense, self.max_dense + 1) for d in itertools.product(self.dense_widths, repeat=n)]
        return [self._arch((c, d)) for c in convs for d in denses]

    # -- encodings -----------------------------------------------------------------------------
    def _encoding_size(self, kind: str) -> int:
        if kind == "graf":
            return len(self._graf_pairs(((), ())))
        block = len(self.conv_ops) + len(self.conv_widths)
        return (self.max_conv * block + self.max_dense * len(self.dense_widths)
                + (self.max_conv - self.min_conv + 1) + (self.max_dense - self.min_dense + 1))

    def _encode(self, arch: Architecture, kind: str) -> np.ndarray:
        """``adjacency``: per conv position ``0 .. max_conv - 1`` a one-hot of the op then of the
        width, per dense position a one-hot of the width (zeros past the stack's end), then one-hots
        of the conv count and of the dense count. ``graf``: counts, widths, strides, receptive
        field and size features (see :meth:`feature_names`; sizes for MNIST-1D's ``(1, 40)`` input
        and 10 classes)."""
        key = self._key(arch)
        if kind == "graf":
            return np.asarray([float(v) for _, v in self._graf_pairs(key)], dtype=np.float32)
        conv, dense = key
        out = np.zeros(self._encoding_size(kind), dtype=np.float32)
        n_ops, block = len(self.conv_ops), len(self.conv_ops) + len(self.conv_widths)
        for p, (op, w) in enumerate(conv):
            out[p * block + self._op_index[op]] = 1.0
            out[p * block + n_ops + self._cw_index[w]] = 1.0
        base = self.max_conv * block
        for p, w in enumerate(dense):
            out[base + p * len(self.dense_widths) + self._dw_index[w]] = 1.0
        base += self.max_dense * len(self.dense_widths)
        out[base + len(conv) - self.min_conv] = 1.0
        out[base + self.max_conv - self.min_conv + 1 + len(dense) - self.min_dense] = 1.0
        return out

    def _graf_pairs(self, key: Key) -> list[tuple[str, float]]:
        conv, dense = key
        ops, cws = [o for o, _ in conv], [w for _, w in conv]
        rf, jump = 1, 1
        for op in ops:
            k, s = op_kernel_stride(op)
            rf += (k - 1) * jump
            jump *= s
        params, flops, flat = conv_dense_size(conv, dense)
        out: list[tuple[str, float]] = [("n_conv", len(conv)), ("n_dense", len(dense)), ("depth", len(conv) + len(dense)),
                                        ("is_linear", not conv and not dense), ("is_mlp", not conv)]
        out += [(f"count[{o}]", ops.count(o)) for o in self.conv_ops]
        out += [(f"count[conv_width={w}]", cws.count(w)) for w in self.conv_widths]
        out += [(f"count[dense_width={w}]", list(dense).count(w)) for w in self.dense_widths]
        out += [("n_strided", sum(op_kernel_stride(o)[1] > 1 for o in ops)), ("receptive_field", rf),
                ("conv_width_mean", float(np.mean(cws)) if cws else 0.0), ("conv_width_min", min(cws, default=0)),
                ("conv_width_max", max(cws, default=0)), ("conv_width_last", cws[-1] if cws else 0),
                ("dense_width_mean", float(np.mean(dense)) if dense else 0.0), ("dense_width_max", max(dense, default=0)),
                ("log2_flat_features", math.log2(flat)), ("log10_params", math.log10(params)),
                ("log10_flops", math.log10(max(flops, 1)))]
        return out

    def _feature_names(self, kind: str) -> list[str]:
        if kind == "graf":
            return [n for n, _ in self._graf_pairs(((), ()))]
        names = [n for p in range(self.max_conv)
                 for n in [*(f"conv{p}_op={o}" for o in self.conv_ops), *(f"conv{p}_width={w}" for w in self.conv_widths)]]
        names += [f"dense{p}_width={w}" for p in range(self.max_dense) for w in self.dense_widths]
        names += [f"n_conv={n}" for n in range(self.min_conv, self.max_conv + 1)]
        return names + [f"n_dense={n}" for n in range(self.min_dense, self.max_dense + 1)]

    # -- building ------------------------------------------------------------------------------
    def build(self, arch: Architecture, input_shape: Sequence[int], n_classes: int) -> torch.nn.Module:
        """A ``torch.nn.Sequential`` for ``arch``: conv blocks (Conv1d for ``(channels, length)``,
        Conv2d for ``(channels, height, width)``; with BatchNorm and ReLU), flatten, dense layers
        with ReLU, a linear head. Networks without convolutions take any sample shape."""
        conv, dense = self._key(arch)
        owner = type(self).__name__
        n_classes = check_int(f"{owner}.build", "n_classes", n_classes, minimum=1)
        from nasbook.space._torch import build_conv_dense

        return build_conv_dense(owner, conv, dense, input_shape, int(n_classes))

    def draw(self, arch: Architecture) -> Diagram:
        """The chain: input, one box per conv layer (``op / width``) and per dense layer, output."""
        from nasbook.display import Diagram, DiagramEdge, DiagramNode

        conv, dense = self._key(arch)
        boxes = [(op, f" / {w}") for op, w in conv] + [("dense", f" / {w}") for w in dense]
        nodes = (DiagramNode("input", "io"), *(DiagramNode(a, "op", b) for a, b in boxes), DiagramNode("output", "io"))
        text = " -> ".join(["input", *(f"{a}{b.replace(' / ', '/')}" for a, b in boxes), "output"])
        return Diagram(nodes, tuple(DiagramEdge(i, i + 1) for i in range(len(nodes) - 1)), text=text, kind="chain")


def _decode(r: int, min_len: int, choices: Sequence[Any]) -> list[Any]:
    k, n = len(choices), min_len
    while r >= k**n:
        r -= k**n
        n += 1
    out = []
    for _ in range(n):
        r, digit = divmod(r, k)
        out.append(choices[digit])
    return out


def _check_widths(owner: str, param: str, widths: object) -> tuple[int, ...]:
    ok = (not isinstance(widths, str) and isinstance(widths, Sequence) and 0 < len(widths) <= 256
          and all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) and 1 <= w <= MAX_WIDTH for w in widths))
    if not ok:
        raise InvalidParameterError(f"{owner}({param}=...) must be a non-empty list of at most 256 ints from 1 to {MAX_WIDTH}; got {widths!r}.")
    out = tuple(int(w) for w in widths)  # type: ignore[attr-defined]
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"{owner}({param}=...) must not repeat a width; got {list(out)!r}.")
    return out


# -- named parameters (see nasbook/space/_parameters.py) -------------------------------------------
def conv_dense_program(space: Any, choose: Any) -> dict[str, Any]:
    """``n_conv``, ``conv{p}_op`` and ``conv{p}_width`` for those layers, ``n_dense``, ``dense{p}_width``."""
    n_conv = choose("n_conv", tuple(range(space.min_conv, space.max_conv + 1)))
    conv = [[choose(f"conv{p}_op", tuple(space.conv_ops)), choose(f"conv{p}_width", tuple(space.conv_widths))] for p in range(n_conv)]
    n_dense = choose("n_dense", tuple(range(space.min_dense, space.max_dense + 1)))
    return {"conv": conv, "dense": [choose(f"dense{p}_width", tuple(space.dense_widths)) for p in range(n_dense)]}


def conv_dense_values(space: Any, arch: Architecture) -> dict[str, Any]:
    conv, dense = arch["conv"], arch["dense"]
    out: dict[str, Any] = {"n_conv": len(conv), "n_dense": len(dense)}
    for p, (op, w) in enumerate(conv):
        out[f"conv{p}_op"], out[f"conv{p}_width"] = op, int(w)
    for p, w in enumerate(dense):
        out[f"dense{p}_width"] = int(w)
    return out
