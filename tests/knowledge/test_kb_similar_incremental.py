"""KnowledgeBase.similar merges appended and completed-in-place trials into its kept summary instead of reading
the space again: the merged summary equals a summary read from scratch exactly, anything else (an overwritten
trial, a renamed search) reads everything again, and a completion the counters do not see still changes the
token. The one answer assembly equals the former pandas one (kept here as the reference)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from _kb_samples import SPACE
from _kb_samples import archs as _archs
from _kb_samples import rows as _rows

import nasbook
from nasbook.knowledge import similar_archs, sync_index, task_quantiles
from nasbook.knowledge._similar_cache import _read
from nasbook.trial import TrialState


def _kept(kb):
    return kb._similar_kept[(SPACE.space_id, None)]


def _tables(summary):
    """Everything a summary answers from, in comparable form (floats by their bits)."""
    tabs = {t: (tab.ids, tab.value.tobytes(), tab.quantile.tobytes(), tab.n.tolist()) for t, tab in summary._tab.items()}
    specs = {a: summary.spec(a) for a in summary.arch_ids()}
    return tabs, {t: summary._filter(t) for t in summary.tasks}, specs, summary.tasks


def _check(kb, how, queries):
    """The next call's summary came by ``how`` and equals one read from scratch; the answers equal similar_archs."""
    kb.similar(queries[0], 5)
    kept = _kept(kb)
    assert kept.how == how
    scratch = _read(kb, SPACE, None, kept.token, None)
    assert _tables(kept.summary) == _tables(scratch.summary)
    assert kept.pending == scratch.pending and kept.top == scratch.top
    assert set(kept.index._pos) == set(scratch.index._pos)
    trials = kb.trials(space=SPACE.space_id)
    for q in queries:
        for t in (None, *sorted(set(trials["task"]))):
            pd.testing.assert_frame_equal(kb.similar(q, 500, task=t), similar_archs(trials, SPACE, q, 500, t),
                                          check_exact=True)


def test_appended_and_completed_trials_are_merged_as_a_full_read_gives_them(url):
    rng = np.random.default_rng(110)
    archs = _archs(150, 110)
    queries = [archs[5], _archs(1, 111)[0]]
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_rows(archs[:70], rng, 200), task="t-a", space=SPACE, name="a1")
        kb.ingest(_rows(archs[40:100], rng, 200), task="t-b", space=SPACE, mode="min", name="b1")
        _check(kb, "read", queries)
        _check(kb, "kept", queries)
        # a new search on a task already there, of new architectures and known ones
        kb.ingest(_rows(archs[60:120], rng, 60), task="t-a", space=SPACE, name="a2")
        _check(kb, "merged", queries)
        # a new task
        kb.ingest(_rows(archs[100:], rng, 50), task="t-c", space=SPACE, name="c1")
        _check(kb, "merged", queries)
        # a search's loop: a trial stored RUNNING (seen pending), then completed in place, ahead of a later one
        st = kb.storage
        rec = st.get_search("a1")
        loaded, _ = st.load_trials(rec.id, SPACE)
        running = dataclasses.replace(loaded[0], number=5_000, state=TrialState.RUNNING, value=None, arch=archs[-1])
        st.add_trial(rec.id, running)
        _check(kb, "merged", queries)
        later = dataclasses.replace(loaded[0], number=5_001, state=TrialState.COMPLETE, value=0.25, arch=archs[-2])
        st.add_trial(rec.id, later)
        st.update_trial(rec.id, dataclasses.replace(running, state=TrialState.COMPLETE, value=0.75))
        _check(kb, "merged", queries)
        assert not _kept(kb).pending
        # a multi-fidelity search recorded in two batches: the second one's higher rung drops the first's values
        kb.ingest([{"arch": a, "value": float(rng.random()), "epochs": 1} for a in archs[:30]], task="t-d", space=SPACE,
                  name="d1")
        _check(kb, "merged", queries)
        d1 = st.get_search("d1")
        top = [dataclasses.replace(loaded[0], number=1_000 + i, arch=a, value=0.5 + i / 100, epochs=9)
               for i, a in enumerate(archs[10:20])]
        st.add_trials(d1.id, top)
        _check(kb, "merged", queries)
        assert set(_kept(kb).summary._tab["t-d"].ids) == {a.id for a in archs[10:20]}
        # an infinite value on a task with a counter: merged too
        kb.ingest([{"arch": archs[3], "value": float("inf")}], task="t-b", space=SPACE, mode="min", name="b2")
        _check(kb, "merged", queries)


