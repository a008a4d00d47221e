"""Plain-text rendering of a :class:`~nasbook.display._model.View` (text/plain and the HTML fallback)."""

from __future__ import annotations

import re
from typing import Any

from nasbook.display._model import Badge, Cell, Drawing, Fields, Note, Part, Pre, RawHTML, Table, View

_INDENT = "  "


def _cell(value: Cell) -> str:
    return value.state if isinstance(value, Badge) else value


def _more(n: int, noun: str) -> str:
    return f"… {n} more {noun}"


def _fields(part: Fields) -> list[str]:
    if not part.rows:
        return []
    width = max(len(k) for k, _ in part.rows)
    lines = []
    for key, value in part.rows:
        first, *rest = _cell(value).splitlines() or [""]
        lines.append(f"{key.ljust(width)}  {first}".rstrip())
        lines.extend(" " * (width + 2) + line for line in rest)
    if part.n_more:
        lines.append(_more(part.n_more, part.noun))
    return lines


def _table(part: Table) -> list[str]:
    cells = [[" ".join(_cell(c).split()) for c in row] for row in part.rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(part.columns)]

    def line(row: list[str] | tuple[str, ...]) -> str:
        out = [
            (v.rjust(widths[i]) if i in part.numeric else v.ljust(widths[i])) for i, v in enumerate(row)
        ]
        return "  ".join(out).rstrip()

    lines = [line(part.columns)]
    for k, row in enumerate(cells):
        if part.n_more and k == part.split:
            lines.append(_more(part.n_more, part.noun))
        lines.append(line(row))
    if part.n_more and part.split >= len(cells):
        lines.append(_more(part.n_more, part.noun))
    return lines


_TAG = re.compile(r"<[^>]*>")


def _part(part: Part) -> list[str]:
    if isinstance(part, Fields):
        return _fields(part)
    if isinstance(part, Table):
        return _table(part)
    if isinstance(part, Drawing):
        return part.text.splitlines()
    if isinstance(part, Note):
        return part.text.splitlines() or [""]
    if isinstance(part, Pre):
        return part.text.rstrip("\n").splitlines()
    if isinstance(part, RawHTML):
        text: Any = part.text or _TAG.sub("", part.html)
        return str(text).splitlines()
    raise TypeError(f"unknown part {part!r}")  # pragma: no cover


def header_text(view: View) -> str:
    name = repr(view.name) if view.quote_name else view.name
    out = view.title + (f" {name}" if name else "")
    if view.badge:
        out += f" [{view.badge}]"
    if view.subtitle:
        out += f"  {view.subtitle}"
    return out


def render_text(view: View) -> str:
    """Header line, then each section's title and its indented parts.

    Parameters
    ----------
    view : View
        The repr to render.

    Returns
    -------
    str
        The ``text/plain`` repr; it lists the same sections as :func:`render_html`.
    """
    lines = [header_text(view)]
    for section in view.sections:
        lines.append(section.title + (f" ({section.summary})" if section.summary else ""))
        for k, part in enumerate(section.parts):
            body = _part(part)
            if isinstance(part, Drawing) and k > 0:  # say what the lines under other parts are
                body = ["drawing:"] + [_INDENT + line for line in body]
            lines.extend(_INDENT + line if line else "" for line in body)
    return "\n".join(lines)
