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
    """A coloured state label (``done``, ``failed``, ...).

    Parameters
    ----------
    state : str
        The label shown; its CSS class is ``nb-badge-<state>`` (colours for pending, running,
        done, failed and the other trial states).
    """

    state: str


Cell = str | Badge


@dataclass(frozen=True)
class Fields:
    """``name: value`` rows; ``n_more`` rows were left out (summarised as "... N more <noun>").

    Parameters
    ----------
    rows : tuple of (str, Cell)
        ``(name, value)`` pairs, shown in order; a value is a plain string or a :class:`Badge`.
    n_more : int, default 0
        Rows left out after these.
    noun : str, default "entries"
        What the left-out rows are called in the summary line.
    """

    rows: tuple[tuple[str, Cell], ...]
    n_more: int = 0
    noun: str = "entries"


@dataclass(frozen=True)
class Table:
    """Rows under column headers; ``n_more`` rows were left out at position ``split``.

    Parameters
    ----------
    columns : tuple of str
        Column headers.
    rows : tuple of tuple of Cell
        One tuple of cells (plain strings or :class:`Badge`) per row, one cell per column.
    n_more : int, default 0
        Rows left out (see :func:`cap`).
    split : int, default 0
        Index in ``rows`` where the "... N more" line goes (after the head rows).
    noun : str, default "rows"
        What the left-out rows are called.
    numeric : frozenset of int, default frozenset()
        Indices of right-aligned (numeric) columns.
    wrap : frozenset of int, default frozenset()
        Indices of long-text columns, truncated in tables.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    n_more: int = 0
    split: int = 0
    noun: str = "rows"
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    wrap: frozenset[int] = frozenset()  # long-text columns (truncated in tables)


@dataclass(frozen=True)
class Drawing:
    """An architecture: ``svg`` markup for HTML (None if it cannot be drawn) and ``text`` for text.

    Parameters
    ----------
    svg : str or None
        Inline SVG markup built by trusted code (not escaped); None shows ``text`` in HTML too.
    text : str
        The drawing as plain text.
    """

    svg: str | None
    text: str


@dataclass(frozen=True)
class Note:
    """A sentence: ``tone="error"`` for failure reasons.

    Parameters
    ----------
    text : str
        The sentence (plain text, escaped in HTML).
    tone : {"muted", "error"}, default "muted"
        Grey, or the error colour.
    """

    text: str
    tone: Literal["muted", "error"] = "muted"


@dataclass(frozen=True)
class Pre:
    """Preformatted text (a traceback).

    Parameters
    ----------
    text : str
        Shown as is, in a monospace block (escaped in HTML).
    """

    text: str


@dataclass(frozen=True)
class RawHTML:
    """Markup from a caller of :func:`nasbook.display.object_html` (trusted), with a text form.

    Parameters
    ----------
    html : str
        Markup inserted as is: pass only markup your own code built.
    text : str, default ""
        What the text repr shows instead.
    """

    html: str
    text: str = ""


Part = Fields | Table | Drawing | Note | Pre | RawHTML


@dataclass(frozen=True)
class Section:
    """A titled group of parts in a repr (collapsible in HTML).

    Parameters
    ----------
    title : str
        The section's heading.
    parts : tuple of Part
        :class:`Fields`, :class:`Table`, :class:`Drawing`, :class:`Note`, :class:`Pre` or
        :class:`RawHTML`, shown in order.
    summary : str, default ""
        Shown after the title, e.g. a count.
    open : bool, default True
        Whether the HTML section starts expanded.
    """
    title: str
    parts: tuple[Part, ...]
    summary: str = ""  # shown after the title, e.g. a count
    open: bool = True  # expanded by default (HTML)


@dataclass(frozen=True)
class View:
    """A whole repr: ``title`` (the kind of object), its ``name``, a state badge and sections.

    Parameters
    ----------
    title : str
        The kind of object (``"Search"``, ``"Trial"``).
    name : str, default ""
        The object's name.
    badge : str, optional
        A state shown as a :class:`Badge`; None shows none.
    subtitle : str, default ""
        One line under the header.
    sections : tuple of Section, default ()
        The body, in order.
    kind : str, default "object"
        CSS modifier: the wrapper gets class ``nb-<kind>``.
    quote_name : bool, default False
        The text repr shows ``repr(name)`` (for user-chosen names).
    """

    title: str
    name: str = ""
    badge: str | None = None
    subtitle: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)
    kind: str = "object"  # css modifier: nb-<kind>
    quote_name: bool = False  # text shows repr(name) (user-chosen names)


def cap(rows: Sequence[T], max_rows: int) -> tuple[list[T], int, int]:
    """Keep at most ``max_rows`` rows, head and tail (like pandas).

    Parameters
    ----------
    rows : sequence
        The rows.
    max_rows : int
        The most rows to keep: the first ``ceil(max_rows / 2)`` and the rest from the end.

    Returns
    -------
    kept : list
        The rows kept, in order.
    n_left_out : int
        ``len(rows) - len(kept)``.
    split : int
        Index in ``kept`` where the left-out rows were (``len(rows)`` when none were).
    """
    n = len(rows)
    if n <= max_rows:
        return list(rows), 0, n
    head = math.ceil(max_rows / 2)
    tail = max_rows - head
    kept = list(rows[:head]) + (list(rows[n - tail :]) if tail else [])
    return kept, n - max_rows, head


def fields(rows: Sequence[tuple[str, Cell]], max_rows: int, noun: str = "entries") -> Fields:
    """A :class:`Fields` part of at most ``max_rows`` rows, keeping the first ones.

    Parameters
    ----------
    rows : sequence of (str, Cell)
        ``(name, value)`` pairs, most important first.
    max_rows : int
        The most rows shown; the rest are counted in ``n_more``.
    noun : str, default "entries"
        What the left-out rows are called.

    Returns
    -------
    Fields
        The part.
    """
    kept, n_more, _ = cap(rows, max_rows)
    if n_more:  # fields keep their head: the first entries are the important ones
        kept = list(rows[:max_rows])
    return Fields(tuple(kept), n_more, noun)
