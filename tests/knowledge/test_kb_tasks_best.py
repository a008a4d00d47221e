"""``kb.tasks``' best per task read in one window statement for all tasks (the default off SQLite) equals the
one-query-per-task code before it (kept below as the reference), and both equal the top-fidelity rule applied
to ``kb.trials()`` in pandas: several tasks, min- and max-mode, multi-fidelity (ASHA-like) searches, ties
within and across searches (the trial written first wins), NaN and +-inf values, failed and pruned trials, a
task with nothing that counts; on SQLite and PostgreSQL (``url``)."""

import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from nasbook import KnowledgeBase
from nasbook.knowledge import _frames, top_fidelity
from nasbook.knowledge._frames import _counts, _task_rows, _typed
from nasbook.space import CellSpace, GraphSpace
from nasbook.storage import TABLES, TopFidelityBest, best_counted, top_fidelity_trials
from nasbook.trial import TrialState

_S, _T = TABLES["searches"], TABLES["trials"]
GRAPH, CELL = GraphSpace(), CellSpace(n_nodes=4)


def _old_best_per_task(kb, keys, modes):
    """``best_per_task`` as it was before (commit 054b5ff): one top-1 query per task."""
    out = {}
    for key in keys:
        rows = kb._rows(best_counted("min" if modes.get(key) == "min" else "max"), {"tk": key})
        if rows:  # (value, arch_id, search) then, since also its epochs
            out[key] = (float(rows[0][0]), str(rows[0][1]), str(rows[0][2]), None if rows[0][3] is None else int(rows[0][3]))
    return out


def _old_tasks_frame(kb):
    """``tasks_frame`` as it was before (commit 054b5ff), over ``_old_best_per_task``."""
    counts = _counts(kb, _S.c.task_key)
    tasks = _task_rows(kb)
    modes = {key: str(config.get("mode", "max")) for key, _, config, _, _ in tasks}
    best = _old_best_per_task(kb, list(modes), modes)
    out = []
    for key, name, config, meta, marks in tasks:
        n_s, n_t = counts.get(key, (0, 0))
        b = best.get(key)
        out.append({
            "task_key": key, "task": name, "class": config.get("class"), "n_searches": n_s, "n_trials": n_t,
            "best": b[0] if b else None, "best_arch_id": b[1] if b else None, "metric": config.get("metric"),
            "mode": config.get("mode", "max"), "meta_features": meta, "landmarks": marks,
        })
    cols = ["task_key", "task", "class", "n_searches", "n_trials", "best", "best_arch_id", "metric", "mode",
            "meta_features", "landmarks"]
    return _typed(pd.DataFrame(out, columns=cols).set_index("task_key"), "tasks")  # (no best_epochs then)


def _pool(space, n, seed):
    rng = np.random.default_rng(seed)
    return list({a.id: a for a in (space.sample(rng) for _ in range(4 * n))}.values())[:n]


