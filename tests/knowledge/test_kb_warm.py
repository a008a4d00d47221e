"""Search(kb=kb, warm_start=...) selects its first architectures from the knowledge base; bo gets a transfer prior."""

import pytest

import nasbook
from nasbook.knowledge import nbg_meta_features
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def kb():
    kb = nasbook.KnowledgeBase(":memory:")
    for d in ("cora", "citeseer", "pubmed"):
        nasbook.Search(NasBenchGraph(d), strategy="evolution", budget=40, seed=2, kb=kb, name=f"e-{d}").run(progress="none")
        kb.add_task_meta(NasBenchGraph(d), meta_features=nbg_meta_features(d))
    return kb


def test_warm_start_from_a_knowledge_base_proposes_the_past_best_first_and_says_where_they_came_from(kb):
    search = nasbook.Search(NasBenchGraph("photo"), strategy="evolution", budget=8, seed=0, kb=kb, warm_start=5,
                            name="warm-photo")
    search.run(progress="none")
    first = search.trials[:5]
    assert all("warm_start_rank" in t.attrs for t in first)
    assert [t.attrs["warm_start_rank"] for t in first] == [0, 1, 2, 3, 4]
    assert all(any(d in t.attrs["warm_start_from"] for d in ("nbg-cora", "nbg-citeseer", "nbg-pubmed")) for t in first)
    past = kb.trials(task=["nbg-cora", "nbg-citeseer", "nbg-pubmed"])
    assert {t.arch.id for t in first} <= set(past["arch_id"])  # seeds are architectures recorded before
    assert "warm-started with 5" in repr(search)
    assert "warm-photo" in set(kb.searches["search"])  # and the search itself is recorded in the kb


def test_bo_with_a_knowledge_base_gets_a_transfer_prior_and_without_one_does_not(kb):
    with_kb = nasbook.Search(NasBenchGraph("photo"), strategy="bo", budget=3, seed=0, kb=kb, name="bo-photo")
    assert with_kb.strategy.prior is not None and callable(with_kb.strategy.prior.predict)
    plain = nasbook.Search(NasBenchGraph("photo"), strategy="bo", budget=3, seed=0, storage=":memory:")
    assert plain.strategy.prior is None


def test_warm_start_true_without_a_knowledge_base_says_what_to_pass():
    with pytest.raises(nasbook.NasbookError, match="kb=KnowledgeBase"):
        nasbook.Search(NasBenchGraph("photo"), strategy="evolution", budget=3, warm_start=True, storage=":memory:")


def test_a_bo_search_with_a_kb_prior_resumes_exactly_from_the_same_past_trials(kb, tmp_path):
    task = NasBenchGraph("photo")
    exported = kb.export(tmp_path / "past.parquet")  # two knowledge bases with the same past
    kb_a, kb_b = nasbook.KnowledgeBase.import_(exported), nasbook.KnowledgeBase.import_(exported)
    whole = nasbook.Search(task, strategy="bo", budget=14, seed=1, kb=kb_a, storage=tmp_path / "a.db", name="bo-r")
    whole.run(progress="none")
    part = nasbook.Search(task, strategy="bo", budget=12, seed=1, kb=kb_b, storage=tmp_path / "b.db", name="bo-r")
    part.run(progress="none")
    assert [t.arch.id for t in part.trials] == [t.arch.id for t in whole.trials[:12]]
    # kb_b gains trials (another search) before the resume: the rebuilt prior must not see them
    nasbook.Search(NasBenchGraph("computers"), strategy="random", budget=15, seed=4, kb=kb_b, name="later").run(progress="none")
    without_kb = nasbook.load_search("bo-r", tmp_path / "b.db", task=task)  # read-only: its prior is not rebuilt
    assert not without_kb.resumable and without_kb.trials == part.trials
    with pytest.raises(nasbook.NasbookError, match="transfer prior from a knowledge base; pass the same kb"):
        without_kb.run(progress="none")
    resumed = nasbook.load_search("bo-r", tmp_path / "b.db", task=task, kb=kb_b, budget=14).run(progress="none")
    assert resumed.strategy.prior.kb_provenance == part.strategy.prior.kb_provenance
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in whole.trials]
