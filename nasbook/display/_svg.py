"""Inline SVG drawings of architectures (no JavaScript, no dependencies): the drawing primitives.

A space draws its architectures by returning a :class:`Diagram` from its
:meth:`~nasbook.space.SearchSpace.draw` hook; this module only lays a diagram out and renders it.
Nothing here knows any space: the built-in spaces build their diagrams themselves.

Every diagram is drawn as an *arc diagram*: nodes on one horizontal line in the order given
(which must be topological: every edge goes ``src < dst``), an edge between neighbours as a
straight arrow and a longer edge as an arc. Nodes never sit on an edge, so any DAG of these small
sizes stays readable without a layout engine. Arcs go above or below the line, whichever crosses
fewer arcs already drawn there. Edge labels (ops on edges, as in a cell) sit on their arcs.

Examples
--------
>>> d = Diagram((DiagramNode("input", "io"), DiagramNode("relu", "op"), DiagramNode("output", "io")),
...             (DiagramEdge(0, 1), DiagramEdge(1, 2)))
>>> diagram_text(d)
'input -> relu -> output'
>>> diagram_svg(d).startswith("<svg")
True
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Literal

from nasbook._errors import InvalidParameterError, check_type

NodeKind = Literal["io", "op", "point"]
NODE_KINDS: tuple[str, ...] = ("io", "op", "point")

_CHAR_W = 6.6  # width of one character of the 11px monospace font used in drawings
_FONT = 11
_BOX_H = 26
_POINT_R = 13
_MARGIN = 10
_LEVEL = 22  # vertical distance between arcs of consecutive spans


@dataclass(frozen=True)
class DiagramNode:
    """One node: ``label`` in a box (``"io"``: input/output, ``"op"``: an op) or a circle (``"point"``).

    Parameters
    ----------
    label : str
        The text in the box (escaped when drawn).
    kind : {"io", "op", "point"}, default "op"
        Input/output box, op box, or an unlabelled junction; another value raises an error.
    sub : str, default ""
        A muted suffix drawn after the label, e.g. a chain layer's ``" / 64"``.
    """

    label: str
    kind: NodeKind = "op"
    sub: str = ""

    def __post_init__(self) -> None:
        if self.kind not in NODE_KINDS:
            raise InvalidParameterError(
                f"DiagramNode(kind=...) must be one of {list(NODE_KINDS)}; got {self.kind!r}. "
                "Use 'io' for inputs/outputs, 'op' for an op box, 'point' for an unlabelled junction."
            )


@dataclass(frozen=True)
class DiagramEdge:
    """An arrow from node ``src`` to node ``dst`` (indices into :attr:`Diagram.nodes`, ``src < dst``).

    Parameters
    ----------
    src : int
        Index of the node the arrow leaves.
    dst : int
        Index of the node it enters, greater than ``src``.
    label : str, default ""
        An op on the edge (cell spaces put their ops on edges).
    """

    src: int
    dst: int
    label: str = ""  # an op on the edge (cells)


@dataclass(frozen=True)
class Diagram:
    """What to draw: nodes in topological order and edges ``src < dst`` between them.

    Parameters
    ----------
    nodes : tuple of DiagramNode
        In topological order (left to right).
    edges : tuple of DiagramEdge
        Each from an earlier node to a later one.
    text : str, optional
        The plain-text form (text/plain reprs). Default: ``"a -> b -> c"`` for a chain, else one
        ``"a -> b  label"`` line per edge (see :func:`diagram_text`).
    kind : str, default "dag"
        A CSS modifier (``nb-svg-<kind>``), e.g. the space's name.

    Raises
    ------
    InvalidParameterError
        When an edge does not go from an earlier node to a later one.
    """

    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...] = ()
    text: str | None = None
    kind: str = "dag"

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))
        n = len(self.nodes)
        if not n:
            raise InvalidParameterError("Diagram(nodes=...) needs at least one DiagramNode; got none.")
        for node in self.nodes:
            check_type("Diagram", "nodes", node, DiagramNode, "a sequence of DiagramNode")
        for e in self.edges:
            check_type("Diagram", "edges", e, DiagramEdge, "a sequence of DiagramEdge")
            if not (0 <= e.src < e.dst < n):
                raise InvalidParameterError(
                    f"Diagram(edges=...): edge {e.src} -> {e.dst} must go from an earlier node to a later one "
                    f"(0 <= src < dst < {n}, the number of nodes). List the nodes in topological order."
                )

    @property
    def n_ops(self) -> int:
        """Op boxes plus labelled edges: how many ops the drawing shows."""
        return sum(n.kind == "op" for n in self.nodes) + sum(bool(e.label) for e in self.edges)

    @property
    def op_labels(self) -> list[str]:
        """Every op the drawing shows: op nodes' labels, then edge labels."""
        return [n.label for n in self.nodes if n.kind == "op"] + [e.label for e in self.edges if e.label]


def diagram_text(d: Diagram) -> str:
    """The plain-text form of ``d``: its own ``text``, else a chain ``a -> b -> c`` or one line per edge.

    Parameters
    ----------
    d : Diagram
        The diagram.

    Returns
    -------
    str
        One line for a chain, else one ``src -> dst  op`` line per edge (``"(no edges)"`` without any).
    """
    if d.text is not None:
        return d.text
    names = [n.label + n.sub for n in d.nodes]
    is_chain = len(d.edges) == len(d.nodes) - 1 and all(
        (e.src, e.dst) == (i, i + 1) and not e.label for i, e in enumerate(d.edges)
    )
    if is_chain:
        return " -> ".join(names)
    if not d.edges:
        return "(no edges)"
    return "\n".join(f"{names[e.src]} -> {names[e.dst]}" + (f"  {e.label}" if e.label else "") for e in d.edges)


