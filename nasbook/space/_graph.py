"""NAS-Bench-Graph's space: 4 GNN nodes, 9 link patterns, 9 ops (5 for proteins)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, did_you_mean
from nasbook.space._base import Architecture, SearchSpace, check_choice_list, check_rng
from nasbook.space._graph_features import graph_feature_names, graph_features

if TYPE_CHECKING:
    from nasbook.display import Diagram

#: NAS-Bench-Graph's op names, in the benchmark's own order (its hash uses these indices).
GNN_OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: The op subset NAS-Bench-Graph evaluated on ogbg-proteins.
PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
#: The nine canonical link patterns: ``link[i]`` is the input of node ``i+1`` (0 = the cell input).
LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3),
    (0, 1, 1, 1), (0, 1, 1, 2), (0, 1, 2, 2), (0, 1, 2, 3),
)
#: Every raw link (node i+1 may read the input or any earlier node): 24 of them.
RAW_LINKS: tuple[tuple[int, ...], ...] = tuple(itertools.product(range(1), range(2), range(3), range(4)))
_N_NODES = 4


def _benchmark_key_uncached(link: tuple[int, ...], ops: tuple[str, ...]) -> int:
    """NAS-Bench-Graph's own canonical hash (``Arch(link, ops).valid_hash()``)."""
    from nas_bench_graph.architecture import Arch  # pure Python, no pickles

    return int(Arch(list(link), list(ops)).valid_hash())


@functools.cache
def _benchmark_key(link: tuple[int, ...], ops: tuple[str, ...]) -> int:
    """:func:`_benchmark_key_uncached`, memoised."""
    return _benchmark_key_uncached(link, ops)


