"""KnowledgeBase.similar keeps a per-space summary of the trials with the store's change token: a repeated
call reads no trial and runs a fixed number of statements, and every write that changes the trials
(new trials, an overwritten or removed trial, a failed ingest, an import, another process) gives the
answer ``similar_archs`` gives over ``kb.trials()`` again."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from _kb_samples import SPACE
from _kb_samples import archs as _archs
from _kb_samples import rows as _rows

import nasbook
from nasbook.knowledge import similar_archs
from nasbook.trial import TrialState


def _same(kb, queries, *, cached):
    """kb.similar equals similar_archs over kb.trials() for every query, with and without task=; with
    ``cached`` the repeated calls must not read the trials."""
    trials = kb.trials(space=SPACE.space_id)
    names = sorted(set(trials["task"]))
    wants = [(q, k, t, similar_archs(trials, SPACE, q, k, t)) for q in queries for k in (6, 500) for t in (None, *names)]
    for q, k, t, want in wants[:1]:  # the first call after a write: reads the trials (or not, when nothing changed)
        pd.testing.assert_frame_equal(kb.similar(q, k, task=t), want)
    read = kb.trials
    if cached:
        kb.trials = lambda *a, **k: pytest.fail("a repeated similar() should not read the trials")
    try:
        for q, k, t, want in wants:  # k=500: every recorded architecture
            got = kb.similar(q, k, task=t)
            pd.testing.assert_frame_equal(got, want)
            assert got.attrs == want.attrs
    finally:
        kb.trials = read
    return wants


def test_repeated_similar_reads_no_trial_and_follows_every_write(url, monkeypatch):
    rng = np.random.default_rng(100)
    archs = _archs(120, 100)
    queries = [archs[3], _archs(1, 101)[0]]
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_rows(archs[:60], rng, 150), task="t-a", space=SPACE, name="a1")
        kb.ingest(_rows(archs[30:90], rng, 150), task="t-b", space=SPACE, mode="min", name="b1")
        _same(kb, queries, cached=True)
        # new trials, of new architectures (one with an infinite value: no aggregate), on a task already there
        kb.ingest(_rows(archs[90:], rng, 40) + [{"arch": archs[-1], "value": float("inf")}], task="t-a", space=SPACE,
                  name="a2")
        _same(kb, queries, cached=True)
        # a complete trial overwritten (its task's aggregates rebuilt), then one made FAILED (out of kb.trials)
        st = kb.storage
        rec = st.get_search("a1")
        loaded, _ = st.load_trials(rec.id, SPACE)
        st.update_trial(rec.id, dataclasses.replace(loaded[0], value=-5.0))
        _same(kb, queries, cached=True)
        st.update_trial(rec.id, dataclasses.replace(loaded[1], state=TrialState.FAILED, value=None))
        _same(kb, queries, cached=True)
        # a running trial made complete in place without a value: the counter of its task moves too
        new = dataclasses.replace(loaded[2], number=10_000, state=TrialState.RUNNING, value=None, arch=archs[-2])
        st.add_trial(rec.id, new)
        _same(kb, queries, cached=True)
        st.update_trial(rec.id, dataclasses.replace(new, state=TrialState.COMPLETE, value=None))
        assert archs[-2].id in set(kb.trials(space=SPACE.space_id)["arch_id"])
        _same(kb, queries, cached=True)
        # an ingest that fails half-way (its chunks deleted, the task rebuilt) changes nothing
        monkeypatch.setattr("nasbook.knowledge._ingest.CHUNK", 50)
        with pytest.raises(nasbook.NasbookError):
            kb.ingest(_rows(archs, rng, 120) + [{"arch": archs[0], "value": "not a number"}], task="t-b",
                      space=SPACE, name="broken")
        _same(kb, queries, cached=True)


def test_similar_sees_an_import_and_another_process_write(url, tmp_path):
    rng = np.random.default_rng(102)
    archs = _archs(80, 102)
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_rows(archs[:40], rng, 100), task="t-a", space=SPACE, name="a1")
        _same(kb, [archs[0]], cached=True)
        other = nasbook.KnowledgeBase(str(tmp_path / "other.db"))
        other.ingest(_rows(archs[40:], rng, 60), task="t-c", space=SPACE, name="c1")
        other.export(tmp_path / "c.parquet")
        other.close()
        kb.import_parquet(tmp_path / "c.parquet")
        wants = _same(kb, [archs[0]], cached=True)
        assert "t-c" in {t for _, _, t, _ in wants}
        # another process writes one trial of an architecture the base has not seen, on task t-a
        newcomer = _archs(1, 103)[0]
        child = ("import json, sys, nasbook\nfrom nasbook.space import GraphSpace\n"
                 "kb = nasbook.KnowledgeBase(sys.argv[1])\n"
                 "kb.ingest([{'arch': GraphSpace().make(**json.loads(sys.argv[2])), 'value': 0.99}], task='t-a', "
                 "space=GraphSpace(), name='child')\n")
        done = subprocess.run([sys.executable, "-c", child, url, json.dumps(newcomer.spec)], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        got = kb.similar(newcomer, 3, task="t-a")
        assert got.attrs["query"] == newcomer.id and newcomer.id not in set(got["arch_id"])
        near = kb.similar(archs[0], 200)
        assert newcomer.id in set(near["arch_id"])
        _same(kb, [archs[0], newcomer], cached=True)


def _statements(kb, call):
    seen = []

    def count(*_):
        seen.append(1)

    sa.event.listen(kb.storage.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        sa.event.remove(kb.storage.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_repeated_similar_runs_as_many_statements_at_any_number_of_trials(url):
    rng = np.random.default_rng(104)
    archs = _archs(150, 104)
    counts = []
    with nasbook.KnowledgeBase(url) as kb:
        for size in (100, 2000):
            kb.ingest(_rows(archs, rng, size), task="t-a", space=SPACE)
            kb.similar(archs[0], 10, task="t-a")
            kb.similar(archs[0], 10)  # the first calls after the write read the trials
            counts.append((_statements(kb, lambda: kb.similar(archs[0], 10)),
                           _statements(kb, lambda: kb.similar(archs[0], 10, task="t-a"))))
            first = _statements(kb, lambda: (kb.ingest(_rows(archs, rng, 5), task="t-a", space=SPACE),
                                             kb.similar(archs[0], 10)))
            assert first > counts[-1][0]  # a write in between: the trials are read again
    assert counts[0] == counts[1], counts
    assert max(counts[0]) <= 12, counts


def test_neighbours_with_only_low_rungs_or_ties_answer_as_similar_archs(url):
    rng = np.random.default_rng(105)
    archs = _archs(60, 105)
    with nasbook.KnowledgeBase(url) as kb:
        # a multi-fidelity search: most architectures stopped after 1 epoch (no value that counts), some at 9
        rows = [{"arch": a, "value": float(rng.random()), "epochs": 1} for a in archs[:40]]
        rows += [{"arch": a, "value": 0.5, "epochs": 9} for a in archs[16:28]]  # ties at the top rung
        kb.ingest(rows, task="t-zasha", space=SPACE, name="asha")
        kb.ingest(_rows(archs[20:], rng, 80), task="t-b", space=SPACE, mode="min", name="b1")
        wants = _same(kb, [archs[0], archs[30], _archs(1, 106)[0]], cached=True)  # t-zasha first: not name order
        long = [w for _, k, t, w in wants if k == 500 and t is None][0]
        assert long["task"].isna().any()  # the low-rung-only neighbours keep one row without a task
        # the caller's frame is its own: changing its specs and scores changes no later answer
        got = kb.similar(archs[0], 5)
        got["arch"][0]["changed"] = True
        got["scores"][0]["changed"] = 1.0
        want = similar_archs(kb.trials(space=SPACE.space_id), SPACE, archs[0], 5)
        pd.testing.assert_frame_equal(kb.similar(archs[0], 5), want)


def test_a_kept_frozenset_filter_follows_adds_and_removes_of_the_index():
    from nasbook.knowledge import ArchIndex

    archs = _archs(80, 107)
    idx = ArchIndex(SPACE, "graf").add(archs[:60])
    allowed = frozenset(a.id for a in archs[10:70])  # some not indexed yet
    query = archs[0]

    def exact():  # the same search with a fresh list of ids (no kept candidates)
        return idx.similar(query, 100, filter=list(allowed))

    pd.testing.assert_frame_equal(idx.similar(query, 100, filter=allowed), exact())
    idx.remove([archs[20].id, archs[30].id])
    got = idx.similar(query, 100, filter=allowed)
    assert archs[20].id not in set(got["arch_id"])
    pd.testing.assert_frame_equal(got, exact())
    idx.add(archs[60:] + [archs[20]])
    got = idx.similar(query, 100, filter=allowed)
    assert {archs[20].id, archs[65].id} <= set(got["arch_id"]) and archs[75].id not in set(got["arch_id"])
    pd.testing.assert_frame_equal(got, exact())
    inside = frozenset(a.id for a in archs[:40])  # the query itself among the allowed: left out, the set kept whole
    assert query.id not in set(idx.similar(query, 100, filter=inside)["arch_id"])
    assert len(idx.similar(archs[1], 100, filter=inside)) == len(inside - {archs[1].id, archs[20].id, archs[30].id}) + 1
