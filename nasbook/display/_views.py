"""Views (see ``_model``) of nasbook's objects, from in-memory attributes only.

Nothing here touches storage, dask or a benchmark table: a repr must be instant and must work on
a search that is running in another thread or whose database is gone.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasbook._options import OPTIONS
from nasbook.display._model import Badge, Cell, Drawing, Fields, Note, Pre, Section, Table, View, cap, fields
from nasbook.display._svg import architecture_svg, diagram, drawing_text

if TYPE_CHECKING:
    from nasbook.search import Search
    from nasbook.trial import Trial
    from nasbook.space import Architecture, SearchSpace

_MISSING = "-"
_REASON_CHARS = 80  # reasons longer than this are cut in tables (the trial's own repr shows all)
_REPR_CHARS = 240  # a strategy's, task's or space's repr beyond this is noise in an overview


# -- value formatting -------------------------------------------------------------------------------
def fmt_value(value: Any) -> str:
    """A short, stable text for a number or anything else (plain text, not escaped)."""
    if value is None:
        return _MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalars
        return fmt_value(value.item())
    if isinstance(value, str):
        return value
    return repr(value)


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return _MISSING
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return _MISSING
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _state(obj: Any) -> str:
    """The lower-case value of a state enum (or any object)."""
    value = getattr(obj, "value", obj)
    return str(value).lower()


def _short(text: str, n: int = _REASON_CHARS) -> str:
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= n else one_line[: n - 1] + "…"


def _max_rows() -> int:
    return int(OPTIONS["display_max_rows"])


def _mapping_rows(mapping: Mapping[str, Any], skip: Iterable[str] = ()) -> list[tuple[str, Cell]]:
    skipped = set(skip)
    return [(str(k), fmt_value(v)) for k, v in mapping.items() if k not in skipped]


def _drawing(arch: Architecture | None, scale: float = 1.0) -> Drawing:
    if arch is None:
        return Drawing(None, _MISSING)
    return Drawing(architecture_svg(arch, scale=scale), drawing_text(arch))


# -- Search -----------------------------------------------------------------------------------------
def _budget_used(search: Search, trials: Sequence[Trial]) -> str:
    budget = getattr(search, "budget", None)
    if budget is None:
        return _MISSING
    parts = []
    if getattr(budget, "trials", None) is not None:
        parts.append(f"{len(trials)} of {budget.trials} trials")
    if getattr(budget, "epochs", None) is not None:
        spent = getattr(search, "epochs_spent", None)
        if spent is None:
            spent = sum(t.epochs or 0 for t in trials)
        parts.append(f"{spent} of {budget.epochs} epochs")
    if getattr(budget, "seconds", None) is not None:
        elapsed = getattr(search, "elapsed_s", None)
        parts.append(f"{fmt_duration(elapsed)} of {budget.seconds:g} s" if elapsed is not None else f"{budget.seconds:g} s")
    return " / ".join(parts) if parts else str(budget)


def _state_counts(trials: Sequence[Trial]) -> str:
    counts = Counter(_state(t.state) for t in trials)
    order = ["complete", "queued", "running", "pruned", "failed", "diverged"]
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return f"{len(trials)}" + (": " + ", ".join(f"{counts[k]} {k}" for k in keys) if keys else "")


def _objective(search: Search) -> str:
    mode = getattr(search, "mode", None)
    metric = getattr(search, "metric", None)
    if metric is None:
        return _MISSING
    verb = {"max": "maximize", "min": "minimize"}.get(str(mode), str(mode))
    return f"{verb} {metric}"


def _storage_label(search: Search) -> str:
    storage = getattr(search, "storage", None)
    if storage is None:
        return _MISSING
    return str(getattr(storage, "label", None) or repr(storage))


def _running(search: Search) -> str:
    """``"2: #7 (epoch 3), #8"`` from the in-memory live view, if the search has one."""
    try:
        live = dict(getattr(search, "running", None) or {})
    except Exception:  # a live view must never break a repr
        return ""
    if not live:
        return ""
    items = []
    for number in sorted(live)[:10]:
        entry = live[number]
        epoch = entry[0] if isinstance(entry, tuple) and entry else None
        items.append(f"#{number}" + (f" (epoch {epoch})" if epoch is not None else ""))
    more = ", …" if len(live) > 10 else ""
    return f"{len(live)}: " + ", ".join(items) + more


def search_view(search: Search) -> View:
    """The repr of a :class:`~nasbook.Search`: overview, best trial, trials (capped)."""
    max_rows = _max_rows()
    trials = list(search.trials)
    best = search.best
    task = getattr(search, "task", None)
    overview = Fields(
        (
            ("strategy", _short(repr(getattr(search, "strategy", None)), _REPR_CHARS)),
            ("task", _short(repr(task), _REPR_CHARS) if task is not None else _MISSING),
            ("objective", _objective(search)),
            ("space", _short(repr(getattr(search, "space", None)), _REPR_CHARS)),
            ("storage", _storage_label(search)),
            ("seed", fmt_value(getattr(search, "seed", None))),
            ("budget", _budget_used(search, trials)),
            ("trials", _state_counts(trials)),
        )
    )
    executor = getattr(search, "executor", None)
    if executor is not None:  # the class only: an executor's repr may ask a dask scheduler
        overview = Fields(overview.rows + (("executor", type(executor).__name__),))
    running = _running(search)
    if running:
        overview = Fields(overview.rows + (("running now", running),))
    sections = [Section("Overview", (overview,))]

    if best is None:
        sections.append(Section("Best trial", (Note("No complete trial yet."),)))
    else:
        metric = getattr(search, "metric", None)
        rows: list[tuple[str, Cell]] = [
            ("trial", str(best.number)),
            ("value", fmt_value(best.value) + (f" ({metric})" if metric else "")),
            ("arch", best.arch.id),
        ]
        if best.epochs is not None:
            rows.append(("epochs", str(best.epochs)))
        rows += _mapping_rows(best.metrics)
        rows += _mapping_rows(best.attrs, skip=("traceback",))
        sections.append(Section("Best trial", (fields(rows, max_rows), _drawing(best.arch, scale=0.8))))

    if not trials:
        sections.append(Section("Trials", (Note("No trials yet."),), summary="0"))
    else:
        kept, n_more, split = cap(trials, max_rows)
        with_reason = any(t.reason for t in kept)  # no empty column for a search without failures
        table_rows: list[tuple[Cell, ...]] = []
        for t in kept:
            row: tuple[Cell, ...] = (
                str(t.number),
                Badge(_state(t.state)),
                t.arch.id,
                fmt_value(t.value),
                fmt_value(t.epochs),
                fmt_duration(t.duration_s),
            )
            table_rows.append(row + ((_short(t.reason) if t.reason else "",) if with_reason else ()))
        table = Table(
            columns=("#", "state", "arch", "value", "epochs", "duration") + (("reason",) if with_reason else ()),
            rows=tuple(table_rows),
            n_more=n_more,
            split=split,
            noun="trials",
            numeric=frozenset({0, 3, 4, 5}),
            wrap=frozenset({6}),
        )
        sections.append(Section("Trials", (table,), summary=str(len(trials))))
    return View(
        "Search",
        name=str(search.name),
        badge=_state(search.state),
        sections=tuple(sections),
        kind="search",
        quote_name=True,
    )


def _curves_table(curves: Mapping[str, Sequence[Any]], max_rows: int) -> Table:
    """One row per metric: epochs, first, last, min, max (the curve itself belongs in a plot)."""
    rows = []
    for name, values in curves.items():
        vals = [float(v) for v in values if v is not None]
        finite = [v for v in vals if v == v]
        rows.append(
            (
                str(name),
                str(len(vals)),
                fmt_value(vals[0] if vals else None),
                fmt_value(vals[-1] if vals else None),
                fmt_value(min(finite) if finite else None),
                fmt_value(max(finite) if finite else None),
            )
        )
    kept, n_more, split = cap(rows, max_rows)
    cells: tuple[tuple[Cell, ...], ...] = tuple(kept)
    return Table(("metric", "epochs", "first", "last", "min", "max"), cells, n_more, split, "metrics", frozenset({1, 2, 3, 4, 5}))


# -- Trial ------------------------------------------------------------------------------------------
def trial_view(trial: Trial) -> View:
    """The repr of a :class:`~nasbook.Trial`: overview, failure reason, architecture, metrics, attrs."""
    max_rows = _max_rows()
    overview = Fields(
        (
            ("value", fmt_value(trial.value)),
            ("arch", trial.arch.id),
            ("epochs", fmt_value(trial.epochs)),
            ("duration", fmt_duration(trial.duration_s)),
            ("started", fmt_time(getattr(trial, "started_at", None))),
            ("finished", fmt_time(getattr(trial, "finished_at", None))),
        )
    )
    sections = [Section("Overview", (overview,))]
    traceback = trial.attrs.get("traceback") if isinstance(trial.attrs, Mapping) else None
    if trial.reason:
        parts: tuple[Note | Pre, ...] = (Note(str(trial.reason), tone="error"),)
        if traceback:
            parts += (Pre(str(traceback)),)
        sections.append(Section("Failure", parts))
    sections.append(Section("Architecture", (_drawing(trial.arch),)))
    if trial.metrics:
        sections.append(Section("Metrics", (fields(_mapping_rows(trial.metrics), max_rows, "metrics"),)))
    curves = getattr(trial, "curves", None)
    if isinstance(curves, Mapping) and curves:
        table = _curves_table(curves, max_rows)
        sections.append(Section("Curves", (table,), summary=f"{max((len(v) for v in curves.values()), default=0)} epochs"))
    attrs = _mapping_rows(trial.attrs, skip=("traceback",))
    if attrs:
        sections.append(Section("Held-out attrs", (fields(attrs, max_rows, "attrs"),)))
    return View("Trial", name=str(trial.number), badge=_state(trial.state), sections=tuple(sections), kind="trial")


# -- Architecture -------------------------------------------------------------------------------------
def architecture_view(arch: Architecture, space: SearchSpace | None = None) -> View:
    """The repr of an :class:`~nasbook.space.Architecture`: its drawing and its spec."""
    d = diagram(arch)
    overview: list[tuple[str, Cell]] = [("id", arch.id), ("space", arch.space_id)]
    if space is not None:
        overview.append(("space class", repr(space)))
    if d is not None:
        n_ops = len([e for e in d.edges if e.label]) if d.kind == "cell" else len([n for n in d.nodes if n.kind == "op"])
        overview.append(("ops", str(n_ops)))
    spec = [(str(k), fmt_value(v)) for k, v in arch.spec.items()]
    return View(
        "Architecture",
        name=arch.id,
        sections=(
            Section("Overview", (Fields(tuple(overview)),)),
            Section("Drawing", (_drawing(arch),)),
            Section("Spec", (fields(spec, _max_rows(), "fields"),)),
        ),
        kind="architecture",
    )


# -- SearchSpace ------------------------------------------------------------------------------------
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


#: a parameter's repr longer than this is cut (a SubsetSpace's ``archs`` can be thousands of specs)
PARAM_CHARS = 160


def _param_repr(value: Any) -> str:
    """A parameter's repr, short: long lists say how many items they hold and show the first."""
    text = repr(value)
    if len(text) <= PARAM_CHARS:
        return text
    if isinstance(value, (list, tuple)) and value:
        first = repr(value[0])
        if len(first) > PARAM_CHARS // 2:
            first = first[: PARAM_CHARS // 2] + "…"
        return f"{len(value):,} items: [{first}, …]"
    return text[:PARAM_CHARS] + f"… ({len(text):,} characters)"


def _try(fn: Any) -> tuple[Any, str | None]:
    try:
        return fn(), None
    except Exception as exc:  # a repr must not raise: show why a part is missing instead
        return None, f"unavailable ({type(exc).__name__}: {exc})"


def space_view(space: SearchSpace) -> View:
    """The repr of a :class:`~nasbook.space.SearchSpace`: size, parameters, choices, an example."""
    import numpy as np

    max_rows = _max_rows()
    cardinality, card_err = _try(lambda: space.cardinality)
    overview = Fields(
        (
            ("space id", space.space_id),
            ("cardinality", card_err or f"{int(cardinality):,} architectures"),
        )
    )
    params = [(str(k), _param_repr(v)) for k, v in space.get_params().items()]
    sections = [Section("Overview", (overview,)), Section("Parameters", (fields(params, max_rows, "parameters"),))]
    choices = _space_choices(space)
    if choices:
        sections.append(Section("Choices", (Fields(tuple(choices)),)))
    example, ex_err = _try(lambda: space.sample(np.random.default_rng(0)))
    if ex_err is None:
        ex_parts: tuple[Fields | Drawing | Note, ...] = (Fields((("id", example.id),)), _drawing(example))
    else:
        ex_parts = (Note(ex_err),)
    sections.append(Section("Example architecture", ex_parts))
    return View(type(space).__name__, name=space.space_id, sections=tuple(sections), kind="space")


# -- anything with get_params (Predictor, KnowledgeBase, strategies) -------------------------------------
def object_view(obj: Any) -> View:
    """A generic repr: the class name and ``get_params()`` when the object has it."""
    sections: list[Section] = []
    get_params = getattr(obj, "get_params", None)
    if callable(get_params):
        params, err = _try(get_params)
        if err is None and isinstance(params, Mapping):
            rows = [(str(k), _param_repr(v)) for k, v in params.items()]
            sections.append(Section("Parameters", (fields(rows, _max_rows(), "parameters"),)))
    if not sections:
        sections.append(Section("Overview", (Note(repr(obj)),)))
    return View(type(obj).__name__, sections=tuple(sections), kind="object")


def view_of(obj: Any) -> View:
    """Dispatch on type: Search, Trial, Architecture, SearchSpace, else :func:`object_view`."""
    from nasbook.search._search import Search
    from nasbook.trial import Trial
    from nasbook.space._base import Architecture, SearchSpace

    if isinstance(obj, Search):
        return search_view(obj)
    if isinstance(obj, Trial):
        return trial_view(obj)
    if isinstance(obj, Architecture):
        return architecture_view(obj)
    if isinstance(obj, SearchSpace):
        return space_view(obj)
    if all(hasattr(obj, a) for a in ("number", "arch", "state", "value", "attrs")):  # FrozenTrial and friends
        return trial_view(obj)
    return object_view(obj)
