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
