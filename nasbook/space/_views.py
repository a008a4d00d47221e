"""Notebook views of :class:`Architecture` and :class:`SearchSpace` (rendered by :mod:`nasbook.display`).

An architecture is drawn by its space's :meth:`~SearchSpace.draw` hook: the space given, else the
space that made it (it keeps it), else a space in memory with its ``space_id``
(:func:`~nasbook.space._base.live_space`).
Without one, or when the hook returns None, the spec is shown as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nasbook.display import (
    Cell,
    Diagram,
    Fields,
    Note,
    Part,
    Section,
    View,
    attempt,
    drawing,
    fields,
    fmt_value,
    max_rows,
    param_repr,
)
from nasbook.space._base import Architecture, SearchSpace, live_space


def spec_text(arch: Architecture) -> str:
    """The spec, one ``key: value`` line per field (the drawing of an architecture nobody draws)."""
    return "\n".join(f"{k}: {v!r}" for k, v in arch.spec.items())


def diagram_of(arch: Architecture, space: SearchSpace | None = None) -> tuple[Diagram | None, str | None]:
    """``(diagram, None)`` from the space's :meth:`~SearchSpace.draw`, or ``(None, why not)`` if it failed."""
    if space is None:
        space = live_space(arch)
    if space is None:
        return None, None
    d, err = attempt(lambda: space.draw(arch))
    if err is not None:
        return None, f"drawing {err}"
    if d is not None and not isinstance(d, Diagram):
        return None, (
            f"drawing unavailable: {type(space).__name__}.draw() returned {type(d).__name__}, "
            "not a nasbook.display.Diagram or None"
        )
    return d, None


def _parts(arch: Architecture, d: Diagram | None, err: str | None, scale: float) -> tuple[Part, ...]:
    part = drawing(d, spec_text(arch), scale=scale, title=f"architecture {arch.id}")
    return (Note(err, tone="error"), part) if err else (part,)


def architecture_parts(arch: Architecture, space: SearchSpace | None = None, *, scale: float = 1.0) -> tuple[Part, ...]:
    """The drawing of ``arch`` as view parts (a note first when the space's ``draw`` failed).

    Parameters
    ----------
    arch : Architecture
        The architecture.
    space : SearchSpace, optional
        The space that draws it; None: the space that made it, else one in memory with its
        ``space_id``, if any.
    scale : float, default 1.0
        Size factor of the SVG.

    Returns
    -------
    tuple of Part
        A :class:`~nasbook.display.Drawing` (the spec as text when nothing draws it), after a
        :class:`~nasbook.display.Note` when ``draw`` raised.
    """
    return _parts(arch, *diagram_of(arch, space), scale)


def architecture_view(arch: Architecture, space: SearchSpace | None = None) -> View:
    """The repr of an :class:`Architecture`: ids, its drawing and its spec."""
    overview: list[tuple[str, Cell]] = [("id", arch.id), ("space", arch.space_id)]
    if space is not None:
        overview.append(("space class", repr(space)))
    d, err = diagram_of(arch, space)
    if d is not None:
        overview.append(("ops", str(d.n_ops)))
    spec = [(str(k), fmt_value(v)) for k, v in arch.spec.items()]
    return View(
        "Architecture",
        name=arch.id,
        sections=(
            Section("Overview", (Fields(tuple(overview)),)),
            Section("Drawing", _parts(arch, d, err, 1.0)),
            Section("Spec", (fields(spec, max_rows(), "fields"),)),
        ),
        kind="architecture",
    )


def _names(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _space_choices(space: SearchSpace) -> list[tuple[str, Cell]]:
    params = space.get_params()
    if hasattr(space, "layer_choices"):
        choices = list(space.layer_choices)
        return [
            ("layer ops", _names(_unique(op for op, _ in choices))),
            ("layer widths", _names(_unique(w for _, w in choices))),
            ("depth", f"{params.get('min_depth', '?')} to {params.get('max_depth', '?')} layers"),
        ]
    if hasattr(space, "n_edges"):
        return [
            ("edges", f"{space.n_edges} (a DAG over {params.get('n_nodes', '?')} nodes), one op each"),
            ("edge ops", _names(params.get("ops", ()))),
        ]
    if getattr(space, "name", "") == "graph":
        return [
            ("nodes", "4, each reads the input or one earlier node; unread nodes feed the output"),
            ("node ops", _names(params.get("ops", ()))),
        ]
    return []


def space_view(space: SearchSpace) -> View:
    """The repr of a :class:`SearchSpace`: size, parameters, choices, an example drawn."""
    rows = max_rows()
    cardinality, card_err = attempt(lambda: space.cardinality)
    overview = Fields(
        (
            ("space id", space.space_id),
            ("cardinality", card_err or f"{int(cardinality):,} architectures"),
        )
    )
    params = [(str(k), param_repr(v)) for k, v in space.get_params().items()]
    sections = [Section("Overview", (overview,)), Section("Parameters", (fields(params, rows, "parameters"),))]
    choices = _space_choices(space)
    if choices:
        sections.append(Section("Choices", (Fields(tuple(choices)),)))
    example, ex_err = attempt(lambda: space.sample(np.random.default_rng(0)))
    ex_parts: tuple[Part, ...]
    if ex_err is None:
        ex_parts = (Fields((("id", example.id),)), *architecture_parts(example, space))
    else:
        ex_parts = (Note(ex_err),)
    sections.append(Section("Example architecture", ex_parts))
    return View(type(space).__name__, name=space.space_id, sections=tuple(sections), kind="space")