def test_anything_but_appends_reads_the_space_again(url):
    rng = np.random.default_rng(112)
    archs = _archs(80, 112)
    queries = [archs[1]]
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest(_rows(archs, rng, 150), task="t-a", space=SPACE, name="a1")
        _check(kb, "read", queries)
        st = kb.storage
        rec = st.get_search("a1")
        loaded, _ = st.load_trials(rec.id, SPACE)
        st.update_trial(rec.id, dataclasses.replace(loaded[0], value=-3.0))  # a complete trial overwritten
        _check(kb, "read", queries)
        st.update_trial(rec.id, dataclasses.replace(loaded[1], state=TrialState.FAILED, value=None))  # removed
        _check(kb, "read", queries)
        kb.ingest(_rows(archs, rng, 20), task="t-b", space=SPACE, name="b1")
        _check(kb, "merged", queries)
        b1 = st.get_search("b1")
        st.update_search(b1.id, config={**b1.config, "mode": "min"})  # a search's catalogue row changed
        _check(kb, "read", queries)


def test_a_completion_no_counter_sees_changes_the_token(url):
    """A task whose trials have no finite value keeps no counter row: completing one of its trials in place
    moved nothing the token read before (the similar() answer missed the trial until the next write)."""
    from nasbook.storage import trials_token

    archs = _archs(20, 114)
    with nasbook.KnowledgeBase(url) as kb:
        kb.ingest([{"arch": a, "value": 0.5} for a in archs[:10]], task="t-a", space=SPACE, name="a1")
        kb.ingest([{"arch": archs[10], "value": float("inf")}], task="t-inf", space=SPACE, name="inf1")
        st = kb.storage
        rec = st.get_search("inf1")
        loaded, _ = st.load_trials(rec.id, SPACE)
        running = dataclasses.replace(loaded[0], number=7, state=TrialState.RUNNING, value=None, arch=archs[11])
        st.add_trial(rec.id, running)
        kb.similar(archs[0], 5)
        before = kb._write(lambda conn: trials_token(conn, SPACE.space_id))
        st.update_trial(rec.id, dataclasses.replace(running, state=TrialState.COMPLETE, value=None))
        after = kb._write(lambda conn: trials_token(conn, SPACE.space_id))
        assert after != before
        got = kb.similar(archs[0], 50)
        assert archs[11].id in set(got["arch_id"])
        want = similar_archs(kb.trials(space=SPACE.space_id), SPACE, archs[0], 50)
        # (a mean of no finite value is NaN, and {"t": nan} != {"t": nan}: scores compared apart)
        pd.testing.assert_frame_equal(got.drop(columns="scores"), want.drop(columns="scores"), check_exact=True)
        assert [str(d) for d in got["scores"]] == [str(d) for d in want["scores"]]