# -- drawing --------------------------------------------------------------------------------------
def _node_width(node: DiagramNode) -> float:
    if node.kind == "point":
        return 2.0 * _POINT_R
    return max(44.0, (len(node.label) + len(node.sub)) * _CHAR_W + 16.0)


def _label_width(text: str) -> float:
    return len(text) * _CHAR_W + 8.0


def _css_kind(kind: str) -> str:
    return "".join(c for c in str(kind).lower() if c.isalnum() or c in "-_") or "dag"


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


def diagram_svg(d: Diagram, *, scale: float = 1.0, title: str | None = None) -> str:
    """An inline ``<svg>`` drawing of ``d`` with its labels.

    Parameters
    ----------
    d : Diagram
        What to draw (from a space's :meth:`~nasbook.space.SearchSpace.draw`).
    scale : float, default 1.0
        Multiplies the drawing's width and height (the ``viewBox`` is unchanged); CSS also caps
        the width at 100% of the output area.
    title : str, optional
        Tooltip / accessible name, e.g. ``"architecture 1a2b3c"``.

    Returns
    -------
    str
        Well-formed XML (every label escaped); ids are unique per call (``uuid4``).
    """
    widths = [_node_width(n) for n in d.nodes]
    gap = 28.0
    labelled = [e for e in d.edges if e.label]
    if labelled:
        # same-span arcs have their labels one node pitch apart: make the pitch fit the widest label
        gap = max(gap, max(_label_width(e.label) for e in labelled) + 12.0)
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

    label_pad = 9.0 if labelled else 0.0
    above = max([arc_height(e) + label_pad for e in d.edges if side(e) < 0], default=0.0)
    below = max([arc_height(e) + label_pad for e in d.edges if side(e) > 0], default=0.0)
    half = _BOX_H / 2
    y0 = _MARGIN + above + half  # the line the nodes sit on
    height = y0 + half + below + _MARGIN

    uid = uuid.uuid4().hex[:12]
    marker = f"nb-arrow-{uid}"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nb-svg nb-svg-{_css_kind(d.kind)}" role="img" '
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



def scatter_svg(x: Sequence[float] | Any, y: Sequence[float] | Any, *, x_label: str = "", y_label: str = "", size: int = 180,
                max_points: int = 600, diagonal: bool = False) -> str:
    """A small static scatter plot (inline SVG) for reprs, e.g. a predictor's predicted vs true scores.

    Interactive plots are :mod:`nasbook.viz`'s. Axes span the data's range, with its min and max
    written at their ends; no JavaScript. Points with a non-finite coordinate are left out.

    Parameters
    ----------
    x : array-like of float
        Horizontal coordinates.
    y : array-like of float
        Vertical coordinates, aligned with ``x``.
    x_label : str, default ""
        Caption under the x axis (escaped).
    y_label : str, default ""
        Caption of the y axis (escaped).
    size : int, default 180
        Width and height of the SVG, in pixels.
    max_points : int, default 600
        The most points drawn; more are thinned evenly.
    diagonal : bool, default False
        Put both axes on one range and draw the line y = x (a perfect prediction).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    import numpy as np

    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    if len(xs) > max_points:
        keep = np.linspace(0, len(xs) - 1, max_points).astype(int)
        xs, ys = xs[keep], ys[keep]
    (x0, x1), (y0, y1) = ((float(v.min()), float(v.max())) if len(v) else (0.0, 1.0) for v in (xs, ys))
    if diagonal:
        x0 = y0 = min(x0, y0)
        x1 = y1 = max(x1, y1)
    left, top, w = 34.0, 8.0, float(size)
    a = w - 40.0  # the square plotting area; room left for the y ends, below for the x ends and label
    bottom = top + a

    def scale(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)

    px, py = left + scale(xs, x0, x1) * a, bottom - scale(ys, y0, y1) * a
    dots = "".join(f'<circle cx="{_fmt(p)}" cy="{_fmt(q)}" r="1.6"/>' for p, q in zip(px, py))
    line = (f'<line class="nb-diagonal" x1="{_fmt(left)}" y1="{_fmt(bottom)}" x2="{_fmt(left + a)}" y2="{_fmt(top)}" '
            f'stroke="#999" stroke-dasharray="3 2"><title>y = x</title></line>' if diagonal and x1 > x0 else "")
    tick = '<text class="nb-tick" x="{}" y="{}" font-size="8" fill="#666" text-anchor="{}">{}</text>'
    ticks = (tick.format(_fmt(left), _fmt(bottom + 10), "start", f"{x0:.3g}")
             + tick.format(_fmt(left + a), _fmt(bottom + 10), "end", f"{x1:.3g}")
             + tick.format(_fmt(left - 3), _fmt(bottom), "end", f"{y0:.3g}")
             + tick.format(_fmt(left - 3), _fmt(top + 7), "end", f"{y1:.3g}"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'class="nb-scatter" role="img" aria-label="{escape(y_label)} against {escape(x_label)}">'
        f'<rect x="{_fmt(left)}" y="{_fmt(top)}" width="{_fmt(a)}" height="{_fmt(a)}" fill="none" stroke="#999"/>'
        f'{line}<g fill="#3465a4" fill-opacity="0.55">{dots}</g>{ticks}'
        f'<text x="{_fmt(left + a / 2)}" y="{_fmt(w - 6)}" font-size="10" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="10" y="{_fmt(top + a / 2)}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 10 {_fmt(top + a / 2)})">{escape(y_label)}</text></svg>'
    )
