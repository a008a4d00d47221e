"""Notebook views of :class:`~nasbook.Search` and :class:`~nasbook.Trial` (rendered by :mod:`nasbook.display`).

Built from in-memory attributes only: nothing here touches storage, dask or a benchmark table, so
a repr is instant and works on a search running in another thread or whose database is gone.
:func:`register_views` hands both views to :func:`nasbook.display.view_of` (``nasbook.search``
calls it on import), so ``nasbook.display.repr_mimebundle(trial)`` finds the trial's view
although the Trial class lives below this package.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasbook.display import (
    MISSING,
    Badge,
    Cell,
    Fields,
    Note,
    Pre,
    Section,
    Table,
    View,
    cap,
    fields,
    fmt_duration,
    fmt_state,
    fmt_time,
    fmt_value,
    mapping_rows,
    max_rows,
    short,
    view_of,
)
from nasbook.search._budget import queued_note
from nasbook.search._readonly import view_text
from nasbook.search._warm import describe as describe_warm
from nasbook.space import architecture_parts

if TYPE_CHECKING:
    from nasbook.search import Search, Trial

_REPR_CHARS = 240  # a strategy's, task's or space's repr beyond this is noise in an overview


# -- Search -----------------------------------------------------------------------------------------
def _state(search: Search) -> str:
    """The state to show: "running" from the moment ``start()`` returns (its thread sets the state a
    moment later, so a repr in the same cell said "created" under the live widget)."""
    thread = getattr(search, "_thread", None)
    if thread is not None and thread.is_alive():
        return "running"
    return fmt_state(search.state)


def _budget_used(search: Search, trials: Sequence[Trial]) -> str:
    budget = getattr(search, "budget", None)
    if budget is None:
        return MISSING
    parts = []
    if getattr(budget, "trials", None) is not None:
        parts.append(f"{len(trials)} of {budget.trials} trials")
    if getattr(budget, "epochs", None) is not None:
        spent = getattr(search, "epochs_spent", None)
        if spent is None:
            spent = sum(t.epochs or 0 for t in trials)
        parts.append(f"{spent} of {budget.epochs} epochs")
        queued = queued_note(search) if hasattr(search, "_requeue") else ""
        if queued:  # proposals the budget had no room for: run after extend()
            parts[-1] += f" ({queued})"
    if getattr(budget, "seconds", None) is not None:
        elapsed = getattr(search, "elapsed_s", None)
        parts.append(f"{fmt_duration(elapsed)} of {budget.seconds:g} s" if elapsed is not None else f"{budget.seconds:g} s")
    return " / ".join(parts) if parts else str(budget)


def _state_counts(trials: Sequence[Trial]) -> str:
    counts = Counter(fmt_state(t.state) for t in trials)
    order = ["complete", "queued", "running", "pruned", "failed", "diverged"]
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return f"{len(trials)}" + (": " + ", ".join(f"{counts[k]} {k}" for k in keys) if keys else "")


def _objective(search: Search) -> str:
    mode = getattr(search, "mode", None)
    metric = getattr(search, "metric", None)
    if metric is None:
        return MISSING
    verb = {"max": "maximize", "min": "minimize"}.get(str(mode), str(mode))
    return f"{verb} {metric}"


def _storage_label(search: Search) -> str:
    storage = getattr(search, "storage", None)
    if storage is None:
        return MISSING
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


def _strategy_text(search: Search) -> str:
    """The strategy's repr, saying where its seed comes from before it runs: an unseeded strategy
    shows ``seed=None`` until ``run`` seeds it from the search (a created or loaded search)."""
    strategy = getattr(search, "strategy", None)
    text = short(repr(strategy), _REPR_CHARS)
    seed = getattr(search, "seed", None)
    if (seed is not None and getattr(strategy, "seed", 0) is None and getattr(strategy, "seed_", None) is None
            and getattr(search, "resumable", True)):  # a read-only search never runs
        text += f"; run() seeds it with the search's seed {seed}"
    return text


def _names(names: Sequence[str], n: int = 4) -> str:
    """``"a, b, c, d (+2)"``: the first ``n`` names and how many more."""
    return ", ".join(names[:n]) + (f" (+{len(names) - n})" if len(names) > n else "")


def _warm_seeds(search: Search) -> list[tuple[Any, Mapping[str, Any]]]:
    seeds = getattr(search, "_warm", None) or []
    return [(arch, prov if isinstance(prov, Mapping) else {}) for arch, prov in seeds]


def _warm_text(seeds: Sequence[tuple[Any, Mapping[str, Any]]]) -> str:
    """``"3 architectures from 2 past tasks (nbg-cora, nbg-citeseer), searches e-cora, e-citeseer"``, or
    ``"3 architectures given"``: how many warm-start architectures and where they came from."""
    tasks: dict[str, None] = {}
    searches: dict[str, None] = {}
    sources: dict[str, None] = {}
    for _, prov in seeds:
        per_task = prov.get("tasks")
        if isinstance(per_task, Mapping) and per_task:
            for task, info in per_task.items():
                tasks[str(task)] = None
                found = info.get("searches") if isinstance(info, Mapping) else None
                for name in found if isinstance(found, (list, tuple)) else ():
                    searches[str(name)] = None
        else:
            sources[str(prov.get("source", "given"))] = None
    n = len(seeds)
    parts = [f"{n} architecture{'s' if n != 1 else ''}"]
    if tasks:
        parts.append(f"from {len(tasks)} past task{'s' if len(tasks) != 1 else ''} ({_names(sorted(tasks))})")
        if searches:
            parts[-1] += f", search{'es' if len(searches) != 1 else ''} {_names(sorted(searches))}"
    if sources:
        parts.append(("and " if tasks else "") + " / ".join(sources))
    return " ".join(parts)


def _warm_section(seeds: Sequence[tuple[Any, Mapping[str, Any]]], trials: Sequence[Trial],
                  rows_cap: int) -> Section:
    """One row per warm-start architecture: its rank, id, where it came from, its score there, the trial that ran it."""
    ran = {t.arch.id: t.number for t in trials}
    rows: list[tuple[Cell, ...]] = []
    for i, (arch, prov) in enumerate(seeds):
        score = prov.get("score")
        rows.append((str(prov.get("rank", i)), arch.id, describe_warm(prov),
                     fmt_value(score) if isinstance(score, (int, float)) else MISSING,
                     str(ran[arch.id]) if arch.id in ran else MISSING))
    kept, n_more, split = cap(rows, rows_cap)
    table = Table(("rank", "arch", "from", "score", "trial"), tuple(kept), n_more, split, "architectures",
                  frozenset({0, 3, 4}), wrap=frozenset({2}))
    return Section("Warm start", (table,), summary=str(len(seeds)))


#: the prefix of a run fingerprint's metrics (``nasbook.training.FINGERPRINT_KEYS``; not imported: Lightning)
_FINGERPRINT = "fp_"


def search_view(search: Search) -> View:
    """The repr of a :class:`~nasbook.Search`: overview, best trial, trials (capped)."""
    rows_cap = max_rows()
    trials = list(search.trials)
    best = search.best
    task = getattr(search, "task", None)
    overview = Fields(
        (
            ("strategy", _strategy_text(search)),
            ("task", short(repr(task), _REPR_CHARS) if task is not None else MISSING),
            ("objective", _objective(search)),
            ("space", short(repr(getattr(search, "space", None)), _REPR_CHARS)),
            ("storage", _storage_label(search)),
            ("seed", fmt_value(getattr(search, "seed", None))),
            ("budget", _budget_used(search, trials)),
            ("trials", _state_counts(trials)),
        )
    )
    executor = getattr(search, "executor", None)
    if executor is not None:  # the class only: an executor's repr may ask a dask scheduler
        overview = Fields(overview.rows + (("executor", type(executor).__name__),))
    seeds = _warm_seeds(search)
    if seeds:  # where the architectures it tried first came from (Search(kb=..., warm_start=...))
        tried = sum(1 for t in trials if "warm_start_rank" in t.attrs)
        text = _warm_text(seeds) + (f"; {tried} of them tried" if tried < len(seeds) else "")
        overview = Fields(overview.rows + (("warm start", text),))
    running = _running(search)
    if running:
        overview = Fields(overview.rows + (("running now", running),))
    read_only = view_text(search)
    if read_only:  # loaded without its strategy (search._readonly): say so first, with how to resume it
        overview = Fields((("read-only", read_only),) + overview.rows)
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
        # what a reader looks for first: the other metrics, then the held-out scores, size and FLOPs (attrs);
        # a training run's fingerprint (fp_*, ten numbers for predictors) last, where the row cap folds it away
        # (it came first and pushed flops into "… 5 more entries"); the objective is the value row already
        metrics = {k: v for k, v in best.metrics.items() if not (k == metric and v == best.value)}
        rows += mapping_rows({k: v for k, v in metrics.items() if not str(k).startswith(_FINGERPRINT)})
        rows += mapping_rows(best.attrs, skip=("traceback",))
        rows += mapping_rows({k: v for k, v in metrics.items() if str(k).startswith(_FINGERPRINT)})
        drawn = architecture_parts(best.arch, getattr(search, "space", None), scale=0.8)
        sections.append(Section("Best trial", (fields(rows, rows_cap), *drawn)))

    if seeds:
        sections.append(_warm_section(seeds, trials, rows_cap))

    if not trials:
        sections.append(Section("Trials", (Note("No trials yet."),), summary="0"))
    else:
        kept, n_more, split = cap(trials, rows_cap)
        with_reason = any(t.reason for t in kept)  # no empty column for a search without failures
        with_warm = any("warm_start_from" in t.attrs for t in kept)  # nor one for a search without warm start
        table_rows: list[tuple[Cell, ...]] = []
        for t in kept:
            row: tuple[Cell, ...] = (
                str(t.number),
                Badge(fmt_state(t.state)),
                t.arch.id,
                fmt_value(t.value),
                fmt_value(t.epochs),
                fmt_duration(t.duration_s),
            )
            if with_warm:
                row += (short(str(t.attrs["warm_start_from"])) if "warm_start_from" in t.attrs else "",)
            table_rows.append(row + ((short(t.reason) if t.reason else "",) if with_reason else ()))
        columns: tuple[str, ...] = ("#", "state", "arch", "value", "epochs", "duration")
        columns += (("warm start from",) if with_warm else ()) + (("reason",) if with_reason else ())
        table = Table(
            columns=columns,
            rows=tuple(table_rows),
            n_more=n_more,
            split=split,
            noun="trials",
            numeric=frozenset({0, 3, 4, 5}),
            wrap=frozenset(range(6, len(columns))),
        )
        sections.append(Section("Trials", (table,), summary=str(len(trials))))
    return View(
        "Search",
        name=str(search.name),
        badge=_state(search),
        subtitle="closed" if getattr(search, "_closed", False) else "",  # close() released it; run() reopens it
        sections=tuple(sections),
        kind="search",
        quote_name=True,
    )


def _curves_table(curves: Mapping[str, Sequence[Any]], n_rows: int) -> Table:
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
    kept, n_more, split = cap(rows, n_rows)
    cells: tuple[tuple[Cell, ...], ...] = tuple(kept)
    return Table(("metric", "epochs", "first", "last", "min", "max"), cells, n_more, split, "metrics", frozenset({1, 2, 3, 4, 5}))


# -- Trial ------------------------------------------------------------------------------------------
def trial_view(trial: Trial) -> View:
    """The repr of a :class:`~nasbook.Trial`: overview, failure reason, architecture, metrics, attrs."""
    rows_cap = max_rows()
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
    sections.append(Section("Architecture", architecture_parts(trial.arch)))
    if trial.metrics:
        sections.append(Section("Metrics", (fields(mapping_rows(trial.metrics), rows_cap, "metrics"),)))
    curves = getattr(trial, "curves", None)
    if isinstance(curves, Mapping) and curves:
        table = _curves_table(curves, rows_cap)
        sections.append(Section("Curves", (table,), summary=f"{max((len(v) for v in curves.values()), default=0)} epochs"))
    predicted = {k: v for k, v in trial.attrs.items() if k.startswith("predicted_") or k == "stopped_by_prediction"}
    if predicted:  # a stopping rule's last prediction while the trial ran (CurveStopping)
        sections.append(Section("Curve prediction", (fields(mapping_rows(predicted), rows_cap, "prediction"),)))
    attrs = mapping_rows(trial.attrs, skip=("traceback", *predicted))
    if attrs:
        sections.append(Section("Held-out attrs", (fields(attrs, rows_cap, "attrs"),)))
    return View("Trial", name=str(trial.number), badge=fmt_state(trial.state), sections=tuple(sections), kind="trial")


def register_views(search_cls: type[Search], trial_cls: type[Trial]) -> None:
    """Make :func:`nasbook.display.view_of` (and so every repr) use these views for Search and Trial."""
    view_of.register(search_cls, search_view)
    view_of.register(trial_cls, trial_view)
