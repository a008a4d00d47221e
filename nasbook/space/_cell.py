"""A NAS-Bench-201 style cell space: one op on every edge of a small DAG, canonical up to isomorphism."""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, check_int
from nasbook.space import _cell_features as features
from nasbook.space import _cell_graph as graph
from nasbook.space import _cell_members as members
from nasbook.space import _cell_moves as moves
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
from nasbook.space._cell_graph import Key
from nasbook.space._cell_strings import NB201Strings

if TYPE_CHECKING:
    import torch

    from nasbook.display import Diagram

#: Every op a cell edge can carry. ``none`` (no edge) and ``skip_connect`` (identity) have no weights.
CELL_OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "nor_conv_5x5",
    "sep_conv_3x3",
    "dil_conv_3x3",
    "avg_pool_3x3",
    "max_pool_3x3",
)
NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
MAX_NODES = 6
#: NAS-Bench-201 stacks 15 cells and DARTS 20; more is almost certainly a typo.
MAX_CELLS = 64
_CACHE_LIMIT = 200_000


class CellSpace(NB201Strings, SearchSpace):
    """Cells of NAS-Bench-201: a DAG over ``n_nodes`` nodes with one op on every edge ``i -> j``, ``i < j``.

    Node 0 is the input, node ``n_nodes - 1`` the output, and every other node is the sum of its
    incoming edges, each edge applying its op to the node it starts from. ``build`` stacks the same
    cell ``n_cells`` times (NAS-Bench-201's macro skeleton, smaller).

    **Spec.** ``{"edges": [op, ...]}``, one op per edge in lexicographic order of ``(i, j)``:
    ``(0, 1), (0, 2), ..., (0, n-1), (1, 2), ..., (n-2, n-1)``. For 4 nodes that is
    ``0->1, 0->2, 0->3, 1->2, 1->3, 2->3``, which is NAS-Bench-201's order read column by column
    (see :meth:`from_string` / :meth:`to_string` for its ``|op~0|+|op~0|op~1|+...`` strings).

    **What counts as the same architecture.** :meth:`make` puts every spec in canonical form, so
    two specs that build the same network are one :class:`Architecture` with one ``id``:

    1. an edge whose op is ``"none"`` does not exist;
    2. an edge that lies on no path from the input to the output cannot change the output (it
       starts at a node the input never reaches, or ends at a node that never reaches the output),
       so its op is irrelevant and it is set to ``"none"``; nodes left without edges are unused;
    3. intermediate nodes have no identity of their own: relabelling them in any order that keeps
       every edge going from a lower to a higher number gives the same network (sums commute).
       The canonical spec is the lexicographically smallest (comparing op names) of these
       relabellings.

    Nothing else is merged: ``skip_connect`` is an edge like any other (a chain
    ``0 -skip-> 1 -conv-> 3`` and a single edge ``0 -conv-> 3`` stay two architectures, as they
    do in NAS-Bench-201's tables), and two parallel edges with the same op are two sets of
    weights. So the 15625 raw NAS-Bench-201 cells give 8764 architectures here; the 6466 "unique"
    cells quoted for NAS-Bench-201 also treat ``skip_connect`` as the identity when comparing.
    A spec with no path from input to output at all is not a member: ``make`` raises and
    ``sample`` never returns one.

    Parameters
    ----------
    n_nodes : int, default 4
        Nodes of the cell, input and output included, from 2 to 6.
    ops : sequence of str, default NAS-Bench-201's five ops
        Ops an edge can carry, a subset of ``none``, ``skip_connect``, ``nor_conv_1x1``,
        ``nor_conv_3x3``, ``nor_conv_5x5``, ``sep_conv_3x3``, ``dil_conv_3x3``, ``avg_pool_3x3``,
        ``max_pool_3x3``. Convolutions are ReLU-Conv-BN; pools have stride 1.
    channels : int, default 16
        Channels of the first stage in :meth:`build`; each later stage doubles them.
    n_cells : int, default 3
        Cells stacked by :meth:`build` (1 to 64), split as evenly as possible into ``n_stages`` stages.
    n_stages : int, default 3
        Stages of :meth:`build`, separated by a stride-2 convolution that halves height and width
        (rounding up, so 8x8 images never shrink to nothing) and doubles the channels. The last
        stage may have at most 65536 channels (``channels * 2 ** (n_stages - 1)``).

    Examples
    --------
    >>> import numpy as np
    >>> space = CellSpace()
    >>> space.cardinality
    8764
    >>> a = space.make(edges=["nor_conv_3x3", "none", "none", "none", "skip_connect", "none"])
    >>> b = space.make(edges=["none", "nor_conv_3x3", "none", "none", "none", "skip_connect"])
    >>> a == b  # 0 -> 1 -> 3 or 0 -> 2 -> 3: nodes 1 and 2 swapped
    True
    >>> a["edges"]  # the canonical spec
    ['none', 'nor_conv_3x3', 'none', 'none', 'none', 'skip_connect']
    >>> a == space.make(edges=["nor_conv_3x3", "avg_pool_3x3", "none", "none", "skip_connect", "none"])
    True
    >>> space.sample(np.random.default_rng(0)) in space
    True
    """

    name: ClassVar[str] = "cell"
    ENCODING_VERSIONS: ClassVar[dict[str, int]] = {"adjacency": 1, "path": 1, "graf": 1}

    def __init__(
        self,
        n_nodes: int = 4,
        ops: Sequence[str] = NB201_OPS,
        channels: int = 16,
        n_cells: int = 3,
        n_stages: int = 3,
    ):
        self.n_nodes = n_nodes
        self.ops = ops
        self.channels = channels
        self.n_cells = n_cells
        self.n_stages = n_stages
        owner = type(self).__name__
        why = "Larger cells make canonicalization (all relabellings of the nodes) too slow."
        n_nodes = check_int_range(owner, "n_nodes", n_nodes, 2, MAX_NODES, why)
        self._ops = check_choice_list(owner, "ops", ops, allowed=CELL_OPS)
        if all(op == "none" for op in self._ops):
            raise InvalidParameterError(
                f"{owner}(ops=...) needs at least one op other than 'none', or no cell connects its "
                f"input to its output; got {list(self._ops)!r}."
            )
        channels = check_int_range(owner, "channels", channels, 1, MAX_WIDTH, "A 3x3 convolution that wide already holds 38 billion weights.")
        n_cells = check_int_range(owner, "n_cells", n_cells, 1, MAX_CELLS, "NAS-Bench-201 stacks 15 cells, DARTS 20.")
        n_stages = check_int(owner, "n_stages", n_stages, minimum=1)
        if n_stages > n_cells:
            raise InvalidParameterError(
                f"{owner}(n_stages=...) must be at most n_cells={n_cells!r} (every stage holds at "
                f"least one cell); got {n_stages!r}."
            )
        if channels * 2 ** (n_stages - 1) > MAX_WIDTH:
            top = (MAX_WIDTH // channels).bit_length()
            raise InvalidParameterError(
                f"{owner}(n_stages=...) must be at most {top} with channels={channels!r}: every stage doubles "
                f"the channels, and the last stage may have at most {MAX_WIDTH}; got n_stages={n_stages!r} "
                f"({channels * 2 ** (n_stages - 1)} channels)."
            )
        self.n_nodes, self.channels, self.n_cells, self.n_stages = n_nodes, channels, n_cells, n_stages  # plain ints
        self._setup()

    # -- internal tables ------------------------------------------------------------------
    def _setup(self) -> None:
        n = self.n_nodes
        self._edges: tuple[tuple[int, int], ...] = graph.dag_edges(n)
        self._edge_index = {e: k for k, e in enumerate(self._edges)}
        self._relabellings: tuple[tuple[int, ...], ...] = graph.relabellings(n, self._edges)
        self._has_none = "none" in self._ops
        self._live_ops = tuple(op for op in self._ops if op != "none")
        self._op_index = {op: k for k, op in enumerate(self._ops)}
        self._live_index = {op: k for k, op in enumerate(self._live_ops)}
        self._canon: dict[Key, Key | None] = {}
        self._archs: dict[Key, Architecture] = {}
        self._nbrs: dict[Key, tuple[Key, ...]] = {}
        self._draws: dict[tuple[int, int], tuple[int, Architecture]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # caches are rebuilt on demand; only the constructor arguments travel
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._ops = tuple(self.ops)
        self._setup()

    @property
    def n_edges(self) -> int:
        """Number of edges (positions of ``spec["edges"]``): ``n_nodes * (n_nodes - 1) // 2``."""
        return len(self._edges)

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """The ``(i, j)`` pair of every position of ``spec["edges"]``, in order."""
        return self._edges

    # -- canonical form -------------------------------------------------------------------
    def _prune(self, raw: Key) -> Key | None:
        """Set every edge on no input->output path to "none"; None when there is no such path."""
        return graph.prune(raw, self.n_nodes, self._edges)

    def _canonical(self, raw: Key) -> Key | None:
        """Canonical form of a validated raw spec (cached); None when it is not a member."""
        cache = self._canon
        if raw in cache:
            return cache[raw]
        pruned = self._prune(raw)
        best = pruned
        if pruned is not None and len(self._relabellings) > 1:
            live = [k for k, op in enumerate(pruned) if op != "none"]
            for emap in self._relabellings:
                cand = graph.relabel(pruned, emap, live)
                if cand is not None and cand < best:  # type: ignore[operator]
                    best = cand
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        cache[raw] = best
        if best is not None:
            cache[best] = best
        return best

    def _arch(self, key: Key) -> Architecture:
        """The Architecture of a canonical key (cached)."""
        arch = self._archs.get(key)
        if arch is None:
            spec = {"edges": list(key)}
            arch = Architecture(self.space_id, stable_hash(spec), spec, space=self)
            if len(self._archs) > _CACHE_LIMIT:
                self._archs.clear()
            self._archs[key] = arch
        return arch

    # -- membership ------------------------------------------------------------------------
    def make(self, **spec: Any) -> Architecture:
        """Canonicalize and validate a cell.

        Parameters
        ----------
        edges : sequence of str
            One op per edge, in the order of :attr:`edges` (``(0, 1), (0, 2), ..., (n-2, n-1)``).

        Returns
        -------
        Architecture
            In canonical form (see the class docstring).

        Raises
        ------
        InvalidArchitectureError
            If a field is missing or unknown, an op is not in ``ops``, the length is wrong, or no
            path of non-``none`` edges joins the input to the output.
        """
        owner = type(self).__name__
        if set(spec) != {"edges"}:
            extra = sorted(set(spec) - {"edges"})
            what = f"unknown field(s) {extra!r}" if extra else "no 'edges' field"
            raise InvalidArchitectureError(
                f"{owner}.make() takes one field, edges=[op, ...] ({self.n_edges} ops, one per edge "
                f"(i, j) in lexicographic order); got {what}."
            )
        edges = spec["edges"]
        if isinstance(edges, np.ndarray) and edges.ndim == 1:
            edges = edges.tolist()  # an array of op names, e.g. a table's column
        if isinstance(edges, str) or not isinstance(edges, Sequence):
            raise InvalidArchitectureError(
                f"{owner}.make(edges=...) must be a list of {self.n_edges} op names; got "
                f"{' '.join(repr(edges).split())[:200]} of type {type(edges).__name__}."  # one line (a 2-D array's repr spans several)
            )
        raw = tuple(edges)
        if len(raw) != self.n_edges:
            raise InvalidArchitectureError(
                f"{owner}.make(edges=...) must hold {self.n_edges} ops for n_nodes={self.n_nodes}, one "
                f"per edge {list(self._edges)!r}; got {len(raw)}: {list(raw)!r}."
            )
        canon = self._canonical(self._check_ops(raw))
        if canon is None:
            raise InvalidArchitectureError(
                f"{owner}.make(edges=...) has no path from the input (node 0) to the output "
                f"(node {self.n_nodes - 1}) through edges other than 'none'; got {list(raw)!r}. "
                "Such a cell computes nothing and is not in the space."
            )
        return self._arch(canon)

    def _check_ops(self, raw: Key) -> Key:
        for k, op in enumerate(raw):
            if not isinstance(op, str) or op not in self._op_index:
                listed = ", ".join(repr(o) for o in self._ops)
                raise InvalidArchitectureError(
                    f"{type(self).__name__}.make(edges=...): edge {k} {self._edges[k]} has op {op!r}, "
                    f"which is not in this space's ops. Allowed: {listed}."
                )
        return raw

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it is a canonical member of this space, else raise InvalidArchitectureError."""
        arch = self._check_space_id(arch)
        try:
            key = tuple(arch["edges"])
            known = self._archs.get(key)
        except (KeyError, TypeError):  # no "edges", or unhashable items in it
            key, known = None, None
        if known is None or known != arch:
            try:
                ok = key is not None and self.make(edges=list(key)) == arch and self._canon.get(key) == key
            except InvalidArchitectureError:
                ok = False
            if not ok:
                raise InvalidArchitectureError(
                    f"Architecture {arch.id!r} claims space {arch.space_id!r} but its spec {arch.spec!r} is "
                    f"not a canonical cell of {self!r}. Make architectures with space.make(...)."
                )
        return arch

    def _validate_many(self, archs: Sequence[object]) -> list[Architecture]:
        """:meth:`validate` of each, in order; the members proven together (:mod:`~nasbook.space._cell_members`)
        skip it, the others go through it one by one (a non-member raises its error)."""
        if len(archs) < members.MANY:
            return super()._validate_many(archs)
        proven = members.proven_members(self, archs).tolist()
        return [cast(Architecture, a) if ok else self.validate(a) for a, ok in zip(archs, proven)]

    # -- counting and sampling ---------------------------------------------------------------
    @functools.cached_property
    def _classes(self) -> tuple[graph.ShapeClass, ...]:
        """One entry per shape of canonical cell (see :func:`~nasbook.space._cell_graph.shape_classes`)."""
        return graph.shape_classes(self.n_edges, self._relabellings, self._prune, len(self._live_ops), self._has_none)

    @functools.cached_property
    def _class_cumsum(self) -> list[int]:
        return list(itertools.accumulate(c for _, _, c in self._classes))

    @property
    def cardinality(self) -> int:
        """Number of distinct canonical cells (8764 for the NAS-Bench-201 defaults)."""
        cum = self._class_cumsum
        return cum[-1] if cum else 0

    def sample(self, rng: np.random.Generator) -> Architecture:
        """A cell drawn uniformly over canonical cells (not over raw specs).

        A shape is drawn with probability proportional to its number of cells, then ops for its
        edges uniformly, kept with probability ``|stabilizer| / |symmetries|`` (so that every cell
        of the shape is equally likely, however many raw specs it has), else redrawn.
        """
        check_rng(self, "sample", rng)
        cum = self._class_cumsum
        c = bisect.bisect_right(cum, randbelow(rng, cum[-1]))
        live, syms, _ = self._classes[c]
        n_codes, n_syms = len(self._live_ops) ** len(live), len(syms)
        while True:
            code = randbelow(rng, n_codes)
            drawn = self._draws.get((c, code))
            if drawn is None:
                if len(self._draws) > _CACHE_LIMIT:
                    self._draws.clear()
                drawn = self._draws[(c, code)] = self._draw(c, code)
            stab, arch = drawn
            if stab == n_syms or rng.random() * n_syms < stab:
                return arch

    def _draw(self, c: int, code: int) -> tuple[int, Architecture]:
        """Labelling number ``code`` of shape ``c``: its stabilizer size and its canonical cell."""
        live, syms, _ = self._classes[c]
        m = len(self._live_ops)
        labels = []
        for _ in live:
            code, digit = divmod(code, m)
            labels.append(digit)
        stab = sum(1 for g in syms if all(labels[g[a]] == labels[a] for a in range(len(live))))
        raw = ["none"] * self.n_edges
        for k, lab in zip(live, labels):
            raw[k] = self._live_ops[lab]
        key = self._canonical(tuple(raw))
        assert key is not None
        return stab, self._arch(key)

    # -- moves --------------------------------------------------------------------------------
    def _neighbour_keys(self, key: Key) -> tuple[Key, ...]:
        return moves.neighbour_keys(self, key)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every cell one op change away: one edge set to another op in some labelling of ``arch``.

        The labellings are the canonical spec and its relabellings of intermediate nodes that keep
        every edge pointing from a lower to a higher number (they differ in which new edges
        between intermediate nodes can be added). Results come in order of labelling (canonical
        first), edge, then ``ops``; without ``arch``, duplicates and non-members. Because of
        pruning the relation is not always symmetric: removing an edge may also drop the edges that
        only it kept on a path, and one op change cannot put them all back; otherwise ``b`` is a
        neighbour of ``a`` exactly when ``a`` is one of ``b``.
        """
        return [self._arch(k) for k in self._neighbour_keys(tuple(self.validate(arch)["edges"]))]

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A uniformly random neighbour of ``arch``; a random other cell if it has none.

        With pruning, a few cells of spaces without two non-``none`` ops have no neighbour
        (e.g. a single ``0 -> n-1`` edge when the only other op is ``none``)."""
        return moves.mutate(self, arch, rng)

    # -- NAS-Bench-201 strings: to_string / from_string come from NB201Strings (nasbook/space/_cell_strings.py) --
    # -- encodings and enumeration (in nasbook/space/_cell_features.py) --------------------------
    def _encoding_size(self, kind: str) -> int:
        return features.encoding_size(self, kind)

    def _encode(self, arch: Architecture, kind: str) -> np.ndarray:
        """``adjacency``, ``path`` (BANANAS) or ``graf`` (graph features): see :mod:`nasbook.space._cell_features`."""
        return features.encode(self, arch["edges"], kind)

    def _encode_many(self, archs: Sequence[Architecture], kind: str) -> np.ndarray:
        """``graf``: the cells not cached in one :func:`~nasbook.space._cell_features.graf_many` call."""
        if kind != "graf":
            return super()._encode_many(archs, kind)
        return self._encoded_batch(archs, kind, lambda todo: features.graf_many(
            [members.frozen_edges(a) for a in todo], self.n_nodes, self._edges, self._live_ops))

    def _feature_names(self, kind: str) -> list[str]:
        return features.feature_names(self, kind)

    def _enumerate(self) -> list[Architecture]:
        return features.enumerate_cells(self)

    # -- building ----------------------------------------------------------------------------------
    def build(self, arch: Architecture, input_shape: Sequence[int], n_classes: int) -> torch.nn.Module:
        """A small CNN: stem, ``n_cells`` cells in ``n_stages`` stages, global average pool, linear.

        The stem is a 3x3 convolution to ``channels`` channels; between stages a ReLU-Conv-BN with
        stride 2 halves height and width (rounding up) and doubles the channels. Edges that are
        ``none`` are not built.

        Parameters
        ----------
        arch : Architecture
            A cell of this space.
        input_shape : sequence of int
            ``(channels, height, width)`` of one image, e.g. ``(1, 8, 8)`` or ``(3, 32, 32)`` (Conv2d), or
            ``(channels, length)`` of one sequence, e.g. ``(1, 40)`` (the same network with Conv1d).
        n_classes : int
            Outputs of the final linear layer.

        Returns
        -------
        torch.nn.Module
            Maps ``(batch, *input_shape)`` to ``(batch, n_classes)`` logits.
        """
        edges = self.validate(arch)["edges"]
        owner = type(self).__name__
        n_classes = check_int(f"{owner}.build", "n_classes", n_classes, minimum=1)
        cell_edges = tuple((i, j, op) for (i, j), op in zip(self._edges, edges) if op != "none")
        per_stage = [self.n_cells // self.n_stages + (s < self.n_cells % self.n_stages) for s in range(self.n_stages)]
        from nasbook.space._torch import build_cell_network

        return build_cell_network(owner, cell_edges, self.n_nodes, self.channels, tuple(per_stage), input_shape, int(n_classes))

    # -- drawing (notebook reprs) --------------------------------------------------------------
    def draw(self, arch: Architecture) -> Diagram:
        """The cell as an arc diagram: nodes ``in, 1, ..., out``, one labelled edge per op that is not ``none``."""
        return graph.cell_diagram(type(self).__name__, arch, self.edges, self.n_nodes)
