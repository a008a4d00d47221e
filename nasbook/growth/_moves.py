"""Growth moves at the level of architectures (no torch): which children a parent can grow into.

A :class:`GrowthMove` names a parent, the child it grows into (a member of the same space) and
what was added. The weights follow in :mod:`nasbook.growth._weights`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    unknown_choice,
)
from nasbook.space import Architecture, CellSpace, ChainSpace, SearchSpace

#: the moves: ``deepen`` and ``widen`` grow a ChainSpace chain, ``add_edge`` a CellSpace cell
KINDS: tuple[str, ...] = ("deepen", "widen", "add_edge")
#: chain ops that change the spatial size: never inserted by ``deepen`` (the block must map x to x's shape)
_RESIZING = ("maxpool_conv3x3",)


@dataclass(frozen=True)
class GrowthMove:
    """One growth step: ``parent`` grows into ``child`` by ``kind`` with ``params``.

    :meth:`to_dict` is plain data (it crosses processes) and :func:`make_move` rebuilds the move from it.

    Parameters
    ----------
    kind : {"deepen", "widen", "add_edge"}
        The move (:data:`KINDS`).
    parent : Architecture
        The architecture grown from.
    child : Architecture
        The architecture grown into, a member of the same space.
    params : Mapping, default {}
        ``deepen``: ``position`` (index of the new layer in the child) and ``op``; ``widen``:
        ``layer`` and ``width``; ``add_edge``: ``edge`` (position in the parent's
        ``spec["edges"]``) and ``op``.
    """

    kind: str
    parent: Architecture
    child: Architecture
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The move as plain data: ``{"kind": ..., **params}``, what :func:`make_move` takes back.

        Returns
        -------
        dict
            JSON-able; the architectures are left out (the parent is known where it is rebuilt).
        """
        return {"kind": self.kind, **{k: v for k, v in self.params.items()}}

    def __repr__(self) -> str:
        what = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"GrowthMove({self.kind}: {what}; {self.parent.id[:8]} -> {self.child.id[:8]})"


def _chain_ops(space: ChainSpace) -> list[str]:
    return list(dict.fromkeys(op for op, _ in space.layer_choices))


def _chain_widths(space: ChainSpace) -> list[int]:
    return list(dict.fromkeys(int(w) for _, w in space.layer_choices))


def _check_space(space: object, owner: str) -> ChainSpace | CellSpace:
    if not isinstance(space, (ChainSpace, CellSpace)):
        raise InvalidParameterTypeError(
            f"{owner}(space=...) must be a ChainSpace or a CellSpace (the spaces nasbook can grow); got "
            f"{space!r:.80} of type {type(space).__name__}."
        )
    return space


def _as_int(value: object) -> int | None:
    """``value`` as a plain int when it is an integer (numpy's too: a move's fields from ``np.arange`` or a
    stored proposal), else None (a bool, a float, a string)."""
    return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else None  # type: ignore[call-overload]


def _check_arch(space: SearchSpace, arch: object, owner: str) -> Architecture:
    try:
        return space.validate(arch)
    except InvalidArchitectureError as exc:
        raise InvalidArchitectureError(
            f"{owner}: the architecture to grow is not a member of {space!r}: {exc} Grow architectures of the "
            "space they were made in."
        ) from exc


