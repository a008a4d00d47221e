"""A small, renderer-neutral description of a repr: a header and titled sections of parts.

Every object's repr is built once as a :class:`View`; ``_text.render_text`` and
``_html.render_html`` turn the same view into text and HTML, so both list the same sections with
the same values. Parts hold *plain* strings (escaped by the HTML renderer), except
:class:`Drawing.svg` and :class:`RawHTML.html`, which are markup built by trusted code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Badge:
    """A coloured state label (``done``, ``failed``, ...)."""

    state: str


Cell = str | Badge


@dataclass(frozen=True)
class Fields:
    """``name: value`` rows; ``n_more`` rows were left out (summarised as "... N more <noun>")."""

    rows: tuple[tuple[str, Cell], ...]
    n_more: int = 0
    noun: str = "entries"


@dataclass(frozen=True)
class Table:
    """Rows under column headers; ``n_more`` rows were left out at position ``split``."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    n_more: int = 0
    split: int = 0
    noun: str = "rows"
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    wrap: frozenset[int] = frozenset()  # long-text columns (truncated in tables)


@dataclass(frozen=True)
class Drawing:
    """An architecture: ``svg`` markup for HTML (None if it cannot be drawn) and ``text`` for text."""

    svg: str | None
    text: str


@dataclass(frozen=True)
class Note:
    """A sentence: ``tone="error"`` for failure reasons."""

    text: str
    tone: Literal["muted", "error"] = "muted"


@dataclass(frozen=True)
class Pre:
    """Preformatted text (a traceback)."""

    text: str


@dataclass(frozen=True)
class RawHTML:
    """Markup from a caller of :func:`nasbook.display.object_html` (trusted), with a text form."""

    html: str
    text: str = ""


Part = Fields | Table | Drawing | Note | Pre | RawHTML


@dataclass(frozen=True)
class Section:
    title: str
    parts: tuple[Part, ...]
    summary: str = ""  # shown after the title, e.g. a count
    open: bool = True  # expanded by default (HTML)


@dataclass(frozen=True)
class View:
    """A whole repr: ``title`` (the kind of object), its ``name``, a state badge and sections."""

    title: str
    name: str = ""
    badge: str | None = None
    subtitle: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)
    kind: str = "object"  # css modifier: nb-<kind>
    quote_name: bool = False  # text shows repr(name) (user-chosen names)


def cap(rows: Sequence[T], max_rows: int) -> tuple[list[T], int, int]:
    """Keep at most ``max_rows`` rows, head and tail (like pandas); return (kept, n_left_out, split)."""
    n = len(rows)
    if n <= max_rows:
        return list(rows), 0, n
    head = math.ceil(max_rows / 2)
    tail = max_rows - head
    kept = list(rows[:head]) + (list(rows[n - tail :]) if tail else [])
    return kept, n - max_rows, head


def fields(rows: Sequence[tuple[str, Cell]], max_rows: int, noun: str = "entries") -> Fields:
    kept, n_more, _ = cap(rows, max_rows)
    if n_more:  # fields keep their head: the first entries are the important ones
        kept = list(rows[:max_rows])
    return Fields(tuple(kept), n_more, noun)