# -- the former answer assembly (pandas groupby and merge), kept as the reference --------------------------------
def _former_answer(trials, space, arch, k, task):
    rows = trials[trials["space_id"] == space.space_id]
    per = task_quantiles(rows)
    per = per.assign(arch_id=per["arch_id"].astype(str))
    rows_of = {str(a): np.asarray(i) for a, i in per.groupby("arch_id", sort=False).indices.items()}
    archs = rows.drop_duplicates("arch_id")[["space_id", "arch_id", "arch"]]
    specs = archs.assign(arch_id=archs["arch_id"].astype(str)).set_index("arch_id")["arch"]
    filt = None if task is None else frozenset(rows.loc[rows["task"] == task, "arch_id"].astype(str))
    idx, _ = sync_index(archs, space, None)
    near = idx.similar(arch, k, filter=filt)
    hits = [rows_of[a] for a in dict.fromkeys(near["arch_id"]) if a in rows_of]
    per = per.iloc[np.sort(np.concatenate(hits))] if hits else per.iloc[:0]
    by = per.groupby("arch_id", sort=False)
    out = near.copy()
    out["n_trials"] = out["arch_id"].map(by["n_trials"].sum()).fillna(0).astype(int)
    out["n_tasks"] = out["arch_id"].map(by.size()).fillna(0).astype(int)
    out["quantile"] = out["arch_id"].map(by["quantile"].mean())
    scores = {a: dict(zip(g["task"], g["value"])) for a, g in by}
    out["scores"] = out["arch_id"].map(lambda a: scores.get(a, {}))
    if task is not None:
        on_task = per[per["task"] == task].set_index("arch_id")
        out["task"] = task
        out["value"] = out["arch_id"].map(on_task["value"])
        out["quantile"] = out["arch_id"].map(on_task["quantile"])
    else:
        out = out.drop(columns=["quantile", "n_trials"]).assign(order=np.arange(len(out)))
        per_task = per[["arch_id", "task", "value", "quantile", "n_trials"]].astype({"task": object})
        out = out.merge(per_task, on="arch_id", how="left").sort_values(["order", "task"], kind="stable")
        out["n_trials"] = out["n_trials"].fillna(0).astype(int)
    out["arch"] = out["arch_id"].map(specs)
    cols = ["arch_id", "distance", "task", "value", "quantile", "n_trials", "n_tasks", "scores", "arch"]
    return pd.DataFrame(out[cols]).reset_index(drop=True)


@pytest.mark.parametrize("seed", [120, 121])
def test_the_one_answer_assembly_equals_the_former_pandas_one(seed):
    rng = np.random.default_rng(seed)
    archs = _archs(60, seed)
    with nasbook.KnowledgeBase(":memory:") as kb:
        kb.ingest(_rows(archs[:40], rng, 90), task="t-zb", space=SPACE, name="b")
        kb.ingest(_rows(archs[20:], rng, 90), task="t-a", space=SPACE, mode="min", name="a")
        rows = [{"arch": a, "value": float(rng.random()), "epochs": 1} for a in archs[:30]]
        rows += [{"arch": a, "value": 0.5, "epochs": 3} for a in archs[5:12]]
        kb.ingest(rows, task="t-asha", space=SPACE, name="asha")
        kb.ingest([{"arch": archs[59], "value": 0.1}], task="t-one", space=SPACE, name="one")
        trials = kb.trials(space=SPACE.space_id)
    for q in (archs[0], archs[59], _archs(1, seed + 50)[0]):
        for k in (1, 7, 200):
            for t in (None, "t-zb", "t-a", "t-asha", "t-one"):
                got = similar_archs(trials, SPACE, q, k, t)
                want = _former_answer(trials, SPACE, q, k, t)
                if q is archs[59] and t == "t-one":
                    assert got.empty  # the only architecture of the task is the query: an empty answer
                pd.testing.assert_frame_equal(got, want, check_exact=True)


# -- the summary kept next to a SQLite file ---------------------------------------------------------------------
def _fresh_call(path, query, *, how, monkeypatch=None):
    """A new KnowledgeBase object's first similar() call: its summary came by ``how``; equal to similar_archs."""
    with nasbook.KnowledgeBase(path) as kb:
        got = kb.similar(query, 500)
        assert _kept(kb).how == how
        trials = kb.trials(space=SPACE.space_id)
        pd.testing.assert_frame_equal(got, similar_archs(trials, SPACE, query, 500), check_exact=True)
        for t in sorted(set(trials["task"])):
            pd.testing.assert_frame_equal(kb.similar(query, 500, task=t), similar_archs(trials, SPACE, query, 500, t),
                                          check_exact=True)
        return _kept(kb)