def deepen(space: ChainSpace, arch: Architecture, position: int, op: str | None = None) -> GrowthMove:
    """Insert a layer at ``position`` (1 .. depth) of a chain, as wide as the layer before it.

    The new layer maps its input to the same shape, so it can enter as ``x + alpha * (g(x) - x)``
    (a soft-landing seed) and leave the parent's function unchanged at ``alpha = 0``.

    Parameters
    ----------
    space : ChainSpace
        The chain space ``arch`` belongs to (a CellSpace raises an error naming the right move).
    arch : Architecture
        The parent, a member of ``space``.
    position : int
        Where the new layer goes: after existing layer ``position - 1``, whose width it keeps.
    op : str, optional
        The new layer's op, one the space allows that keeps the spatial size; None: ``conv3x3``
        (``cnn``) or ``relu`` (``mlp``) when allowed, else the first allowed op that keeps the size.

    Returns
    -------
    GrowthMove
        The move, with the child architecture (a member of ``space``).
    """
    owner = "growth.deepen"
    space = _check_space(space, owner)  # type: ignore[assignment]
    if not isinstance(space, ChainSpace):
        raise InvalidParameterError(f"{owner}: deepen grows a ChainSpace chain; {space!r} is a CellSpace (use add_edge).")
    layers = [(str(o), int(w)) for o, w in _check_arch(space, arch, owner)["layers"]]
    if len(layers) >= space.max_depth:
        raise InvalidParameterError(f"{owner}: the chain already has max_depth={space.max_depth} layers; it cannot deepen.")
    given, position = position, _as_int(position)  # type: ignore[assignment]
    if position is None or not 1 <= position <= len(layers):
        raise InvalidParameterError(
            f"{owner}(position=...) must be an int from 1 to {len(layers)} (after an existing layer, whose width "
            f"the new layer keeps); got {given!r}."
        )
    allowed = [o for o in _chain_ops(space) if o not in _RESIZING]
    if op is None:
        preferred = "conv3x3" if space.kind == "cnn" else "relu"
        op = preferred if preferred in allowed else (allowed[0] if allowed else None)
    if op not in allowed:
        raise unknown_choice(f"{owner}(op=...)", op, allowed, "The new layer must keep the shape of its input.")
    width = layers[position - 1][1]
    child = space.make(layers=[*layers[:position], (op, width), *layers[position:]])
    return GrowthMove("deepen", arch, child, {"position": position, "op": op})


def widen(space: ChainSpace, arch: Architecture, layer: int, width: int | None = None) -> GrowthMove:
    """Give layer ``layer`` of a chain more channels or units.

    Parameters
    ----------
    space : ChainSpace
        The chain space ``arch`` belongs to (a CellSpace raises an error naming the right move).
    arch : Architecture
        The parent, a member of ``space``.
    layer : int
        Index of the layer to widen, 0-based.
    width : int, optional
        An allowed width above the current one; None: the next one up.

    Returns
    -------
    GrowthMove
        The move, with the child architecture (a member of ``space``).
    """
    owner = "growth.widen"
    space = _check_space(space, owner)  # type: ignore[assignment]
    if not isinstance(space, ChainSpace):
        raise InvalidParameterError(
            f"{owner}: widen grows a ChainSpace chain; {space!r} is a CellSpace, whose channels are a parameter of "
            "the space (use add_edge)."
        )
    layers = [(str(o), int(w)) for o, w in _check_arch(space, arch, owner)["layers"]]
    given, layer = layer, _as_int(layer)  # type: ignore[assignment]
    if layer is None or not 0 <= layer < len(layers):
        raise InvalidParameterError(
            f"{owner}(layer=...) must be the index of an existing layer, 0 to {len(layers) - 1}; got {given!r}."
        )
    current = layers[layer][1]
    wider = sorted(w for w in _chain_widths(space) if w > current)
    if width is None:
        if not wider:
            raise InvalidParameterError(f"{owner}: layer {layer} already has the largest width {current}.")
        width = wider[0]
    if _as_int(width) not in wider:
        raise InvalidParameterError(
            f"{owner}(width=...) must be an allowed width above layer {layer}'s {current}: {wider!r}; got {width!r}."
        )
    child = space.make(layers=[*layers[:layer], (layers[layer][0], int(width)), *layers[layer + 1:]])
    return GrowthMove("widen", arch, child, {"layer": layer, "width": int(width)})


