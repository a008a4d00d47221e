"""Warm starts from a knowledge base holding multi-fidelity (ASHA-style) searches take the fast path (no trial
read) and answer exactly what select_warm_start over kb.trials() answers, also when a search's top rung rises."""

import dataclasses

import numpy as np
import pytest

import nasbook
from nasbook.knowledge import select_warm_start
from nasbook.space import GraphSpace
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace()


def _archs(n, seed=100):
    rng = np.random.default_rng(seed)
    return list({a.id: a for a in (SPACE.sample(rng) for _ in range(4 * n))}.values())[:n]


def _asha(archs, rng, rungs=(1, 3, 9), eta=3):
    """An ASHA-style record: every architecture at the lowest rung, the best 1/eta promoted to the next,
    rung values drawn afresh (3 decimals: ties), a lucky early value now and then."""
    rows, alive = [], list(archs)
    for r in rungs:
        vals = np.round(rng.random(len(alive)), 3)
        rows += [{"arch": a, "epochs": r, "value": float(v)} for a, v in zip(alive, vals)]
        keep = np.argsort(-vals, kind="stable")[:max(1, len(alive) // eta)]
        alive = [alive[i] for i in sorted(keep)]
    return rows


def _plain(archs, rng, n, epochs=None):
    picks = rng.integers(0, len(archs), n)
    return [{"arch": archs[i], "value": float(v), **({"epochs": epochs} if epochs else {})}
            for i, v in zip(picks, np.round(rng.random(n), 3))]


def _same(kb, **kw):
    """kb.warm_start without reading a trial equals select_warm_start over kb.trials()."""
    want = select_warm_start(kb.trials(), SPACE, **kw)
    trials = kb.trials
    kb.trials = lambda *a, **k: pytest.fail("the stored path should answer without reading the trials")
    try:
        got = kb.warm_start(SPACE, **kw)
    finally:
        kb.trials = trials
    assert [(a.id, p) for a, p in got] == [(a.id, p) for a, p in want]
    return got


KWS = ({"n": 10}, {"n": 40, "diversify": False}, {"n": 8, "mode": "min"},
       {"n": 10, "task_weights": {"t-plain": 1.0, "t-asha": 0.4, "t-both": 2.0, "t-min": 0.7}},
       {"n": 5, "task_weights": {"t-asha": 1.0}})


def _mixed_kb(kb, rng):
    archs = _archs(120)
    kb.ingest(_plain(archs, rng, 150), task="t-plain", space=SPACE, name="plain-1")
    kb.ingest(_asha(archs[:81], rng), task="t-asha", space=SPACE, name="asha-1")
    kb.ingest(_asha(archs[30:111], rng), task="t-asha", space=SPACE, name="asha-2")
    kb.ingest(_plain(archs, rng, 100, epochs=9), task="t-both", space=SPACE, name="both-plain")
    kb.ingest(_asha(archs[10:37], rng), task="t-both", space=SPACE, name="both-asha")
    kb.ingest(_asha(archs[50:77], rng), task="t-min", space=SPACE, mode="min", name="min-asha")
    return archs


def test_mixed_knowledge_base_answers_from_the_fast_path_as_the_slow_path(url):
    rng = np.random.default_rng(100)
    with nasbook.KnowledgeBase(url) as kb:
        _mixed_kb(kb, rng)
        for kw in KWS:
            _same(kb, **kw)
        got = {a.id: p for a, p in _same(kb, n=200, diversify=False)}
        t = kb.trials(task="t-asha")
        low = set(t["arch_id"]) - set(t.loc[t["epochs"] == 9, "arch_id"])
        assert low and not any("t-asha" in got[a]["tasks"] for a in low if a in got)  # stopped early: no rank there


def test_a_search_whose_top_rung_rises_drops_its_lower_rungs(url):
    rng = np.random.default_rng(101)
    archs = _archs(40, seed=101)
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_plain(archs, rng, 60), task="t-plain", space=SPACE, name="plain-1")
        # rung 1 only: the search is single-fidelity for now, and its values are stored and ranked as such
        lucky = [{"arch": a, "epochs": 1, "value": 0.999 if i == 0 else float(v)}
                 for i, (a, v) in enumerate(zip(archs[:27], np.round(rng.random(27), 3)))]
        kb.ingest(lucky, task="t-asha", space=SPACE, name="asha")
        first = _same(kb, n=5, diversify=False)
        assert "t-asha" in first[0][1]["tasks"]
        st = kb.storage
        rec = st.get_search("asha")
        (proto, *_), _ = st.load_trials(rec.id, SPACE)
        number = 27
        for rung, alive in ((3, archs[1:10]), (9, archs[1:4])):  # archs[0] (0.999 at one epoch) is never promoted
            for a in alive:
                t = dataclasses.replace(proto, number=number, arch=a, epochs=rung, value=float(rng.random()))
                number += 1
                st.add_trials(rec.id, [t])
                _same(kb, n=5)  # the top rung moves with every write: the task's cells are aggregated again
            got = {a.id: p for a, p in _same(kb, n=100, diversify=False)}
            top = {a.id for a in alive}
            assert {a for a, p in got.items() if "t-asha" in p["tasks"]} == top
            assert all(got[a]["tasks"]["t-asha"]["n"] == len(top) for a in top)
        # a trial recorded by a Search (running, then complete) at the top rung; a failed one there counts not
        running = Trial(number=number, arch=archs[20], state=TrialState.RUNNING, value=None, epochs=9)
        st.add_trial(rec.id, running)
        st.update_trial(rec.id, dataclasses.replace(running, state=TrialState.COMPLETE, value=0.5))
        st.add_trial(rec.id, Trial(number=number + 1, arch=archs[21], state=TrialState.FAILED, value=None, epochs=27))
        _same(kb, n=100, diversify=False)
        # a complete top-rung trial overwritten with a worse value, then removed
        top9 = [t for t in st.load_trials(rec.id, SPACE)[0] if t.epochs == 9]
        st.update_trial(rec.id, dataclasses.replace(top9[0], value=-1.0))
        _same(kb, n=10)
        st.delete_trials(rec.id, [t.number for t in top9])  # rung 3 is its top again
        _same(kb, n=100, diversify=False)
        want = select_warm_start(kb.trials(), SPACE, n=100, diversify=False)
    with nasbook.KnowledgeBase(url) as again:  # a new object (a new process) rebuilds what it remembers
        assert [(a.id, p) for a, p in _same(again, n=100, diversify=False)] == [(a.id, p) for a, p in want]


def test_repeated_warm_starts_do_not_aggregate_a_multi_fidelity_task_again(tmp_path, monkeypatch):
    from nasbook.knowledge import _ranks

    rng = np.random.default_rng(102)
    with nasbook.KnowledgeBase(str(tmp_path / "kb.db")) as kb:
        _mixed_kb(kb, rng)
        calls = []
        real = _ranks._top_cells
        monkeypatch.setattr(_ranks, "_top_cells", lambda *a: calls.append(a[2]) or real(*a))
        kb.warm_start(SPACE, 10)
        assert len(calls) == 3  # t-asha, t-both, t-min: once each
        kb.warm_start(SPACE, 10)
        kb.warm_start(SPACE, 5, diversify=False)
        assert len(calls) == 3
        kb.ingest(_plain(_archs(20), rng, 30), task="t-plain", space=SPACE, name="plain-2")
        _same(kb, n=10)
        assert len(calls) == 3  # a write to a single-fidelity task leaves the others' cells as they were


def test_stored_rows_of_a_multi_fidelity_task_keep_their_meaning(tmp_path):
    """The store's own ranks of a multi-fidelity task stay over every trial (as schema 4 defines them), so a
    store written by any nasbook of this schema and this code never mix: nothing is migrated or rewritten."""
    import sqlalchemy as sa

    rng = np.random.default_rng(103)
    path = str(tmp_path / "kb.db")
    with nasbook.KnowledgeBase(path) as kb:
        _mixed_kb(kb, rng)
        before = kb.storage.conn.execute(sa.text("SELECT task_key, changed, ranked, n FROM nasbook_task_ranks "
                                                 "ORDER BY task_key")).all()
        kb.storage.conn.commit()
        _same(kb, n=10)
        after = kb.storage.conn.execute(sa.text("SELECT task_key, changed, ranked, n FROM nasbook_task_ranks "
                                                "ORDER BY task_key")).all()
        kb.storage.conn.commit()
        keys = {str(k) for k, _, _, _ in after}
        names = dict(kb.storage.conn.execute(sa.text("SELECT key, name FROM nasbook_tasks")).all())
        kb.storage.conn.commit()
        for (k, changed, ranked, n), (_, _c0, r0, n0) in zip(after, before):
            if names[k] in ("t-asha", "t-both", "t-min"):
                assert (ranked, n) == (r0, n0)  # left as they were: not re-ranked over every trial, not rewritten
            else:
                assert ranked == changed and n > 0
        assert len(keys) == 4
