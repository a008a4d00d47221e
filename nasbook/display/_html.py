"""Pure HTML builders: a :class:`~nasbook.display._model.View` in, a string out (no JavaScript).

Every output is ``<style>`` + a plain-text ``<pre class="nb-fallback">`` + ``<div class="nb-wrap"
hidden>``. The stylesheet hides the fallback and reveals the rich view; where styles are stripped
(an untrusted notebook, GitHub's renderer) the text shows instead. Every user string goes through
:func:`html.escape`; ids come from :func:`uuid.uuid4` so several outputs on one page never clash.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from nasbook.display._model import (
    Badge,
    Cell,
    Drawing,
    Fields,
    Note,
    Part,
    Pre,
    RawHTML,
    Section,
    Table,
    View,
    cap,
    fields,
)
from nasbook.display._text import header_text, render_text
from nasbook.display._views import fmt_value, view_of
from nasbook.display._views import max_rows as _max_rows_option

#: Badge colours exist for these states (others get a neutral grey).
KNOWN_STATES: tuple[str, ...] = (
    "created",
    "queued",
    "running",
    "done",
    "interrupted",
    "complete",
    "failed",
    "diverged",
    "pruned",
)


@functools.cache
def css() -> str:
    """nasbook's stylesheet (``nasbook/display/static/nasbook.css``), read once per process.

    Returns
    -------
    str
        The CSS text.
    """
    return (importlib.resources.files("nasbook.display") / "static" / "nasbook.css").read_text(encoding="utf-8")


def _new_id() -> str:
    return f"nb-{uuid.uuid4().hex}"


_CLASS_SAFE = re.compile(r"[^a-z0-9_-]")


def badge_html(state: str) -> str:
    """A coloured state label, e.g. ``badge_html("done")``.

    Parameters
    ----------
    state : str
        The label (escaped); its lower-case letters, digits, ``_`` and ``-`` pick the CSS class.

    Returns
    -------
    str
        A ``<span class="nb-badge ...">`` element.
    """
    text = str(state)
    cls = _CLASS_SAFE.sub("", text.lower())
    return f'<span class="nb-badge nb-state-{cls or "other"}">{escape(text)}</span>'


def _cell(value: Cell) -> str:
    return badge_html(value.state) if isinstance(value, Badge) else escape(value)


def _more_html(n: int, noun: str) -> str:
    return f"… {n} more {escape(noun)}"


def _fields_html(part: Fields) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{_cell(v)}</dd>" for k, v in part.rows)
    if part.n_more:
        rows += f'<dt class="nb-more"></dt><dd class="nb-more">{_more_html(part.n_more, part.noun)}</dd>'
    return f'<dl class="nb-fields">{rows}</dl>'


def _table_html(part: Table) -> str:
    def cls(i: int) -> str:
        names = (["nb-num"] if i in part.numeric else []) + (["nb-text"] if i in part.wrap else [])
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f"<th{cls(i)}>{escape(c)}</th>" for i, c in enumerate(part.columns))
    more = (
        f'<tr class="nb-more"><td colspan="{len(part.columns)}">{_more_html(part.n_more, part.noun)}</td></tr>'
        if part.n_more
        else ""
    )
    body = []
    for k, row in enumerate(part.rows):
        if more and k == part.split:
            body.append(more)
        body.append("<tr>" + "".join(f"<td{cls(i)}>{_cell(v)}</td>" for i, v in enumerate(row)) + "</tr>")
    if more and part.split >= len(part.rows):
        body.append(more)
    return f'<table class="nb-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _part_html(part: Part) -> str:
    if isinstance(part, Fields):
        return _fields_html(part)
    if isinstance(part, Table):
        return _table_html(part)
    if isinstance(part, Drawing):
        if part.svg is None:
            return f'<pre class="nb-pre">{escape(part.text)}</pre>'
        return f'<div class="nb-drawing">{part.svg}</div>'
    if isinstance(part, Note):
        return f'<div class="nb-note nb-note-{part.tone}">{escape(part.text)}</div>'
    if isinstance(part, Pre):
        return f'<pre class="nb-pre">{escape(part.text)}</pre>'
    if isinstance(part, RawHTML):
        return part.html
    raise TypeError(f"unknown part {part!r}")  # pragma: no cover


def _section_html(section: Section) -> str:
    uid = _new_id()
    checked = " checked" if section.open else ""
    summary = f' <span class="nb-muted">({escape(section.summary)})</span>' if section.summary else ""
    body = "".join(_part_html(p) for p in section.parts)
    return (
        f'<div class="nb-section"><input type="checkbox" class="nb-toggle" id="{uid}"{checked}>'
        f'<label class="nb-section-title" for="{uid}">{escape(section.title)}{summary}</label>'
        f'<div class="nb-section-body">{body}</div></div>'
    )


def _header_html(view: View) -> str:
    parts = [f'<span class="nb-title">{escape(view.title)}</span>']
    if view.name:
        parts.append(f'<span class="nb-name">{escape(view.name)}</span>')
    if view.badge:
        parts.append(badge_html(view.badge))
    if view.subtitle:
        parts.append(f'<span class="nb-muted">{escape(view.subtitle)}</span>')
    return f'<div class="nb-header">{" ".join(parts)}</div>'


def document(body: str, text: str, kind: str = "object") -> str:
    """Wrap trusted ``body`` markup with the stylesheet and the escaped plain-text ``text`` fallback."""
    kind_cls = _CLASS_SAFE.sub("", kind.lower()) or "object"
    return (
        f"<style>{css()}</style>"
        f'<pre class="nb-fallback">{escape(text)}</pre>'
        f'<div class="nb-wrap" hidden style="display:none"><div class="nb-object nb-{kind_cls}">{body}</div></div>'
    )


def render_html(view: View, text: str | None = None) -> str:
    """The HTML of ``view``; ``text`` (default: ``render_text(view)``) is the fallback.

    Parameters
    ----------
    view : View
        The repr to render.
    text : str, optional
        The plain text shown where the stylesheet does not apply (an untrusted notebook, GitHub);
        None renders it from ``view``.

    Returns
    -------
    str
        Markup: the stylesheet, an escaped text fallback and the body (see :func:`render_html`).
    """
    if text is None:
        text = render_text(view)
    body = _header_html(view) + "".join(_section_html(s) for s in view.sections)
    return document(body, text, view.kind)


# -- public builders ---------------------------------------------------------------------------------
def search_html(search: Any) -> str:
    """HTML repr of a Search.

    It shows the overview (state badge, strategy, task, storage, seed, budget used), the best trial
    (value, arch, drawing, held-out attrs) and the trials table (capped at ``display_max_rows``).
    Reads in-memory attributes only.

    Parameters
    ----------
    search : Search
        The search.

    Returns
    -------
    str
        Markup: the stylesheet, an escaped text fallback and the body (see :func:`render_html`).
    """
    return render_html(view_of(search))


def trial_html(trial: Any) -> str:
    """HTML repr of a Trial: overview, failure reason (and traceback), drawing, metrics, attrs.

    Parameters
    ----------
    trial : Trial
        The trial.

    Returns
    -------
    str
        Markup: the stylesheet, an escaped text fallback and the body (see :func:`render_html`).
    """
    return render_html(view_of(trial))


def architecture_html(arch: Any, space: Any = None) -> str:
    """HTML repr of an Architecture: ids, an SVG drawing (by ``space``, default its own), the spec.

    Parameters
    ----------
    arch : Architecture
        The architecture.
    space : SearchSpace, optional
        The space that draws it; None uses its own space when that is in memory.

    Returns
    -------
    str
        Markup: the stylesheet, an escaped text fallback and the body (see :func:`render_html`).
    """
    return render_html(arch._view(space) if space is not None else view_of(arch))


def space_html(space: Any) -> str:
    """HTML repr of a SearchSpace: id, cardinality, parameters, choices and an example drawn.

    Parameters
    ----------
    space : SearchSpace
        The space.

    Returns
    -------
    str
        Markup: the stylesheet, an escaped text fallback and the body (see :func:`render_html`).
    """
    return render_html(view_of(space))


def fields_html(mapping: Mapping[str, Any], max_rows: int | None = None, noun: str = "entries") -> str:
    """Escaped ``name: value`` rows (values formatted like the reprs), capped at ``max_rows``.

    Parameters
    ----------
    mapping : Mapping of str to object
        The rows, in order; values go through :func:`fmt_value`.
    max_rows : int, optional
        The most rows shown (the first ones); None uses the ``display_max_rows`` option.
    noun : str, default "entries"
        What the left-out rows are called in the "... N more" line.

    Returns
    -------
    str
        The markup of the rows alone (no stylesheet), for a section body of :func:`object_html`.
    """
    rows: list[tuple[str, Cell]] = [(str(k), fmt_value(v)) for k, v in mapping.items()]
    return _fields_html(fields(rows, max_rows or _max_rows_option(), noun))


def table_html(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    max_rows: int | None = None,
    noun: str = "rows",
) -> str:
    """An escaped table; more than ``max_rows`` rows (default ``display_max_rows``) keep head and tail.

    Parameters
    ----------
    columns : sequence of str
        Column headers.
    rows : iterable of sequence
        One sequence of values per row; values go through :func:`fmt_value`.
    max_rows : int, optional
        The most rows shown; None uses the ``display_max_rows`` option.
    noun : str, default "rows"
        What the left-out rows are called.

    Returns
    -------
    str
        The table's markup alone, for a section body of :func:`object_html`.
    """
    all_rows = [tuple(fmt_value(v) for v in row) for row in rows]
    kept, n_more, split = cap(all_rows, max_rows or _max_rows_option())
    cols = tuple(str(c) for c in columns)
    return _table_html(Table(cols, tuple(kept), n_more, split, noun))


def object_html(
    title: str,
    sections: Sequence[tuple[str, str]],
    badge: str | None = None,
    *,
    name: str = "",
    text: str | None = None,
) -> str:
    """HTML repr of any object from titled sections of markup (for Predictor, KnowledgeBase, ...).

    Parameters
    ----------
    title : str
        The kind of object, e.g. ``"Predictor"`` (escaped).
    sections : list of (str, str)
        ``(section title, body markup)``. Titles are escaped; bodies are inserted as they are,
        so build them with :func:`fields_html`, :func:`table_html`, :func:`badge_html` or
        :func:`html.escape` -- never from raw user strings.
    badge : str, optional
        A state shown as a coloured label (``"fitted"``, ``"running"``, ...).
    name : str, optional
        Shown after the title (escaped).
    text : str, optional
        The plain-text fallback (use the object's ``text/plain``); default: the header and the
        section titles.

    Returns
    -------
    str
        Markup: the stylesheet, the escaped text fallback and the header and sections.

    Examples
    --------
    >>> html = object_html("Predictor", [("Parameters", fields_html({"model": "gp"}))], badge="fitted")
    >>> 'class="nb-fallback"' in html
    True
    """
    parts = tuple(Section(str(t), (RawHTML(body),)) for t, body in sections)
    view = View(str(title), name=str(name), badge=badge, sections=parts, kind=str(title))
    if text is None:
        text = "\n".join([header_text(view), *(s.title for s in parts)])
    return render_html(view, text)