def _random(archs, n, seed, *, fidelity=False):
    """Values rounded to 1 decimal (ties everywhere), ~10% failed and ~5% pruned (NaN), ~5% inf or -inf."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        u = rng.random()
        value = round(float(rng.uniform(0, 1)), 1)
        state = "failed" if u < 0.1 else "pruned" if u < 0.15 else "complete"
        if 0.15 <= u < 0.2:
            value = [math.inf, -math.inf][i % 2]
        row = {"arch": archs[int(rng.integers(len(archs)))], "value": math.nan if state != "complete" else value,
               "state": state, "number": i}
        if fidelity:
            row["epochs"] = int(rng.choice([1, 3, 9]))
        rows.append(row)
    return rows


@pytest.fixture
def kb(url):
    g, c = _pool(GRAPH, 30, 101), _pool(CELL, 20, 102)
    with KnowledgeBase(url) as kb:
        for i in range(12):  # 6 random tasks, two searches each; task r-2 and r-5 in min mode
            kb.ingest(_random(g if i % 3 else c, 60, 110 + i, fidelity=i % 4 == 1), task=f"r-{i % 6}",
                      space=GRAPH if i % 3 else CELL, name=f"rand-{i}", mode="min" if i % 6 in (2, 5) else None)
        # ASHA: the 0.99 at 1 epoch and the 0.95 at 3 must not count; the top rung's 0.7 ties a plain search's
        # 0.7 written later (the ASHA one was written first and wins), and a trial without epochs counts
        kb.ingest([{"arch": g[0], "epochs": 1, "value": 0.99}, {"arch": g[1], "epochs": 3, "value": 0.95},
                   {"arch": g[2], "epochs": 9, "value": 0.7}, {"arch": g[3], "epochs": 9, "value": 0.6},
                   {"arch": g[4], "epochs": 9, "value": math.inf}, {"arch": g[5], "value": 0.65}],
                  task="asha", space=GRAPH, name="asha")
        kb.ingest([{"arch": g[6], "value": 0.7}, {"arch": g[7], "value": 0.1}], task="asha", space=GRAPH,
                  name="asha-plain")
        # min mode: -inf and NaN do not count, a failed trial's value does not count, the tie goes to the first
        kb.ingest([{"arch": g[8], "value": -math.inf}, {"arch": g[9], "value": math.nan, "state": "pruned"},
                   {"arch": g[10], "value": 0.2}, {"arch": g[11], "value": 0.2},
                   {"arch": g[12], "value": 0.05, "state": "failed"}], task="min-ties", space=GRAPH,
                  name="min-ties", mode="min")
        # a later search's better value at the same value as an earlier one's: the earlier trial wins
        kb.ingest([{"arch": g[14], "value": 0.3}, {"arch": g[13], "value": 0.3}], task="min-ties", space=GRAPH,
                  name="min-ties-2", mode="min")
        # signed zeros tie: the first written wins in both modes
        kb.ingest([{"arch": g[15], "value": -0.0}, {"arch": g[16], "value": 0.0}], task="zeros", space=GRAPH,
                  name="zeros")
        kb.ingest([{"arch": g[17], "value": 0.0}, {"arch": g[18], "value": -0.0}], task="zeros-min", space=GRAPH,
                  name="zeros-min", mode="min")
        # nothing counts: only failed, inf and NaN
        kb.ingest([{"arch": g[19], "value": math.inf}, {"arch": g[22], "value": 0.4}, {"arch": g[20], "value": math.nan, "state": "pruned"},
                   {"arch": g[21], "value": 0.5, "state": "failed"}], task="none", space=GRAPH, name="none")
        # a complete trial whose value became NaN in the store (NULL on SQLite, NaN on PostgreSQL) never counts:
        # not the 0.4 of task "none", not the first 0.2 of "min-ties"
        conn = kb.storage.conn
        conn.execute(_T.update().where(_T.c.arch_id.in_([g[22].id, g[10].id])).values(value=math.nan))
        conn.commit()
        yield kb


def _modes(kb):
    return {key: str(config.get("mode", "max")) for key, _, config, _, _ in _task_rows(kb)}


@pytest.mark.parametrize("window", [True, False, None])
def test_best_per_task_equals_the_per_task_queries(kb, window):
    modes = _modes(kb)
    want = _old_best_per_task(kb, list(modes), modes)
    assert _frames.best_per_task(kb, list(modes), modes, window=window) == want
    # a subset of the tasks gets only those
    some = list(modes)[::3]
    assert _frames.best_per_task(kb, some, modes, window=window) == _old_best_per_task(kb, some, modes)


def test_kb_tasks_equals_the_old_frame(kb):
    pd.testing.assert_frame_equal(kb.tasks.drop(columns="best_epochs"), _old_tasks_frame(kb), check_exact=True)


def test_the_best_is_the_top_fidelity_rule_in_pandas(kb):
    """Against the rule on the raw trials: best value under the mode, ties to the trial written first."""
    modes = _modes(kb)
    best = _frames.best_per_task(kb, list(modes), modes, window=True)
    trials = kb.trials(states=None).reset_index(drop=True)  # oldest search first, in number order: write order
    counted = top_fidelity(trials)
    counted = counted[np.isfinite(counted["value"].astype(float)) & (counted["state"] == "complete")]
    for key, mode in modes.items():
        rows = counted[counted["task_key"] == key]
        if rows.empty:
            assert key not in best
            continue
        values = rows["value"].astype(float)
        top = values.min() if mode == "min" else values.max()
        first = rows[values == top].iloc[0]
        epochs = None if pd.isna(first["epochs"]) else int(first["epochs"])
        assert best[key] == (float(first["value"]), first["arch_id"], first["search"], epochs)
    keys = {name: key for key, name in kb.tasks["task"].items()}
    assert best[keys["asha"]] == (0.7, str(trials["arch_id"][(trials["search"] == "asha")].iloc[2]), "asha", 9)
    assert kb.tasks.loc[keys["asha"], "best_epochs"] == 9 and pd.isna(kb.tasks.loc[keys["zeros"], "best_epochs"])
    assert best[keys["min-ties"]][0] == 0.2 and best[keys["min-ties"]][2] == "min-ties"
    assert best[keys["zeros-min"]][0] == 0.0 and best[keys["zeros"]][0] == 0.0
    by_name = kb.tasks.set_index("task")
    assert pd.isna(by_name.loc["none", "best"]) and pd.isna(by_name.loc["none", "best_arch_id"])


def test_a_store_with_no_task_has_no_best(url):
    with KnowledgeBase(url) as kb:
        assert _frames.best_per_task(kb, [], {}, window=True) == {}
        assert kb.tasks.empty


def test_kb_searches_best_is_the_top_fidelity_rule_in_pandas_and_agrees_with_kb_tasks(kb):
    """``kb.searches``' best was the max (min) of every complete trial's value, every rung of a multi-fidelity
    search and +-inf included, while ``kb.tasks``' counts only the top rung: the two differed for one search.
    Now one rule, per search: its best (value, arch_id, epochs) is the top-fidelity rule applied to its trials."""
    searches = kb.searches.set_index("search")
    trials = kb.trials(states=None).reset_index(drop=True)
    counted = top_fidelity(trials)
    counted = counted[np.isfinite(counted["value"].astype(float)) & (counted["state"] == "complete")]
    for name, row in searches.iterrows():
        mine = counted[counted["search"] == name]
        if mine.empty:
            assert pd.isna(row["best"]) and pd.isna(row["best_arch_id"]) and pd.isna(row["best_epochs"]), name
            continue
        values = mine["value"].astype(float)
        first = mine[values == (values.min() if row["mode"] == "min" else values.max())].iloc[0]
        assert (row["best"], row["best_arch_id"]) == (first["value"], first["arch_id"]), name
        assert (pd.isna(row["best_epochs"]) and pd.isna(first["epochs"])) or row["best_epochs"] == first["epochs"], name
    # a task's best is the best of its searches' bests, from the search kb.tasks names
    modes = _modes(kb)
    for key, (value, arch_id, search, epochs) in _frames.best_per_task(kb, list(modes), modes).items():
        row = searches.loc[search]
        assert (row["best"], row["best_arch_id"]) == (value, arch_id)
        assert (pd.isna(row["best_epochs"]) and epochs is None) or row["best_epochs"] == epochs
        of_task = searches[searches["task_key"] == key]["best"]
        assert value == (of_task.min() if modes[key] == "min" else of_task.max())
    assert (searches.loc["asha", "best"], searches.loc["asha", "best_epochs"]) == (0.7, 9)  # not the 0.99 at 1 epoch
    assert pd.isna(searches.loc["none", "best"])  # inf, NaN and a failed trial's value: nothing counts
    assert searches.loc["min-ties", "best"] == 0.2


def test_a_search_without_a_task_has_its_own_best(url):
    """``kb.tasks``' rule needs a task and a space; a search's own best (``kb.searches``) needs neither."""
    with KnowledgeBase(url) as kb:
        sid = kb.storage.create_search("bare", {"name": "bare", "mode": "min"})
        conn = kb.storage.conn
        base = {"search_id": sid, "state": "complete", "arch": "{}", "metrics": "{}", "attrs": "{}", "curves": "{}",
                "lineage": "[]"}
        conn.execute(_T.insert(), [{**base, "number": n, "n_told_before": n, "arch_id": a, "value": v, "epochs": e}
                                   for n, (a, v, e) in enumerate([("a", 0.1, 1), ("b", 0.4, 3), ("c", 0.3, 3)])])
        conn.commit()
        row = kb.searches.set_index("search").loc["bare"]
        assert (row["best"], row["best_arch_id"], row["best_epochs"]) == (0.3, "c", 3) and pd.isna(row["task"])
        assert kb.tasks.empty


def _window_best_per_search(kb, modes):
    """``best_per_search`` as it was before (h-kbmisc, 44d3665): every search's counted trials ranked by a
    ``ROW_NUMBER`` window (value, then id), the first of each kept."""
    stmt = _frames._ranked_best(top_fidelity_trials(catalogued=False), "search_id")
    mins = [sid for sid, mode in modes.items() if mode == "min"]
    return {int(sid): (float(v), str(a), None if e is None else int(e))
            for sid, v, a, _, e in kb._rows(stmt, {"mins": mins})}


def test_best_per_search_in_two_group_bys_equals_the_window_ranking_and_the_in_memory_rule(kb):
    """The GROUP BY form (best value, then the first trial at it) gives the same (value, arch, epochs) as the
    window ranking it replaced, and as ``TopFidelityBest`` (``Search.best``'s rule) over the trials in id order."""
    modes = {r.id: str(r.config.get("mode", "max")) for r in kb.storage.list_searches()}
    got = _frames.best_per_search(kb, modes)
    assert got == _window_best_per_search(kb, modes) and len(got) == len(modes) - 1  # not "none"
    records = {r.id: r for r in kb.storage.list_searches()}
    for sid, mode in modes.items():
        rows = kb._rows(sa.select(_T.c.id, _T.c.state, _T.c.value, _T.c.epochs, _T.c.arch_id)
                        .where(_T.c.search_id == sid).order_by(_T.c.id))
        rule = TopFidelityBest(mode)
        for _, state, value, epochs, arch_id in rows:
            rule.add(_Row(TrialState(state), value, epochs, arch_id))
        want = None if rule.best is None else (rule.best.value, rule.best.arch_id, rule.best.epochs)
        assert got.get(sid) == want, records[sid].name
        assert records[sid].best_value == (None if want is None else want[0]), records[sid].name  # list_searches


def test_kb_searches_frame_is_the_window_rankings_frame(kb):
    """The frame itself: every search's best, best_arch_id and best_epochs are the window ranking's (h-kbmisc),
    and its best is ``list_searches``' best_value (``nasbook list``)."""
    records = kb.storage.list_searches()
    want = _window_best_per_search(kb, {r.id: str(r.config.get("mode", "max")) for r in records})
    frame = kb.searches.set_index("search")
    for rec in records:
        row, w = frame.loc[rec.name], want.get(rec.id)
        if w is None:
            assert pd.isna(row["best"]) and pd.isna(row["best_arch_id"]) and pd.isna(row["best_epochs"]), rec.name
            assert rec.best_value is None
            continue
        assert (row["best"], row["best_arch_id"]) == (w[0], w[1]) == (rec.best_value, w[1]), rec.name
        assert (pd.isna(row["best_epochs"]) and w[2] is None) or row["best_epochs"] == w[2], rec.name


class _Row:
    """The fields of a Trial that ``TopFidelityBest`` reads."""

    def __init__(self, state, value, epochs, arch_id):
        self.state, self.value, self.epochs, self.arch_id = state, value, epochs, arch_id