def widen_all(space: ChainSpace, arch: Architecture, width: int | None = None) -> list[GrowthMove]:
    """Widen every layer of a chain narrower than ``width`` to it: a path of :func:`widen` moves.

    Each step is exact, so the path is: the last move's child computes what ``arch`` computes.

    Parameters
    ----------
    space : ChainSpace
        The chain space ``arch`` belongs to (a CellSpace raises an error naming the right move).
    arch : Architecture
        The parent, a member of ``space``.
    width : int, optional
        One of the space's widths; None: the widest.

    Returns
    -------
    list of GrowthMove
        One move per narrower layer, in layer order, each applied to the previous child; ``[]``
        when no layer is narrower.
    """
    owner = "growth.widen_all"
    space = _check_space(space, owner)  # type: ignore[assignment]
    if not isinstance(space, ChainSpace):
        raise InvalidParameterError(f"{owner}: widen grows a ChainSpace chain; {space!r} is a CellSpace (use add_edge).")
    widths = _chain_widths(space)
    width = max(widths) if width is None else width
    if _as_int(width) not in widths:
        raise InvalidParameterError(f"{owner}(width=...) must be one of the space's widths {sorted(widths)!r}; got {width!r}.")
    path: list[GrowthMove] = []
    current = _check_arch(space, arch, owner)
    for k, (_, w) in enumerate(arch["layers"]):
        if int(w) < width:
            path.append(widen(space, current, k, width))
            current = path[-1].child
    return path


def _used_nodes(space: CellSpace, edges: list[str]) -> set[int]:
    used = {0, space.n_nodes - 1}
    for (i, j), op in zip(space.edges, edges):
        if op != "none":
            used.update((i, j))
    return used


def add_edge(space: CellSpace, arch: Architecture, edge: int | tuple[int, int], op: str) -> GrowthMove:
    """Put ``op`` on an edge of a cell that has none, between two nodes the cell already uses, so that the new edge is live.

    Parameters
    ----------
    space : CellSpace
        The cell space ``arch`` belongs to (a ChainSpace raises an error naming the right moves).
    arch : Architecture
        The parent, a member of ``space``.
    edge : int or tuple of int
        The edge: its position in ``spec["edges"]`` or its ``(i, j)`` node pair.
    op : str
        One of the space's ops other than ``"none"``.

    Returns
    -------
    GrowthMove
        The move, with the child architecture (a member of ``space``).
    """
    owner = "growth.add_edge"
    space = _check_space(space, owner)  # type: ignore[assignment]
    if not isinstance(space, CellSpace):
        raise InvalidParameterError(f"{owner}: add_edge grows a CellSpace cell; {space!r} is a ChainSpace (use deepen or widen).")
    edges = list(_check_arch(space, arch, owner)["edges"])
    if isinstance(edge, (tuple, list)):  # an (i, j) pair; a list is what JSON gives back
        pair = tuple(_as_int(v) for v in edge)
        if pair not in space.edges:
            raise InvalidParameterError(f"{owner}(edge=...) must be one of the cell's edges {list(space.edges)!r}; got {edge!r}.")
        edge = space.edges.index(pair)
    given, edge = edge, _as_int(edge)  # type: ignore[assignment]
    if edge is None or not 0 <= edge < space.n_edges:
        raise InvalidParameterError(
            f"{owner}(edge=...) must be an edge position 0 to {space.n_edges - 1} or an (i, j) pair; got {given!r}."
        )
    if edges[edge] != "none":
        raise InvalidParameterError(f"{owner}: edge {edge} {space.edges[edge]} already carries {edges[edge]!r}.")
    live = [o for o in space.ops if o != "none"]
    if op not in live:
        raise unknown_choice(f"{owner}(op=...)", op, live)
    i, j = space.edges[edge]
    used = _used_nodes(space, edges)
    if i not in used or j not in used:
        raise InvalidParameterError(
            f"{owner}: edge {edge} {(i, j)} touches a node the cell does not use, so it would lie on no path from "
            f"input to output; pick an edge between used nodes {sorted(used)!r}."
        )
    child = space.make(edges=[*edges[:edge], op, *edges[edge + 1:]])
    return GrowthMove("add_edge", arch, child, {"edge": edge, "op": op})


