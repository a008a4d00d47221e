"""A macro search space: a plain chain of layers, each with its own op and width."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    check_int,
    unknown_choice,
)
from nasbook.space import _chain_features as features
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

#: Layer ops of ``kind="cnn"``: each ends in BatchNorm and ReLU and keeps the spatial size, except
#: ``maxpool_conv3x3`` which halves it first (3x3 max-pool, stride 2, rounding up).
CNN_OPS: tuple[str, ...] = ("conv1x1", "conv3x3", "conv5x5", "sepconv3x3", "dilconv3x3", "maxpool_conv3x3")
#: Layer ops of ``kind="mlp"``: the activation that follows the layer's ``Linear``.
MLP_OPS: tuple[str, ...] = ("relu", "gelu", "tanh", "silu", "elu", "sigmoid")
KINDS: tuple[str, ...] = ("cnn", "mlp")
DEFAULT_OPS: dict[str, tuple[str, ...]] = {
    "cnn": ("conv3x3", "conv5x5", "sepconv3x3", "maxpool_conv3x3"),
    "mlp": ("relu", "gelu", "tanh"),
}
DEFAULT_WIDTHS: dict[str, tuple[int, ...]] = {"cnn": (16, 32, 64), "mlp": (32, 64, 128, 256)}
#: Deepest chain: plain chains (no skip connections) stop improving after a few dozen layers
#: (He et al. 2016 found a 56-layer plain network worse than a 20-layer one).
MAX_DEPTH = 128
#: Most width choices: each one adds a column per position to the encodings.
MAX_WIDTH_CHOICES = 256
_CACHE_LIMIT = 200_000

Key = tuple[tuple[str, int], ...]


class ChainSpace(SearchSpace):
    """Plain feed-forward networks: a chain of ``min_depth`` to ``max_depth`` layers.

    Each layer has an op and a width (output channels or units). With ``kind="cnn"`` a layer is a
    convolution block on ``(channels, height, width)`` images, followed at the end by global
    average pooling and a linear head; with ``kind="mlp"`` a layer is ``Linear(width)`` followed by
    the activation named by its op, on flattened inputs, followed by a linear head.

    **Spec.** ``{"layers": [[op, width], ...]}``, input side first; the depth is the number of
    layers. The canonical form is the layer list itself: a chain has no nodes to relabel and no
    dead branches, and no two distinct layer lists are treated as the same network (two
    stacked ``conv3x3`` layers and one ``conv5x5`` have the same receptive field but not the same
    function class).

    Parameters
    ----------
    kind : {"cnn", "mlp"}, default "cnn"
        Network family.
    min_depth, max_depth : int, default 1 and 4
        Bounds on the number of layers, ``1 <= min_depth <= max_depth <= 128``.
    widths : sequence of int, optional
        Allowed layer widths, at most 256 distinct ints from 1 to 65536. Default ``(16, 32, 64)`` for ``"cnn"``,
        ``(32, 64, 128, 256)`` for ``"mlp"``.
    ops : sequence of str, optional
        Allowed layer ops, distinct names from :data:`CNN_OPS` (``"cnn"``; default ``conv3x3``,
        ``conv5x5``, ``sepconv3x3``, ``maxpool_conv3x3``) or :data:`MLP_OPS` (``"mlp"``; default
        ``relu``, ``gelu``, ``tanh``).

    Notes
    -----
    ``widths=None`` and ``ops=None`` are stored as given, so ``ChainSpace()`` and
    ``ChainSpace(widths=(16, 32, 64))`` describe the same networks but are two spaces (two
    ``space_id``); pass the defaults the same way when comparing searches.

    Examples
    --------
    >>> import numpy as np
    >>> space = ChainSpace(kind="mlp", max_depth=2)
    >>> space.cardinality          # 12 one-layer + 144 two-layer chains
    156
    >>> arch = space.make(layers=[["relu", 64], ["tanh", 32]])
    >>> arch["layers"]
    [['relu', 64], ['tanh', 32]]
    >>> space.sample(np.random.default_rng(0)) in space
    True
    """

    name: ClassVar[str] = "chain"
    ENCODING_VERSIONS: ClassVar[dict[str, int]] = {"adjacency": 1, "path": 1, "graf": 1}

    def __init__(
        self,
        kind: str = "cnn",
        min_depth: int = 1,
        max_depth: int = 4,
        widths: Sequence[int] | None = None,
        ops: Sequence[str] | None = None,
    ):
        self.kind = kind
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.widths = widths
        self.ops = ops
        owner = type(self).__name__
        if not isinstance(kind, str) or kind not in KINDS:
            raise unknown_choice(f"{owner}(kind=...)", kind, KINDS)
        why = "Plain chains this deep train worse than shallow ones; for skip connections use CellSpace."
        min_depth = check_int_range(owner, "min_depth", min_depth, 1, MAX_DEPTH, why)
        max_depth = check_int_range(owner, "max_depth", max_depth, 1, MAX_DEPTH, why)
        if max_depth < min_depth:
            raise InvalidParameterError(
                f"{owner}(max_depth=...) must be at least min_depth={min_depth!r}; got {max_depth!r}."
            )
        self.min_depth, self.max_depth = min_depth, max_depth  # plain ints (np.int64 -> int)
        self._ops = (
            DEFAULT_OPS[kind]
            if ops is None
            else check_choice_list(owner, "ops", ops, allowed=CNN_OPS if kind == "cnn" else MLP_OPS)
        )
        self._widths = DEFAULT_WIDTHS[kind] if widths is None else _check_widths(owner, widths)
        self._setup()

    def _identity_params(self) -> dict[str, Any]:
        # ChainSpace() and ChainSpace(widths=<the default widths>) are one space
        return {**self.get_params(), "widths": list(self._widths), "ops": list(self._ops)}

    def _setup(self) -> None:
        self._choices: tuple[tuple[str, int], ...] = tuple((op, w) for op in self._ops for w in self._widths)
        self._op_index = {op: k for k, op in enumerate(self._ops)}
        self._width_index = {w: k for k, w in enumerate(self._widths)}
        self._archs: dict[Key, Architecture] = {}
        self._nbrs: dict[Key, tuple[Key, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # caches are rebuilt on demand; only the constructor arguments travel
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._ops = DEFAULT_OPS[self.kind] if self.ops is None else tuple(self.ops)
        self._widths = DEFAULT_WIDTHS[self.kind] if self.widths is None else tuple(int(w) for w in self.widths)
        self._setup()

    @property
    def layer_choices(self) -> tuple[tuple[str, int], ...]:
        """Every ``(op, width)`` a layer can take, ops major."""
        return self._choices

    def _arch(self, key: Key) -> Architecture:
        arch = self._archs.get(key)
        if arch is None:
            spec = {"layers": [[op, w] for op, w in key]}
            arch = Architecture(self.space_id, stable_hash(spec), spec, space=self)
            if len(self._archs) > _CACHE_LIMIT:
                self._archs.clear()
            self._archs[key] = arch
        return arch

    # -- membership -------------------------------------------------------------------------
    def make(self, **spec: Any) -> Architecture:
        """Validate a chain.

        Parameters
        ----------
        layers : sequence of (str, int)
            ``[op, width]`` per layer, input side first; ``min_depth`` to ``max_depth`` of them.

        Returns
        -------
        Architecture
            The chain, a member of this space.

        Raises
        ------
        InvalidArchitectureError
            If a field is missing or unknown, the depth is out of bounds, or a layer's op or width
            is not allowed.
        """
        owner = type(self).__name__
        if set(spec) != {"layers"}:
            extra = sorted(set(spec) - {"layers"})
            what = f"unknown field(s) {extra!r}" if extra else "no 'layers' field"
            raise InvalidArchitectureError(f"{owner}.make() takes one field, layers=[[op, width], ...]; got {what}.")
        layers = spec["layers"]
        if isinstance(layers, str) or not isinstance(layers, Sequence):
            raise InvalidArchitectureError(
                f"{owner}.make(layers=...) must be a list of [op, width] pairs; got {layers!r} of type "
                f"{type(layers).__name__}."
            )
        if not self.min_depth <= len(layers) <= self.max_depth:
            raise InvalidArchitectureError(
                f"{owner}.make(layers=...) must hold {self.min_depth} to {self.max_depth} layers (min_depth, "
                f"max_depth); got {len(layers)}: {list(layers)!r}."
            )
        key = []
        for p, layer in enumerate(layers):
            if isinstance(layer, str) or not isinstance(layer, Sequence) or len(layer) != 2:
                raise InvalidArchitectureError(
                    f"{owner}.make(layers=...): layer {p} must be an [op, width] pair; got {layer!r}."
                )
            op, width = layer
            if not isinstance(op, str) or op not in self._op_index:
                listed = ", ".join(repr(o) for o in self._ops)
                raise InvalidArchitectureError(
                    f"{owner}.make(layers=...): layer {p} has op {op!r}, which is not in this space's ops. "
                    f"Allowed: {listed}."
                )
            if (
                isinstance(width, bool)
                or not isinstance(width, (int, np.integer))
                or int(width) not in self._width_index
            ):
                raise InvalidArchitectureError(
                    f"{owner}.make(layers=...): layer {p} has width {width!r}, which is not in this space's "
                    f"widths. Allowed: {list(self._widths)!r}."
                )
            key.append((op, int(width)))
        return self._arch(tuple(key))

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it is a member of this space, else raise InvalidArchitectureError."""
        arch = self._check_space_id(arch)
        try:
            key = tuple((op, w) for op, w in arch["layers"])
            known = self._archs.get(key)
        except (KeyError, TypeError, ValueError):
            key, known = None, None
        if known is None or known != arch:
            try:
                ok = key is not None and self.make(layers=list(key)) == arch
            except InvalidArchitectureError:
                ok = False
            if not ok:
                raise InvalidArchitectureError(
                    f"Architecture {arch.id!r} claims space {arch.space_id!r} but its spec {arch.spec!r} is "
                    f"not a chain of {self!r}. Make architectures with space.make(...)."
                )
        return arch

    @property
    def cardinality(self) -> int:
        """``sum(len(layer_choices) ** depth for depth in [min_depth, max_depth])``."""
        k = len(self._choices)
        return sum(k**d for d in range(self.min_depth, self.max_depth + 1))

    # -- moves ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        """A chain drawn uniformly over all chains (so deep chains, being more numerous, dominate)."""
        check_rng(self, "sample", rng)
        k = len(self._choices)
        r = randbelow(rng, self.cardinality)
        depth = self.min_depth
        while r >= k**depth:
            r -= k**depth
            depth += 1
        key = []
        for _ in range(depth):
            r, digit = divmod(r, k)
            key.append(self._choices[digit])
        return self._arch(tuple(key))

    def _neighbour_keys(self, key: Key) -> tuple[Key, ...]:
        cached = self._nbrs.get(key)
        if cached is None:
            seen = {key}
            out: list[Key] = []

            def add(cand: Key) -> None:
                if cand not in seen:
                    seen.add(cand)
                    out.append(cand)

            for p, (op, w) in enumerate(key):
                for o in self._ops:
                    if o != op:
                        add((*key[:p], (o, w), *key[p + 1 :]))
            for p, (op, w) in enumerate(key):
                for v in self._widths:
                    if v != w:
                        add((*key[:p], (op, v), *key[p + 1 :]))
            if len(key) > self.min_depth:
                for p in range(len(key)):
                    add(key[:p] + key[p + 1 :])
            if len(key) < self.max_depth:
                for p in range(len(key) + 1):
                    for layer in self._choices:
                        add((*key[:p], layer, *key[p:]))
            if len(self._nbrs) > _CACHE_LIMIT:
                self._nbrs.clear()
            cached = self._nbrs[key] = tuple(out)
        return cached

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every chain one edit away, in this order, without duplicates.

        1. one layer's op changed; 2. one layer's width changed; 3. one layer removed (if above
        ``min_depth``); 4. one layer inserted at any position with any op and width (if below
        ``max_depth``). The relation is symmetric.
        """
        return [self._arch(k) for k in self._neighbour_keys(self._key(arch))]

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A uniformly random neighbour of ``arch`` (the same draw as ``neighbours(arch)[i]``)."""
        check_rng(self, "mutate", rng)
        keys = self._neighbour_keys(self._key(arch))
        if not keys:
            raise InvalidArchitectureError(
                f"Architecture {arch.id!r} has no neighbours in {self!r}: it is its only chain."
            )
        return self._arch(keys[int(rng.integers(len(keys)))])

    def _key(self, arch: Architecture) -> Key:
        return tuple((op, w) for op, w in self.validate(arch)["layers"])

    # -- encodings -----------------------------------------------------------------------------
    def _encoding_size(self, kind: str) -> int:
        n_ops, n_widths, depth = len(self._ops), len(self._widths), self.max_depth
        if kind == "graf":
            return len(features.graf_names(self))
        if kind == "adjacency":
            return depth * (n_ops + n_widths) + (self.max_depth - self.min_depth + 1)
        return depth * (n_ops + n_widths) + n_ops * n_ops

    def _encode(self, arch: Architecture, kind: str) -> np.ndarray:
        """Fixed-length encodings of a chain.

        ``adjacency``: per position ``0 .. max_depth - 1``, a one-hot of the op then a one-hot of
        the width (all zeros past the depth); then a one-hot of the depth over
        ``min_depth .. max_depth``.

        ``path``: a chain is a single input->output path; its features are indicators of
        ``(position, op)`` for every position, then of ``(position, width)``, then of every
        transition ``(op_i, op_{i+1})`` between consecutive layers (position-free, so that chains
        sharing motifs at different depths share features).

        ``graf``: depth, op and width counts, width statistics, downsampling positions and size
        estimates; see :mod:`nasbook.space._chain_features`. :meth:`feature_names` names every column.
        """
        layers = arch["layers"]
        if kind == "graf":
            return features.graf(self, [(op, int(w)) for op, w in layers])
        n_ops, n_widths, depth = len(self._ops), len(self._widths), self.max_depth
        out = np.zeros(self._encoding_size(kind), dtype=np.float32)
        ops = [self._op_index[op] for op, _ in layers]
        widths = [self._width_index[w] for _, w in layers]
        if kind == "adjacency":
            block = n_ops + n_widths
            for p, (o, w) in enumerate(zip(ops, widths)):
                out[p * block + o] = 1.0
                out[p * block + n_ops + w] = 1.0
            out[depth * block + len(layers) - self.min_depth] = 1.0
            return out
        for p, (o, w) in enumerate(zip(ops, widths)):
            out[p * n_ops + o] = 1.0
            out[depth * n_ops + p * n_widths + w] = 1.0
        base = depth * (n_ops + n_widths)
        for a, b in zip(ops, ops[1:]):
            out[base + a * n_ops + b] = 1.0
        return out

    def _feature_names(self, kind: str) -> list[str]:
        return features.feature_names(self, kind)

    def _enumerate(self) -> list[Architecture]:
        """By depth, then in ``itertools.product`` order of :attr:`layer_choices`."""
        return [
            self._arch(key)
            for depth in range(self.min_depth, self.max_depth + 1)
            for key in itertools.product(self._choices, repeat=depth)
        ]

    # -- building ------------------------------------------------------------------------------
    def build(self, arch: Architecture, input_shape: Sequence[int], n_classes: int) -> torch.nn.Module:
        """A ``torch.nn.Sequential`` for ``arch``.

        Parameters
        ----------
        arch : Architecture
            A chain of this space.
        input_shape : sequence of int
            ``"cnn"``: ``(channels, height, width)`` of one image, e.g. ``(1, 8, 8)`` (Conv2d), or ``(channels,
            length)`` of one sequence, e.g. ``(1, 40)`` (the same chain with Conv1d). ``"mlp"``: the
            shape of one sample, e.g. ``(30,)``; it is flattened, so ``(1, 8, 8)`` works too.
        n_classes : int
            Outputs of the final linear layer.

        Returns
        -------
        torch.nn.Module
            Maps ``(batch, *input_shape)`` to ``(batch, n_classes)`` logits. CNN layers pad so the
            spatial size only shrinks at ``maxpool_conv3x3`` (halved, rounding up: never to zero).
        """
        layers = [(op, int(w)) for op, w in self.validate(arch)["layers"]]
        owner = type(self).__name__
        n_classes = check_int(f"{owner}.build", "n_classes", n_classes, minimum=1)
        from nasbook.space._torch import build_chain

        return build_chain(owner, self.kind, layers, input_shape, int(n_classes))

    # -- drawing (notebook reprs) --------------------------------------------------------------
    def draw(self, arch: Architecture) -> Diagram:
        """The chain: input, one ``op / width`` box per layer, output."""
        from nasbook.display import Diagram, DiagramEdge, DiagramNode

        layers = [(str(op), str(w)) for op, w in arch["layers"]]
        nodes = (
            DiagramNode("input", "io"),
            *(DiagramNode(op, "op", f" / {w}") for op, w in layers),
            DiagramNode("output", "io"),
        )
        text = " -> ".join(["input", *(f"{op}/{w}" for op, w in layers), "output"])
        return Diagram(nodes, tuple(DiagramEdge(i, i + 1) for i in range(len(nodes) - 1)), text=text, kind="chain")


def _check_widths(owner: str, widths: object) -> tuple[int, ...]:
    if isinstance(widths, str) or not isinstance(widths, Sequence):
        raise InvalidParameterTypeError(
            f"{owner}(widths=...) must be a non-empty list of ints from 1 to {MAX_WIDTH}; got {widths!r} of type "
            f"{type(widths).__name__}."
        )
    if not widths or len(widths) > MAX_WIDTH_CHOICES:
        raise InvalidParameterError(
            f"{owner}(widths=...) must be a non-empty list of at most {MAX_WIDTH_CHOICES} ints from 1 to {MAX_WIDTH}; "
            f"got {len(widths)} width(s){': []' if not widths else ''}."
        )
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 1 <= w <= MAX_WIDTH:
            raise InvalidParameterError(
                f"{owner}(widths=...) must hold positive ints up to {MAX_WIDTH}; got {w!r} of type {type(w).__name__} "
                f"in {list(widths)!r}."
            )
    out = tuple(int(w) for w in widths)
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"{owner}(widths=...) must not repeat a width; got {list(out)!r}.")
    return out
