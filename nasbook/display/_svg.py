"""Inline SVG drawings of architectures (no JavaScript, no dependencies).

Every built-in space is drawn as an *arc diagram*: nodes on one horizontal line in topological
order, an edge between neighbours as a straight arrow and a longer edge as an arc. Nodes never sit
on an edge, so any DAG of these small sizes stays readable without a layout engine.

- GraphSpace (``{"link", "ops"}``): input, the four op nodes, output; leaves feed the output.
- CellSpace (``{"edges"}``): nodes ``0 .. n-1``, one labelled edge per op that is not ``"none"``,
  edges in lexicographic ``(i, j)`` order.

Arcs go above or below the line, whichever crosses fewer arcs already drawn there.
- ChainSpace (``{"layers"}``): input, one ``op / width`` box per layer, output.

The space kind is read from the spec's keys, since an :class:`Architecture` only knows its space id.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from nasbook.space import Architecture

NodeKind = Literal["io", "op", "point"]

_CHAR_W = 6.6  # width of one character of the 11px monospace font used in drawings
_FONT = 11
_BOX_H = 26
_POINT_R = 13
_MARGIN = 10
_LEVEL = 22  # vertical distance between arcs of consecutive spans


@dataclass(frozen=True)
class DiagramNode:
    label: str
    kind: NodeKind
    sub: str = ""  # muted suffix, e.g. a chain layer's " / 64"


@dataclass(frozen=True)
class DiagramEdge:
    src: int
    dst: int
    label: str = ""


@dataclass(frozen=True)
class Diagram:
    """What to draw: nodes in topological order and edges ``src < dst`` between them."""

    kind: str  # "graph", "cell" or "chain"
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]


def _spec_of(arch: Architecture | Mapping[str, Any]) -> Mapping[str, Any]:
    return arch if isinstance(arch, Mapping) else arch.spec


def _cell_n_nodes(n_edges: int) -> int | None:
    """``n`` with ``n (n - 1) / 2 == n_edges``, or None."""
    n = (1 + math.isqrt(1 + 8 * n_edges)) // 2
    return n if n >= 2 and n * (n - 1) // 2 == n_edges else None


def diagram(arch: Architecture | Mapping[str, Any]) -> Diagram | None:
    """The nodes and edges of ``arch`` (an Architecture or its spec), or None for an unknown spec."""
    spec = _spec_of(arch)
    keys = set(spec)
    try:
        if keys == {"link", "ops"}:
            link, ops = [int(v) for v in spec["link"]], [str(o) for o in spec["ops"]]
            if len(link) != len(ops) or any(not 0 <= p <= i for i, p in enumerate(link)):
                return None
            n = len(ops)
            nodes = (DiagramNode("input", "io"), *(DiagramNode(o, "op") for o in ops), DiagramNode("output", "io"))
            read = set(link)
            edges = [DiagramEdge(p, i + 1) for i, p in enumerate(link)]
            edges += [DiagramEdge(i, n + 1) for i in range(1, n + 1) if i not in read]
            return Diagram("graph", nodes, tuple(sorted(edges, key=lambda e: (e.src, e.dst))))
        if keys == {"edges"}:
            ops = [str(o) for o in spec["edges"]]
            m = _cell_n_nodes(len(ops))
            if m is None:
                return None
            pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
            labels = ["in" if k == 0 else "out" if k == m - 1 else str(k) for k in range(m)]
            cell_nodes = tuple(DiagramNode(lab, "point") for lab in labels)
            cell_edges = tuple(DiagramEdge(i, j, op) for (i, j), op in zip(pairs, ops) if op != "none")
            return Diagram("cell", cell_nodes, cell_edges)
        if keys == {"layers"}:
            layers = [(str(op), str(w)) for op, w in spec["layers"]]
            chain_nodes = (
                DiagramNode("input", "io"),
                *(DiagramNode(op, "op", f" / {w}") for op, w in layers),
                DiagramNode("output", "io"),
            )
            chain_edges = tuple(DiagramEdge(i, i + 1) for i in range(len(chain_nodes) - 1))
            return Diagram("chain", chain_nodes, chain_edges)
    except (TypeError, ValueError):
        return None
    return None


def op_labels(arch: Architecture | Mapping[str, Any]) -> list[str]:
    """Every op name a drawing of ``arch`` shows (node ops, non-``none`` edge ops, layer ops)."""
    d = diagram(arch)
    if d is None:
        return []
    if d.kind == "cell":
        return [e.label for e in d.edges]
    return [n.label for n in d.nodes if n.kind == "op"]


def drawing_text(arch: Architecture | Mapping[str, Any]) -> str:
    """A plain-text rendering of the drawing (what the text repr shows instead of the SVG)."""
    spec = _spec_of(arch)
    d = diagram(spec)
    if d is None:
        return "\n".join(f"{k}: {v!r}" for k, v in spec.items())
    if d.kind == "graph":
        names = ["input"] + [f"node {i}" for i in range(1, len(d.nodes) - 1)]
        lines = [f"node {e.dst} = {d.nodes[e.dst].label}({names[e.src]})" for e in d.edges if e.dst < len(d.nodes) - 1]
        leaves = [names[e.src] for e in d.edges if e.dst == len(d.nodes) - 1]
        lines.append("output = " + " + ".join(leaves))
        return "\n".join(lines)
    if d.kind == "cell":
        if not d.edges:
            return "(no edges)"
        return "\n".join(f"{d.nodes[e.src].label} -> {d.nodes[e.dst].label}  {e.label}" for e in d.edges)
    return " -> ".join(n.label + n.sub.replace(" / ", "/") for n in d.nodes)


# -- drawing --------------------------------------------------------------------------------------
def _node_width(node: DiagramNode) -> float:
    if node.kind == "point":
        return 2.0 * _POINT_R
    return max(44.0, (len(node.label) + len(node.sub)) * _CHAR_W + 16.0)


def _label_width(text: str) -> float:
    return len(text) * _CHAR_W + 8.0


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _crosses(a: DiagramEdge, b: DiagramEdge) -> bool:
    """Two arcs on the same side of the line cross iff their spans interleave."""
    return a.src < b.src < a.dst < b.dst or b.src < a.src < b.dst < a.dst


def _sides(edges: tuple[DiagramEdge, ...]) -> dict[tuple[int, int], int]:
    """Put each arc above (-1) or below (+1) the line, greedily avoiding crossings; neighbours: 0.

    Labels never collide whatever the sides: an arc's label sits at a height set by its span,
    and two arcs of one span are a node pitch apart.
    """
    placed: dict[int, list[DiagramEdge]] = {-1: [], 1: []}
    out: dict[tuple[int, int], int] = {}
    for e in sorted(edges, key=lambda e: (e.dst - e.src, e.src)):
        if e.dst - e.src == 1:
            out[(e.src, e.dst)] = 0
            continue
        cost = {s: (sum(_crosses(e, o) for o in placed[s]), len(placed[s]), s == 1) for s in (-1, 1)}
        best = min(cost, key=lambda s: cost[s])
        placed[best].append(e)
        out[(e.src, e.dst)] = best
    return out


def architecture_svg(
    arch: Architecture | Mapping[str, Any],
    *,
    scale: float = 1.0,
    title: str | None = None,
) -> str | None:
    """An inline ``<svg>`` drawing of ``arch`` with its op labels, or None for an unknown spec.

    Parameters
    ----------
    arch : Architecture or mapping
        An architecture of a built-in space, or its ``spec``.
    scale : float, default 1.0
        Multiplies the drawing's width and height (the ``viewBox`` is unchanged); CSS also caps
        the width at 100% of the output area.
    title : str, optional
        Tooltip / accessible name; defaults to the architecture id.

    Returns
    -------
    str or None
        Well-formed XML (every text escaped); ids are unique per call (``uuid4``).
    """
    d = diagram(arch)
    if d is None:
        return None
    if title is None and not isinstance(arch, Mapping):
        title = f"architecture {arch.id}"
    widths = [_node_width(n) for n in d.nodes]
    gap = 28.0
    if d.kind == "cell" and d.edges:
        # same-span arcs have their labels one node pitch apart: make the pitch fit the widest label
        gap = max(gap, max(_label_width(e.label) for e in d.edges) + 12.0)
    xs: list[float] = []  # node centres
    x = float(_MARGIN)
    for w in widths:
        xs.append(x + w / 2)
        x += w + gap
    width = x - gap + _MARGIN

    sides = _sides(d.edges)

    def side(e: DiagramEdge) -> int:  # -1 above the line, +1 below, 0 on it
        return sides[(e.src, e.dst)]

    def arc_height(e: DiagramEdge) -> float:
        return 14.0 + _LEVEL * (e.dst - e.src - 1)

    label_pad = 9.0 if d.kind == "cell" else 0.0
    above = max([arc_height(e) + label_pad for e in d.edges if side(e) < 0], default=0.0)
    below = max([arc_height(e) + label_pad for e in d.edges if side(e) > 0], default=0.0)
    half = _BOX_H / 2
    y0 = _MARGIN + above + half  # the line the nodes sit on
    height = y0 + half + below + _MARGIN

    uid = uuid.uuid4().hex[:12]
    marker = f"nb-arrow-{uid}"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nb-svg nb-svg-{d.kind}" role="img" '
        f'width="{_fmt(width * scale)}" height="{_fmt(height * scale)}" '
        f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
        f'font-size="{_FONT}">'
    ]
    if title:
        out.append(f"<title>{escape(str(title))}</title>")
    out.append(
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="nb-arrow" fill="#888"/></marker></defs>'
    )

    labels: list[str] = []
    for e in d.edges:
        s = side(e)
        x1, x2 = xs[e.src], xs[e.dst]
        if s == 0:
            r1 = _POINT_R if d.nodes[e.src].kind == "point" else widths[e.src] / 2
            r2 = _POINT_R if d.nodes[e.dst].kind == "point" else widths[e.dst] / 2
            path = f"M{_fmt(x1 + r1)},{_fmt(y0)} L{_fmt(x2 - r2 - 1)},{_fmt(y0)}"
            lx, ly = (x1 + r1 + x2 - r2) / 2, y0
        else:
            h = arc_height(e)
            start_y = y0 + s * (_POINT_R if d.nodes[e.src].kind == "point" else half)
            end_y = y0 + s * (_POINT_R if d.nodes[e.dst].kind == "point" else half)
            ax1, ax2 = x1 + 5, x2 - 5
            k = h / 0.75  # a cubic with both controls at height k peaks at 3/4 of k
            path = (
                f"M{_fmt(ax1)},{_fmt(start_y)} C{_fmt(ax1)},{_fmt(start_y + s * k)} "
                f"{_fmt(ax2)},{_fmt(end_y + s * k)} {_fmt(ax2)},{_fmt(end_y + s)}"
            )
            lx, ly = (ax1 + ax2) / 2, (start_y + end_y) / 2 + s * h
        out.append(
            f'<path d="{path}" class="nb-edge" fill="none" stroke="#888" stroke-width="1.3" marker-end="url(#{marker})"/>'
        )
        if e.label:
            lw = _label_width(e.label)
            labels.append(
                f'<g class="nb-edge-label"><rect x="{_fmt(lx - lw / 2)}" y="{_fmt(ly - 8)}" width="{_fmt(lw)}" height="15" '
                f'rx="3" class="nb-label-bg" fill="#fff" fill-opacity="0.9"/>'
                f'<text x="{_fmt(lx)}" y="{_fmt(ly + 4)}" text-anchor="middle" class="nb-op" fill="#222">'
                f"{escape(e.label)}</text></g>"
            )
    out.extend(labels)  # labels over every edge

    for node, cx, w in zip(d.nodes, xs, widths):
        if node.kind == "point":
            shape = f'<circle cx="{_fmt(cx)}" cy="{_fmt(y0)}" r="{_POINT_R}" class="nb-node nb-node-point" fill="#fff" stroke="#888"/>'
            text_cls = "nb-node-text"
        else:
            shape = (
                f'<rect x="{_fmt(cx - w / 2)}" y="{_fmt(y0 - half)}" width="{_fmt(w)}" height="{_BOX_H}" rx="4" '
                f'class="nb-node nb-node-{node.kind}" fill="{"#e8f0fe" if node.kind == "op" else "#f3f3f3"}" stroke="#888"/>'
            )
            text_cls = "nb-op" if node.kind == "op" else "nb-node-text"
        sub = f'<tspan class="nb-muted" fill="#666">{escape(node.sub)}</tspan>' if node.sub else ""
        out.append(
            f'<g class="nb-node-group">{shape}<text x="{_fmt(cx)}" y="{_fmt(y0 + 4)}" text-anchor="middle" '
            f'class="{text_cls}" fill="#222">{escape(node.label)}{sub}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)

