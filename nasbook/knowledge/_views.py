"""The notebook view of a :class:`~nasbook.knowledge.KnowledgeBase`: counts per task and per space, the best per task.

Unlike a Search (whose repr shows in-memory state), a knowledge base *is* its store, so its view
runs a few aggregate queries (one per task for its best trial); an unreachable store shows as a
note instead of raising in the notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nasbook.display import Fields, Note, Section, Table, View, attempt, cap, fmt_value, max_rows

if TYPE_CHECKING:
    from nasbook.knowledge._kb import KnowledgeBase


def _n(x: Any) -> str:
    return f"{int(x):,}"


def _count(n: Any, word: str, plural: str | None = None) -> str:
    """``1 task``, ``2 tasks``, ``1 search``, ``3 searches``."""
    return f"{_n(n)} {word if int(n) == 1 else plural or word + 's'}"


def kb_summary(kb: KnowledgeBase) -> str:
    def count() -> str:
        tasks, spaces = kb.tasks, kb.spaces
        n_searches = tasks["n_searches"].sum() if len(tasks) else 0
        n_trials = tasks["n_trials"].sum() if len(tasks) else 0
        return (f"{_count(len(tasks), 'task')}, {_count(len(spaces), 'space')}, {_count(n_searches, 'search', 'searches')}, "
                f"{_n(n_trials)} complete trial{'' if int(n_trials) == 1 else 's'}")

    text, error = attempt(count)
    return text if error is None else str(error)


def kb_view(kb: KnowledgeBase) -> View:
    frames, error = attempt(lambda: (kb.tasks, kb.spaces))
    if error is not None:
        return View("KnowledgeBase", name=kb.label, sections=(Section("Store", (Note(f"cannot be read: {error}", "error"),)),),
                    kind="kb")
    tasks, spaces = frames
    n_trials = int(tasks["n_trials"].sum()) if len(tasks) else 0
    n_searches = int(spaces["n_searches"].sum()) if len(spaces) else 0
    overview = Fields((("store", kb.label), ("tasks", _n(len(tasks))), ("spaces", _n(len(spaces))),
                       ("searches", _n(n_searches)), ("complete trials", _n(n_trials))))
    sections = [Section("Overview", (overview,))]
    limit = max_rows()
    if len(tasks):
        rows = []
        for _, t in tasks.iterrows():
            objective = f"{'max' if t['mode'] == 'max' else 'min'} {t['metric'] or 'value'}"
            meta = "yes" if t["meta_features"] else "-"
            rows.append((str(t["task"]), _n(t["n_searches"]), _n(t["n_trials"]), fmt_value(t["best"]),
                         str(t["best_arch_id"] or "-"), objective, meta))
        kept, n_more, split = cap(rows, limit)
        sections.append(Section("Tasks", (Table(
            ("task", "searches", "trials", "best", "best arch", "objective", "meta-features"), tuple(kept), n_more, split,
            "tasks", frozenset({1, 2, 3})),), summary=str(len(tasks))))
    else:
        sections.append(Section("Tasks", (Note("none yet: run Search(..., kb=kb) or kb.ingest(...)"),)))
    if len(spaces):
        space_rows = [(str(sid), str(s["class"] or "-"), _n(s["n_searches"]), _n(s["n_trials"])) for sid, s in spaces.iterrows()]
        kept2, n_more, split = cap(space_rows, limit)
        sections.append(Section("Spaces", (Table(("space", "class", "searches", "trials"), tuple(kept2), n_more, split,
                                                 "spaces", frozenset({2, 3})),), summary=str(len(spaces))))
    subtitle = f"{_count(len(tasks), 'task')} · {_count(len(spaces), 'space')} · {_count(n_trials, 'trial')}"
    return View("KnowledgeBase", name=kb.label, subtitle=subtitle, sections=tuple(sections), kind="kb")