def _decode_key(key: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The canonical (link, ops) whose benchmark key is ``key`` (base-10 digits: link, 4 ops)."""
    digits = []
    k = key
    for _ in range(_N_NODES):
        digits.append(k % 10)
        k //= 10
    return LINKS[k], tuple(GNN_OPS[d] for d in reversed(digits))


@functools.cache
def _link_after(link: tuple[int, ...], skips: tuple[bool, ...]) -> int:
    """The canonical link pattern (index in :data:`LINKS`) of a raw cell with ``link`` and skips where ``skips``
    says: the benchmark's canonicalisation moves nodes by the link and by which ops are ``skip`` only."""
    return _benchmark_key_uncached(link, tuple("skip" if s else "gcn" for s in skips)) // 10**_N_NODES


@functools.lru_cache(maxsize=4096)
def _raw_forms(link: tuple[int, ...], ops: tuple[str, ...]) -> tuple[tuple[tuple[int, ...], tuple[str, ...]], ...]:
    """Every raw ``(link, ops)`` with the benchmark key of the canonical ``(link, ops)``, that form first.

    The benchmark's canonicalisation only renumbers nodes (it permutes the ops), so the raw forms are among
    the 24 raw links times the distinct orders of ``ops`` (1 to 164 forms per class); those whose link
    pattern cannot come out as ``link`` are not hashed.
    """
    key = _benchmark_key(link, ops)
    pattern = LINKS.index(link)
    perms = [(perm, tuple(o == "skip" for o in perm)) for perm in sorted(set(itertools.permutations(ops)))]
    forms = [(link, ops)]
    for lk in RAW_LINKS:
        for perm, skips in perms:
            if (lk, perm) == (link, ops) or _link_after(lk, skips) != pattern:
                continue
            if _benchmark_key(lk, perm) == key:
                forms.append((lk, perm))
    return tuple(forms)


@functools.lru_cache(maxsize=8)
def _enumerate_keys(ops: tuple[str, ...]) -> np.ndarray:
    """Sorted benchmark keys of every architecture whose ops come from ``ops`` (all-skip excluded)."""
    keys = set()
    for link in LINKS:
        for combo in itertools.product(ops, repeat=_N_NODES):
            if all(o == "skip" for o in combo):
                continue
            keys.add(_benchmark_key(link, combo))
    return np.array(sorted(keys), dtype=np.int64)


class GraphSpace(SearchSpace):
    """NAS-Bench-Graph's search space of GNN cells.

    A cell has four nodes; node ``i`` takes its input from one earlier node or the cell input
    (``link``), and applies one op. Nodes nobody reads are the cell's outputs. Many raw
    (link, ops) pairs describe the same computation (157,464 raw encodings, 26,206
    architectures with all nine ops); :meth:`make` maps each to its canonical form, and the
    architecture id is the benchmark's own key (``Arch(link, ops).valid_hash()`` in the
    ``nas-bench-graph`` package), so ids look a trial up directly.

    Parameters
    ----------
    ops : sequence of str, optional
        Allowed ops, a subset of :data:`GNN_OPS` (default: all nine). NAS-Bench-Graph's
        proteins table covers :data:`PROTEINS_OPS` only.

    Examples
    --------
    >>> space = GraphSpace()
    >>> space.cardinality
    26206
    >>> arch = space.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    >>> arch.id
    '30174'
    """

    name = "graph"
    ENCODING_VERSIONS: ClassVar[dict[str, int]] = {"adjacency": 1, "path": 1, "graf": 1}
    #: What :meth:`neighbours` edits: ``"canonical"`` (default) the canonical form of a cell, as :meth:`mutate`
    #: does (not a symmetric relation: ``b`` may be one edit of ``a`` but ``a`` not one edit of ``b``'s canonical
    #: form); ``"every_form"`` every raw form of the cell, a symmetric relation about a third larger. Not the default:
    #: on NAS-Bench-Graph it made local search no better (0.711 -> 0.758 pp at 100 queries, 60 seeds x 9 tables,
    #: docs/benchmarks.md "nbrsym"), a first call ~6x dearer, and stored local searches continue otherwise. Not part
    #: of the space's identity: ``GraphSpace.edits = "every_form"`` switches every GraphSpace.
    edits: ClassVar[str] = "canonical"

    def __init__(self, ops: Sequence[str] = GNN_OPS):
        self.ops = tuple(ops) if isinstance(ops, (list, tuple)) else ops
        self._ops  # noqa: B018 - checks ops now: a typo should fail here, not at the first sample

    def _identity_params(self) -> dict[str, Any]:
        # the ops in the benchmark's order, as encodings and ids use them: GraphSpace(ops=["gcn", "gat"]) and
        # GraphSpace(ops=["gat", "gcn"]) are one space (their space_id differed, so neither held the other's archs)
        return {**self.get_params(), "ops": list(self._ops)}

    def __getstate__(self) -> dict[str, Any]:
        # caches are rebuilt on demand: a pickled space (sent with every trial to a dask worker) stays small. The
        # architectures made so far go as an empty dict (_from_key fills it again): after BO had enumerated the
        # 26,206 architectures, every trial pickled 1.4 MB of them (docs/benchmarks.md, outside-evaluator probe)
        state = {k: v for k, v in super().__getstate__().items() if k not in ("_graf_table", "_keys_list", "_nbrs")}
        if "_archs" in state:
            state["_archs"] = {}
        return state

    # -- helpers ---------------------------------------------------------------------------
    @property
    def _ops(self) -> tuple[str, ...]:
        cached = self.__dict__.get("_ops_checked")
        if cached is None:
            cached = check_choice_list("GraphSpace", "ops", self.ops, GNN_OPS)
            if cached == ("skip",):
                raise InvalidParameterError(
                    "GraphSpace(ops=...) needs at least one op besides 'skip' (an all-'skip' cell computes "
                    f"nothing); got ['skip']. Allowed: {', '.join(repr(o) for o in GNN_OPS)}."
                )
            # keep the benchmark's order so encodings do not depend on how the user listed ops
            cached = tuple(o for o in GNN_OPS if o in cached)
            self.__dict__["_ops_checked"] = cached
            self.__dict__["_op_index"] = {o: i for i, o in enumerate(cached)}
            self.__dict__["_archs"] = {}
        return cached

    @property
    def keys(self) -> np.ndarray:
        """Sorted benchmark keys of every architecture in the space."""
        return _enumerate_keys(self._ops)

    def _from_key(self, key: int) -> Architecture:
        self._ops  # noqa: B018 - initialises caches
        archs: dict[int, Architecture] = self.__dict__["_archs"]
        arch = archs.get(key)
        if arch is None:
            link, ops = _decode_key(key)
            arch = Architecture._trusted(self.space_id, str(key), (("link", link), ("ops", ops)), self)
            archs[key] = arch
        return arch

    # -- membership -------------------------------------------------------------------------
    def make(self, link: Any = None, ops: Any = None, **extra: Any) -> Architecture:
        """Canonicalize ``(link, ops)`` into an architecture of this space.

        Parameters
        ----------
        link : sequence of int
            ``link[i]`` is where node ``i+1`` reads from: 0 for the cell input, ``j`` for node ``j``
            (so ``0 <= link[i] <= i``); one entry per node.
        ops : sequence of str
            ``ops[i]`` is node ``i+1``'s op, one of the space's ops.
        **extra
            Any other field is an InvalidArchitectureError (the spec has ``link`` and ``ops`` only).

        Returns
        -------
        Architecture
            The canonical architecture: equivalent cells get one id.
        """
        allowed = self._ops
        if extra:
            raise InvalidArchitectureError(
                f"GraphSpace architectures have fields 'link' and 'ops'; got unexpected {sorted(extra)!r}."
            )
        if isinstance(link, (str, bytes)) or not isinstance(link, Sequence) or len(link) != _N_NODES:
            raise InvalidArchitectureError(
                f"GraphSpace link must be a list of {_N_NODES} ints with 0 <= link[i] <= i; got {link!r}."
            )
        for i, v in enumerate(link):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v <= i:
                raise InvalidArchitectureError(
                    f"GraphSpace link[{i}] must be an int in [0, {i}] (node {i + 1} reads the input or an "
                    f"earlier node); got {v!r} in link={list(link)!r}."
                )
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence) or len(ops) != _N_NODES:
            raise InvalidArchitectureError(f"GraphSpace ops must be a list of {_N_NODES} op names; got {ops!r}.")
        for i, o in enumerate(ops):
            if o not in allowed:
                raise InvalidArchitectureError(
                    f"GraphSpace ops[{i}] must be one of {list(allowed)!r}; got {o!r}"
                    f"{did_you_mean(str(o), allowed)}."
                )
        if all(o == "skip" for o in ops):
            raise InvalidArchitectureError(
                "GraphSpace: an all-'skip' cell computes nothing and is not in the space (nor in any table)."
            )
        key = _benchmark_key(tuple(int(v) for v in link), tuple(ops))
        return self._from_key(key)

    def validate(self, arch: object) -> Architecture:
        """Return ``arch`` if it is a canonical member of this space, else raise InvalidArchitectureError."""
        arch = self._check_space_id(arch)
        archs: dict[int, Architecture] = self.__dict__["_archs"]
        key = int(arch.id) if arch.id.isascii() and arch.id.isdigit() and str(int(arch.id)) == arch.id else None
        known = archs.get(key) if key is not None else None
        if known is None and key is not None:
            keys = self.keys
            i = int(np.searchsorted(keys, key))
            known = self._from_key(key) if i < len(keys) and int(keys[i]) == key else None
        if known is None or (known is not arch and known._spec != arch._spec):
            raise InvalidArchitectureError(
                f"Architecture {arch.id!r} claims space {arch.space_id!r} but it is not a canonical cell of "
                f"{self!r} (spec {arch.spec!r}). Make architectures with space.make(...)."
            )
        return arch

    @property
    def cardinality(self) -> int:
        return int(len(self.keys))

    # -- moves ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        check_rng(self, "sample", rng)
        keys = self.__dict__.get("_keys_list")
        if keys is None:
            keys = self.__dict__["_keys_list"] = self.keys.tolist()
        key = keys[int(rng.integers(len(keys)))]
        arch = self.__dict__["_archs"].get(key)
        return arch if arch is not None else self._from_key(key)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one edit of ``arch``'s canonical form away: one node's op changed, or the link
        replaced by any of the 24 raw links (ops kept), each canonicalized; ``arch`` and repeats dropped.

        The relation is not symmetric: ``b`` can be one edit of ``a`` while ``a`` is no edit of ``b``'s canonical
        form (only of another raw form of ``b``, e.g. the same cell with its nodes numbered otherwise). With
        :attr:`edits` ``= "every_form"`` the edits of every raw form that :meth:`make` maps to ``arch`` are
        added after the canonical form's (ops node by node, then links), in a fixed order, and ``b`` is in
        ``neighbours(a)`` exactly when ``a`` is in ``neighbours(b)``.
        """
        self.validate(arch)
        edits = type(self).edits
        if edits not in ("every_form", "canonical"):
            raise InvalidParameterError(
                f"GraphSpace.edits must be 'every_form' or 'canonical' (what neighbours() edits); got {edits!r}."
            )
        cached = self.__dict__.setdefault("_nbrs", {}).get((edits, arch.id))
        if cached is not None:
            return list(cached)
        seen = {arch.id}
        raw_seen: set[tuple[tuple[int, ...], tuple[str, ...]]] = set()  # raw forms sharing ops share link edits
        out: list[Architecture] = []

        def add(lk: tuple[int, ...], op: tuple[str, ...]) -> None:
            if (lk, op) in raw_seen or op.count("skip") == _N_NODES:
                return
            raw_seen.add((lk, op))
            a = self._from_key(_benchmark_key(lk, op))
            if a.id not in seen:
                seen.add(a.id)
                out.append(a)

        canonical = (tuple(arch["link"]), tuple(arch["ops"]))
        for link, ops in _raw_forms(*canonical) if edits == "every_form" else (canonical,):
            for i in range(_N_NODES):
                for o in self._ops:
                    if o != ops[i]:
                        add(link, ops[:i] + (o,) + ops[i + 1 :])
            for lk in RAW_LINKS:
                if lk != link:
                    add(lk, ops)
        self.__dict__["_nbrs"][edits, arch.id] = tuple(out)
        return list(out)

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One random edit of the canonical form: a new op on one node, or (with probability 1/2) a new link.

        Edits that land on the same canonical architecture are retried, so the result always
        differs from ``arch``. The result is one of :meth:`neighbours` (its leading part: the canonical
        form's edits); the other raw forms' edits are not drawn, so evolution's children are drawn as before.
        """
        check_rng(self, "mutate", rng)
        self.validate(arch)
        link, ops = tuple(arch["link"]), tuple(arch["ops"])
        allowed = self._ops
        for _ in range(100):
            if rng.random() < 0.5:
                i = int(rng.integers(_N_NODES))
                choices = [o for o in allowed if o != ops[i]]
                new_ops, new_link = ops[:i] + (choices[int(rng.integers(len(choices)))],) + ops[i + 1 :], link
            else:
                choices_l = [lk for lk in RAW_LINKS if lk != link]
                new_ops, new_link = ops, choices_l[int(rng.integers(len(choices_l)))]
            if all(o == "skip" for o in new_ops):
                continue
            key = _benchmark_key(new_link, new_ops)
            if str(key) != arch.id:
                return self._from_key(key)
        return super().mutate(arch, rng)  # pragma: no cover - every arch has distinct neighbours

    # -- encodings ----------------------------------------------------------------------------------
    def _graf(self) -> tuple[list[str], np.ndarray]:
        """Names and rows (in :attr:`keys` order) of the ``graf`` features of every architecture, computed once."""
        cached = self.__dict__.get("_graf_table")
        if cached is None:
            keys = self.keys
            digits = (keys[:, None] // 10 ** np.arange(_N_NODES - 1, -1, -1)) % 10  # the key's four op digits
            to_space = np.full(len(GNN_OPS), -1, dtype=np.int64)
            to_space[[GNN_OPS.index(o) for o in self._ops]] = np.arange(len(self._ops))
            links = np.asarray(LINKS, dtype=np.int64)[keys // 10**_N_NODES]
            cached = self.__dict__["_graf_table"] = graph_features(links, to_space[digits], self._ops, LINKS)
        return cached

    def _feature_names(self, kind: str) -> list[str]:
        """``graf``: see :mod:`nasbook.space._graph_features`; others ``"adjacency[i]"``, ``"path[i]"``."""
        if kind == "graf":
            return list(graph_feature_names(self._ops, LINKS))
        return super()._feature_names(kind)

    def _enumerate(self) -> list[Architecture]:
        """In :attr:`keys` order (ascending benchmark key)."""
        return [self._from_key(int(k)) for k in self.keys]

    def _encoding_size(self, kind: str) -> int:
        n = len(self._ops)
        if kind == "graf":
            return len(graph_feature_names(self._ops, LINKS))
        if kind == "adjacency":
            # parent one-hot (upper triangle of a 5x5 adjacency), op one-hot per node, output flags
            return 10 + _N_NODES * n + _N_NODES
        return sum(n**length for length in range(1, _N_NODES + 1))

    def encode_many(self, archs: Sequence[Architecture], kind: str = "adjacency") -> np.ndarray:
        """Stack ``encode`` over ``archs``; ``graf`` rows come from one table of the whole space."""
        if kind != "graf":
            return super().encode_many(archs, kind)
        self._check_encoding(kind, "encode_many")
        archs = self._arch_list(archs, "encode_many")
        table = self._graf()[1]
        keys = np.fromiter((int(self.validate(a).id) for a in archs), dtype=np.int64, count=len(archs))
        return table[np.searchsorted(self.keys, keys)]

    def _encoded(self, arch: Architecture, kind: str) -> np.ndarray:
        return self._encode(arch, kind) if kind == "graf" else super()._encoded(arch, kind)  # graf: a table row

    def _encode(self, arch: Architecture, kind: str) -> np.ndarray:
        if kind == "graf":
            return self._graf()[1][int(np.searchsorted(self.keys, int(arch.id)))]
        link, ops = arch["link"], arch["ops"]
        idx: dict[str, int] = self.__dict__["_op_index"]
        n = len(self._ops)
        vec = np.zeros(self._encoding_size(kind), dtype=np.float32)
        children = {p for p in link}
        if kind == "adjacency":
            # node j (1..4) reads node link[j-1]; edge (p, j) sits at the upper-triangle index
            for j, p in enumerate(link, start=1):
                vec[(j * (j - 1)) // 2 + p] = 1.0
            for i, o in enumerate(ops):
                vec[10 + i * n + idx[o]] = 1.0
            for i in range(_N_NODES):
                if (i + 1) not in children:
                    vec[10 + _N_NODES * n + i] = 1.0
            return vec
        # path encoding: one bit per op sequence on an input -> output path
        offsets = [sum(n**length for length in range(1, L)) for L in range(1, _N_NODES + 2)]
        for leaf in range(1, _N_NODES + 1):
            if leaf in children:
                continue
            seq = []
            node = leaf
            while node != 0:
                seq.append(idx[ops[node - 1]])
                node = link[node - 1]
            seq.reverse()
            code = 0
            for s in seq:
                code = code * n + s
            vec[offsets[len(seq) - 1] + code] = 1.0
        return vec

    # -- drawing (notebook reprs) --------------------------------------------------------------
    def draw(self, arch: Architecture) -> Diagram:
        """The cell: input, the four op nodes, output; each node reads its ``link``, unread nodes feed the output."""
        from nasbook.display import Diagram, DiagramEdge, DiagramNode

        link, ops = [int(v) for v in arch["link"]], [str(o) for o in arch["ops"]]
        n = len(ops)
        nodes = (DiagramNode("input", "io"), *(DiagramNode(o, "op") for o in ops), DiagramNode("output", "io"))
        leaves = [i for i in range(1, n + 1) if i not in set(link)]
        edges = [DiagramEdge(p, i + 1) for i, p in enumerate(link)] + [DiagramEdge(i, n + 1) for i in leaves]
        names = ["input"] + [f"node {i}" for i in range(1, n + 1)]
        lines = [f"node {i + 1} = {op}({names[p]})" for i, (p, op) in enumerate(zip(link, ops))]
        lines.append("output = " + " + ".join(names[i] for i in leaves))
        return Diagram(nodes, tuple(sorted(edges, key=lambda e: (e.src, e.dst))), text="\n".join(lines), kind="graph")
