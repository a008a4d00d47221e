"""A new process's first ``kb.similar`` on a SQLite file whose summary was saved loads the index as it was saved:
an IVF index's centroids and inverted lists are copied back (no training, no assignment of the vectors), and the
standardisation comes from the file (the 2,048 reference cells are not drawn and encoded again). The neighbours
are the saving index's; a file whose index arrays do not fit together is read again, with no error; a failed
write keeps the file there was. No FAISS reader sees the file (test_kb_similar_incremental.py)."""

import json

import numpy as np
import pytest
from _kb_samples import SPACE
from _kb_samples import archs as _archs
from _kb_samples import rows as _rows

import nasbook
from nasbook.knowledge import _index_faiss, _similar_cache, _similar_store, _vectors
from nasbook.knowledge._index import ArchIndex
from nasbook.knowledge._similar import similar_archs


def _kept(kb):
    return kb._similar_kept[(SPACE.space_id, None)]


@pytest.fixture
def ivf(monkeypatch):
    """``kb.similar`` builds IVF indexes from 50 architectures on (exact up to 50 000 otherwise)."""
    monkeypatch.setattr(_similar_cache, "ArchIndex", lambda space, kind: ArchIndex(space, kind, exact_max=50))


def _store(tmp_path, n=400, seed=140):
    rng = np.random.default_rng(seed)
    archs = _archs(n, seed)
    path = str(tmp_path / "kb.db")
    with nasbook.KnowledgeBase(path) as kb:
        kb.ingest(_rows(archs[: len(archs) * 2 // 3], rng, 500), task="t-a", space=SPACE, name="a1")
        kb.ingest(_rows(archs[len(archs) // 3:], rng, 500), task="t-b", space=SPACE, mode="min", name="b1")
    return path, archs


def _neighbours(index, queries):
    """Every query's 30 nearest (architecture ids and squared distances, by their bits) over the whole index."""
    x = np.concatenate([index.vector(q) for q in queries])
    labels, dist = index.search(x, 30, standardised=True)
    return [[index.arch_ids[i] for i in row] for row in labels], dist.tobytes()


def _no_rebuild(m):
    """Inside ``m``: training or filling a FAISS index, or drawing the reference sample, fails the test."""
    m.setattr(_index_faiss.FaissStore, "_build", lambda *a, **k: pytest.fail("the index was built again"))
    m.setattr(_vectors, "_reference_stats_cached", lambda *a, **k: pytest.fail("the reference sample was drawn"))


def test_an_ivf_index_is_loaded_as_saved_not_trained_again(tmp_path, monkeypatch, ivf):
    path, archs = _store(tmp_path)
    queries = archs[:40] + _archs(40, 141)
    with nasbook.KnowledgeBase(path) as kb:
        kb.similar(archs[0], 5)
        saver = _kept(kb).index
        assert saver.kind_built_ == "ivf" and len(saver) > 200
        before = _neighbours(saver, queries)
        answers = [kb.similar(q, 20) for q in queries[::8]]
    with monkeypatch.context() as m, nasbook.KnowledgeBase(path) as kb:
        _no_rebuild(m)
        kb.similar(archs[0], 5)
        loaded = _kept(kb).index
        assert _kept(kb).how == "loaded" and loaded.kind_built_ == "ivf"
        assert loaded._index.nlist == saver._index.nlist and loaded._trained_n == saver._trained_n
        assert _neighbours(loaded, queries) == before  # the same neighbours, distances bit for bit
        for q, want in zip(queries[::8], answers):
            assert kb.similar(q, 20).equals(want)
        gone = [a.id for a in archs[10:40]]  # removing and adding work on the loaded index as on the saving one
        extra = _archs(30, 148)
        assert loaded.remove(gone) == saver.remove(gone) > 0
        saver.add(extra)
        loaded.add(extra)
        assert _neighbours(loaded, queries) == _neighbours(saver, queries)
    # the standardisation it came with is reference_stats' own, bit for bit
    mean, scale = _vectors._reference_stats_cached.__wrapped__(SPACE, "graf", SPACE.encoding_version("graf"))
    assert loaded.mean_.tobytes() == mean.tobytes() and loaded.scale_.tobytes() == scale.tobytes()


def test_a_loaded_ivf_index_answers_as_a_rebuilt_one_and_keeps_growing(tmp_path, monkeypatch, ivf):
    path, archs = _store(tmp_path, n=300, seed=142)
    with nasbook.KnowledgeBase(path) as kb:
        kb.similar(archs[0], 5)
    with nasbook.KnowledgeBase(path) as kb:
        trials = kb.trials(space=SPACE.space_id)
        for q in (archs[3], _archs(1, 143)[0]):  # nprobe >= nlist here: the exact answer
            for t in (None, "t-a", "t-b"):
                got = kb.similar(q, 50, task=t)
                assert _kept(kb).how in ("loaded", "kept")
                assert got.equals(similar_archs(trials, SPACE, q, 50, t))
        kb.ingest(_rows(_archs(200, 144), np.random.default_rng(144), 300), task="t-c", space=SPACE, name="c1")
        got = kb.similar(archs[3], 50)
        assert _kept(kb).how == "merged"
        assert got.equals(similar_archs(kb.trials(space=SPACE.space_id), SPACE, archs[3], 50))


def _rewrite(saved, change):
    """Apply ``change`` to the saved arrays and write them back with a matching digest (damage a digest misses)."""
    with np.load(saved, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays.pop("header")))
    change(arrays, header)
    header["digest"] = _similar_store._digest(arrays)
    with open(saved, "wb") as f:
        np.savez(f, header=np.array(json.dumps(header)), **arrays)


def _set(key, value):
    def change(arrays, header):
        arrays[key] = value(arrays[key])
    return change


def _header(key, value):
    def change(arrays, header):
        header[key] = value
    return change


BAD = {
    "a row twice": _set("index_rows", lambda r: np.r_[r[:-1], r[0]]),
    "a row out of range": _set("index_rows", lambda r: np.r_[r[:-1], len(r)]),
    "a negative row": _set("index_rows", lambda r: np.r_[r[:-1], -1]),
    "sizes short": _set("index_sizes", lambda s: s[:-1]),
    "sizes off": _set("index_sizes", lambda s: s + np.eye(1, len(s), dtype=np.int64)[0]),
    "centroids of another width": _set("index_centroids", lambda c: c[:, :-1]),
    "a NaN centroid": _set("index_centroids", lambda c: np.where(np.eye(*c.shape, dtype=bool), np.nan, c)),
    "a NaN vector": _set("index_vectors", lambda x: np.where(np.eye(*x.shape, dtype=bool), np.nan, x)),
    "vectors as float64": _set("index_vectors", lambda x: x.astype(np.float64)),
    "mean of another width": _set("index_mean", lambda v: v[:-1]),
    "a zero scale": _set("index_scale", lambda v: np.zeros_like(v)),
    "no scale": lambda arrays, header: arrays.pop("index_scale"),
    "no trained size": _header("trained_n", None),
    "format 2": _header("format", 2),
}


@pytest.mark.parametrize("damage", sorted(BAD))
def test_saved_index_arrays_that_do_not_fit_are_read_again(tmp_path, monkeypatch, ivf, damage):
    path, archs = _store(tmp_path, n=200, seed=145)
    with nasbook.KnowledgeBase(path) as kb:
        want = kb.similar(archs[0], 30)
        saved, store = _similar_store.path_for(kb, SPACE.space_id, None), _similar_store.store_of(kb)
    _rewrite(saved, BAD[damage])
    with nasbook.KnowledgeBase(path) as kb:
        assert kb.similar(archs[0], 30).equals(want)  # no error: read again from the store
        assert _kept(kb).how == "read"
    assert _similar_store.load(saved, SPACE, None, store) is not None  # and saved again, whole


def test_a_flat_index_keeps_its_standardisation_and_vectors(tmp_path, monkeypatch):
    path, archs = _store(tmp_path, n=120, seed=146)
    with nasbook.KnowledgeBase(path) as kb:
        want = [kb.similar(q, 40) for q in archs[:5]]
        saver = _kept(kb).index
    with monkeypatch.context() as m, nasbook.KnowledgeBase(path) as kb:
        m.setattr(_vectors, "_reference_stats_cached", lambda *a, **k: pytest.fail("the reference sample was drawn"))
        assert all(kb.similar(q, 40).equals(w) for q, w in zip(archs[:5], want))
        loaded = _kept(kb).index
        assert _kept(kb).how in ("loaded", "kept") and loaded.kind_built_ == "flat"
        assert loaded.stored_vectors()[0] == saver.stored_vectors()[0]
        assert loaded.stored_vectors()[1].tobytes() == saver.stored_vectors()[1].tobytes()


def test_a_failed_write_keeps_the_saved_file(tmp_path, monkeypatch, ivf):
    path, archs = _store(tmp_path, n=200, seed=147)
    with nasbook.KnowledgeBase(path) as kb:
        kb.similar(archs[0], 5)
        saved = _similar_store.path_for(kb, SPACE.space_id, None)
    before = saved.read_bytes()

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    with nasbook.KnowledgeBase(path) as kb:  # overwritten since: read again, and the save fails at the rename
        st = kb.storage
        rec = st.get_search("a1")
        loaded, _ = st.load_trials(rec.id, SPACE)
        import dataclasses

        st.update_trial(rec.id, dataclasses.replace(loaded[0], value=-1.0))
        monkeypatch.setattr(_similar_store.os, "replace", fail)
        got = kb.similar(archs[0], 5)
        assert _kept(kb).how == "read" and len(got)
    monkeypatch.undo()
    assert saved.read_bytes() == before  # the file there was, whole; no temporary file left beside it
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]


@pytest.mark.parametrize("reference", [None, (np.zeros(3), np.ones(3)), "ab", (np.zeros(12), -np.ones(12))])
def test_an_index_refuses_a_reference_that_does_not_fit(reference):
    d = SPACE.encoding_size("graf")
    if reference is None:
        reference = (np.zeros(d), np.full(d, np.inf))
    with pytest.raises(nasbook.InvalidParameterError, match=r"ArchIndex\(reference=\.\.\.\)"):
        ArchIndex(SPACE, "graf", reference=reference)


@pytest.mark.parametrize("texts", [["a1", "", '{"edges": [1]}', "z"], ["tâche", "", "任务", "plain"], []])
def test_packed_texts_read_back_as_written(texts):
    from nasbook.knowledge._arch_summary import _pack, _unpack

    out = {}
    _pack(out, "t", texts)
    assert _unpack(out, "t") == texts and all(type(t) is str for t in _unpack(out, "t"))
