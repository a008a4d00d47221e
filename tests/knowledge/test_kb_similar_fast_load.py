"""A saved ``kb.similar`` summary read back fast (the digest checked on a thread while the summary and index are made; spec texts, task tables' id -> row dicts
decoded or built only when asked for) gives the same arrays, summaries and answers as before; a compressed
file reads the same; a damaged, truncated or stale file is read
again from the store, with no error."""

import json

import numpy as np
import pytest
from _kb_samples import SPACE
from _kb_samples import archs as _archs
from _kb_samples import rows as _rows

import nasbook
from nasbook.knowledge import _similar_store
from nasbook.knowledge._arch_summary import ArchSummary


def _store(tmp_path, n=120, seed=150):
    rng = np.random.default_rng(seed)
    archs = _archs(n, seed)
    path = str(tmp_path / "kb.db")
    with nasbook.KnowledgeBase(path) as kb:
        kb.ingest(_rows(archs[: n * 2 // 3], rng, 300), task="t-a", space=SPACE, name="a1")
        kb.ingest(_rows(archs[n // 3:], rng, 300), task="t-b", space=SPACE, mode="min", name="b1")
        kb.similar(archs[0], 5)  # reads everything and saves the summary
    (saved,) = (tmp_path / "kb.db.similar").glob("*.npz")
    return path, archs, saved


def _answers(kb, queries):
    return [kb.similar(q, 15, task=t) for q in queries for t in (None, "t-a", "t-b")]


def _kept(kb):
    return kb._similar_kept[(SPACE.space_id, None)]


def test_a_loaded_summary_answers_and_reads_as_the_one_saved(tmp_path):
    path, archs, _ = _store(tmp_path)
    queries = archs[:6] + _archs(6, 151)
    with nasbook.KnowledgeBase(path) as kb:  # a new object: the file is loaded
        first = kb.similar(queries[0], 15)
        assert _kept(kb).how == "loaded"
        answers = _answers(kb, queries)
        assert answers[0].equals(first)
        loaded = _kept(kb).summary
    with nasbook.KnowledgeBase(path) as kb:
        rows = kb.trials(space=SPACE.space_id)
    built = ArchSummary(rows.assign(_sid=0, _num=np.arange(len(rows))))
    assert loaded.arch_ids() == built.arch_ids()
    assert all(loaded.spec(a) == built.spec(a) for a in built.arch_ids())  # each spec text decoded when asked for
    assert [a.to_dict() for a in loaded.architectures(built.arch_ids()[:20])] == \
        [a.to_dict() for a in built.architectures(built.arch_ids()[:20])]
    for task, tab in built._tab.items():  # the tables' ids and rows, made on demand, are the built ones
        assert loaded._tab[task].ids == tab.ids and loaded._tab[task].pos == tab.pos
    # a process that reads everything again (no file) answers the same
    for f in (tmp_path / "kb.db.similar").glob("*.npz"):
        f.unlink()
    with nasbook.KnowledgeBase(path) as kb:
        again = _answers(kb, queries)
        assert _kept(kb).summary is not loaded
    assert all(a.equals(b) for a, b in zip(answers, again))


def test_a_loaded_summary_after_a_merge_answers_as_a_fresh_read(tmp_path):
    path, archs, _ = _store(tmp_path)
    extra = _archs(40, 152)
    queries = archs[:4] + extra[:4]
    with nasbook.KnowledgeBase(path) as kb:
        kb.similar(archs[0], 5)
        assert _kept(kb).how == "loaded"
        kb.ingest(_rows(extra + archs[:10], np.random.default_rng(153), 120), task="t-a", space=SPACE, name="a2")
        merged = _answers(kb, queries)  # neighbours new to the summary: their rows found by id
    for f in (tmp_path / "kb.db.similar").glob("*.npz"):
        f.unlink()
    with nasbook.KnowledgeBase(path) as kb:
        fresh = _answers(kb, queries)
    assert all(a.equals(b) for a, b in zip(merged, fresh))


def test_a_compressed_file_reads_the_same(tmp_path):
    path, archs, saved = _store(tmp_path)
    with nasbook.KnowledgeBase(path) as kb:
        want = kb.similar(archs[1], 10)
    with np.load(saved, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    with open(saved, "wb") as f:
        np.savez_compressed(f, **arrays)
    with nasbook.KnowledgeBase(path) as kb:
        assert kb.similar(archs[1], 10).equals(want)
        assert _kept(kb).how == "loaded"


@pytest.mark.parametrize("damage", ["truncated", "array changed", "garbage"])
def test_a_damaged_file_is_read_again_with_the_same_answer(tmp_path, damage):
    path, archs, saved = _store(tmp_path)
    with nasbook.KnowledgeBase(path) as kb:
        want = kb.similar(archs[2], 10, task="t-b")
    if damage == "truncated":
        saved.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    elif damage == "garbage":
        saved.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    else:  # one value changed, the header (and its digest) kept: the digest, checked on its thread, refuses it
        with np.load(saved, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["tab_value"] = arrays["tab_value"] + 1.0
        header = json.loads(str(arrays["header"]))
        assert header["format"] == _similar_store.FORMAT
        with open(saved, "wb") as f:
            np.savez(f, **arrays)
    with nasbook.KnowledgeBase(path) as kb:
        assert kb.similar(archs[2], 10, task="t-b").equals(want)
        assert _kept(kb).how != "loaded"