def test_a_new_object_starts_from_the_saved_summary_and_follows_writes_since(tmp_path, monkeypatch):
    from nasbook.knowledge import _similar_cache, _similar_store

    rng = np.random.default_rng(130)
    archs = _archs(90, 130)
    path = str(tmp_path / "kb.db")
    with nasbook.KnowledgeBase(path) as kb:
        kb.ingest(_rows(archs[:60], rng, 150), task="t-a", space=SPACE, name="a1")
        kb.ingest(_rows(archs[30:], rng, 150), task="t-b", space=SPACE, mode="min", name="b1")
        kb.similar(archs[0], 5)
        saved = _similar_store.path_for(kb, SPACE.space_id, None)
    assert saved is not None and saved.is_file() and saved.parent == tmp_path / "kb.db.similar"
    with monkeypatch.context() as m:  # nothing written since: the space's trials are not read
        import faiss

        m.setattr(_similar_cache, "_read", lambda *a, **k: pytest.fail("the saved summary should answer"))
        # a file found next to a store is never handed to FAISS's reader: the index is built from plain vectors
        m.setattr(faiss, "deserialize_index", lambda *a, **k: pytest.fail("FAISS deserialised a file"))
        m.setattr(faiss, "read_index", lambda *a, **k: pytest.fail("FAISS read a file"))
        _fresh_call(path, archs[0], how="loaded")  # its answers equal similar_archs' exact ones
    with nasbook.KnowledgeBase(path) as kb:  # appended since it was saved: merged into the loaded one
        kb.ingest(_rows(archs[50:], rng, 40), task="t-c", space=SPACE, name="c1")
        kb.ingest(_rows(archs[:20], rng, 30), task="t-b", space=SPACE, mode="min", name="b2")  # into a loaded task
    kept = _fresh_call(path, archs[0], how="merged")
    scratch = _tables(_read(nasbook.KnowledgeBase(path), SPACE, None, kept.token, None).summary)
    assert _tables(kept.summary) == scratch
    with nasbook.KnowledgeBase(path) as kb:  # overwritten since: everything read again (and saved)
        st = kb.storage
        rec = st.get_search("a1")
        loaded, _ = st.load_trials(rec.id, SPACE)
        st.update_trial(rec.id, dataclasses.replace(loaded[0], value=-1.0))
    _fresh_call(path, archs[1], how="read")
    _fresh_call(path, archs[1], how="loaded")


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "other encoding", "other store"])
def test_a_damaged_or_stale_saved_summary_is_read_again_not_trusted(tmp_path, monkeypatch, damage):
    import shutil

    from nasbook.knowledge import _similar_store

    rng = np.random.default_rng(131)
    archs = _archs(60, 131)
    path = str(tmp_path / "kb.db")
    with nasbook.KnowledgeBase(path) as kb:
        kb.ingest(_rows(archs, rng, 120), task="t-a", space=SPACE, name="a1")
        kb.similar(archs[0], 5)
        saved, store = _similar_store.path_for(kb, SPACE.space_id, None), _similar_store.store_of(kb)
    data = saved.read_bytes()
    if damage == "truncated":
        saved.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":  # one byte of the stored values (the zip stores arrays uncompressed)
        at = data.index(np.float64(0.5).tobytes()) if np.float64(0.5).tobytes() in data else len(data) // 2
        saved.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif damage == "garbage":
        saved.write_bytes(b"not an npz at all")
    elif damage == "other encoding":
        monkeypatch.setattr(type(SPACE), "encoding_version", lambda self, kind=None: "graf-v999")
    else:  # a summary saved next to another store with the same space (copied over): its token differs
        other = str(tmp_path / "other.db")
        with nasbook.KnowledgeBase(other) as kb:
            kb.ingest(_rows(archs[:30], rng, 50), task="t-z", space=SPACE, name="z1")
            kb.similar(archs[0], 5)
        shutil.copyfile(_similar_store.path_for(kb, SPACE.space_id, None), saved)
    _fresh_call(path, archs[0], how="read")
    assert _similar_store.load(saved, SPACE, None, store) is not None  # replaced by a good one