def growth_moves(space: SearchSpace, arch: Architecture) -> list[GrowthMove]:
    """Every growth move from ``arch`` in a deterministic order; ``[]`` for spaces nasbook cannot grow.

    Parameters
    ----------
    space : SearchSpace
        Any space; only ChainSpace (deepen, widen) and CellSpace (add_edge) have moves.
    arch : Architecture
        The parent, a member of ``space``.

    Returns
    -------
    list of GrowthMove
        Chains: every deepen (position, then op), then every widen (layer, then width); cells:
        every live add_edge (edge, then op). Moves whose child equals ``arch`` are left out.
    """
    if not isinstance(space, (ChainSpace, CellSpace)):
        return []
    arch = _check_arch(space, arch, "growth.growth_moves")
    out: list[GrowthMove] = []
    if isinstance(space, ChainSpace):
        layers = arch["layers"]
        if len(layers) < space.max_depth:
            for p in range(1, len(layers) + 1):
                for op in _chain_ops(space):
                    if op not in _RESIZING:
                        out.append(deepen(space, arch, p, op))
        for k, (_, w) in enumerate(layers):
            for v in sorted(v for v in _chain_widths(space) if v > w):
                out.append(widen(space, arch, k, v))
        return out
    edges = list(arch["edges"])
    used = _used_nodes(space, edges)
    for k, (i, j) in enumerate(space.edges):
        if edges[k] == "none" and i in used and j in used:
            for op in space.ops:
                if op != "none":
                    out.append(add_edge(space, arch, k, op))
    return [m for m in out if m.child != arch]


def make_path(space: SearchSpace, arch: Architecture, moves: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[GrowthMove]:
    """Rebuild a move (a dict) or a path of moves (a list of dicts, each applied to the previous child).

    Parameters
    ----------
    space : SearchSpace
        The space of ``arch``.
    arch : Architecture
        The first parent.
    moves : Mapping or sequence of Mapping
        :meth:`GrowthMove.to_dict` dicts; an empty list or another type is an error.

    Returns
    -------
    list of GrowthMove
        The moves in order; the last one's child is the grown architecture.
    """
    specs = [moves] if isinstance(moves, Mapping) else list(moves) if isinstance(moves, (list, tuple)) else None
    if not specs:
        raise InvalidParameterError(f"a growth move must be a dict, or a non-empty list of them (a path); got {moves!r:.120}.")
    path: list[GrowthMove] = []
    for spec in specs:
        path.append(make_move(space, path[-1].child if path else arch, spec))
    return path


def make_move(space: SearchSpace, arch: Architecture, move: Mapping[str, Any]) -> GrowthMove:
    """Rebuild a move from :meth:`GrowthMove.to_dict` (checked again: it may come from a stored proposal).

    Parameters
    ----------
    space : SearchSpace
        The space of ``arch``.
    arch : Architecture
        The parent.
    move : Mapping
        ``{"kind": "deepen" | "widen" | "add_edge", **params}``; unknown or missing fields raise
        InvalidParameterError.

    Returns
    -------
    GrowthMove
        The move, its child rebuilt.
    """
    if not isinstance(move, Mapping) or move.get("kind") not in KINDS:
        raise InvalidParameterError(
            f"a growth move must be a dict with 'kind' one of {list(KINDS)!r}; got {move!r:.120}."
        )
    params = {k: v for k, v in move.items() if k != "kind"}
    if isinstance(params.get("edge"), list):
        params["edge"] = tuple(params["edge"])
    try:
        if move["kind"] == "deepen":
            return deepen(space, arch, **params)  # type: ignore[arg-type]
        if move["kind"] == "widen":
            return widen(space, arch, **params)  # type: ignore[arg-type]
        return add_edge(space, arch, **params)  # type: ignore[arg-type]
    except TypeError as exc:
        raise InvalidParameterError(f"growth move {dict(move)!r} has unknown or missing fields: {exc}.") from exc
