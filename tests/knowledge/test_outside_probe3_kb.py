"""Knowledge-base calls an outside evaluator made (benchmarks/outside_probe3.py, docs/benchmarks.md
"Outside-evaluator probe 3"): numpy integers where ints are taken, and errors that say what is missing."""

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.knowledge import nbg_meta_features
from nasbook.strategies import Portfolio, portfolio_prior
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def kb():
    kb = nasbook.KnowledgeBase(":memory:")
    for seed, d in enumerate(("cora", "citeseer"), start=310):  # other seeds: no architecture in common
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=12, seed=seed, kb=kb, name=d).run(progress="none")
    return kb


def test_similar_takes_a_numpy_k_as_it_takes_an_int(kb):
    # before: check_int accepted np.int64(3) but its plain int was dropped, and FAISS raised a raw SWIG
    # TypeError ("Wrong number or type of arguments for overloaded function 'IndexIDMap_search'")
    arch = NasBenchGraph("cora").space.enumerate()[0]
    for task in (None, "nbg-cora"):  # without a task filter the whole index is searched (FAISS itself)
        got = kb.similar(arch, k=np.int64(3), task=task)
        assert got["arch_id"].tolist() == kb.similar(arch, k=3, task=task)["arch_id"].tolist()
        assert got["arch_id"].nunique() == 3


def test_similar_tasks_with_only_the_query_recorded_says_so(kb):
    one = nasbook.KnowledgeBase(":memory:")
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=5, seed=300, kb=one).run(progress="none")
    # before: "no recorded task to compare with (tasks and trials are empty after exclude)"
    with pytest.raises(InvalidParameterError, match=r"only recorded task \('nbg-cora'\) is the query itself"):
        one.similar_tasks(NasBenchGraph("cora"))
    with pytest.raises(InvalidParameterError, match="no task is recorded yet"):
        nasbook.KnowledgeBase(":memory:").similar_tasks(NasBenchGraph("cora"))


def test_task_map_and_clusters_of_incomparable_tasks_name_the_pair_and_the_fix(kb):
    # before, plot_task_map said "needs at least 2 tasks with finite distances; got 2 tasks", and
    # cluster_tasks pointed to pick_probes, which is no KnowledgeBase method
    for call in (kb.plot_task_map, kb.cluster_tasks):
        with pytest.raises(InvalidParameterError, match=r"'nbg-citeseer' and 'nbg-cora'.*kb\.measure_landmarks\(task\)"):
            call()


def test_the_task_map_of_three_tasks_names_itself_not_cluster_tasks(kb):
    three = nasbook.KnowledgeBase(":memory:")
    three.import_parquet(kb.export(__import__("tempfile").mkdtemp() + "/kb.parquet"))
    nasbook.Search(NasBenchGraph("photo"), strategy="random", budget=12, seed=312, kb=three).run(progress="none")
    # before: from three tasks on, plot_task_map clustered them first and the error began "cluster_tasks: ..."
    with pytest.raises(InvalidParameterError, match=r"^plot_task_map: 3 of the 3 pairs"):
        three.plot_task_map()


def test_task_map_of_comparable_tasks_still_draws():
    kb = nasbook.KnowledgeBase(":memory:")
    for d in ("cora", "citeseer", "photo"):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=8, seed=301, kb=kb).run(progress="none")
        kb.add_task_meta(NasBenchGraph(d), meta_features=nbg_meta_features(d))
    assert kb.plot_task_map() is not None


def test_portfolio_prior_takes_a_numpy_budget(kb):
    # before: "portfolio_prior(budget=...) must be an int >= 1 or None; got np.int64(5)"
    assert portfolio_prior(kb.trials(), budget=np.int64(5)) == portfolio_prior(kb.trials(), budget=5)
    with pytest.raises(InvalidParameterError, match=r"portfolio_prior\(budget=\.\.\.\) must be an int >= 1"):
        portfolio_prior(kb.trials(), budget=0)


def test_a_portfolio_prior_from_the_kb_keeps_saying_so_in_the_repr():
    # a real prior's floats (0.9442620531069554, ...) made the repr cut the value before "(from kb)"
    p = Portfolio()
    p.prior = {"evolution": 0.9442620531069554, "random": 0.6388850362986507, "bo": 1.0}
    p.prior_from_ = "kb"
    text = repr(p)
    assert "prior={'evolution': 0.9443, 'random': 0.6389, 'bo': 1.0} (from kb)" in text
    p.prior = {f"arm{i}": 1.0 / (i + 3) for i in range(9)}  # longer than the repr's room: cut, but the source stays
    assert "...} (from kb)" not in repr(p) and "... (from kb)" in repr(p)


@pytest.mark.parametrize("method", ["cluster_tasks", "plot_task_map", "task_distances", "probes"])
def test_an_empty_base_names_the_method_called_not_an_inner_one(method):
    # before: "pick_probes: no trials recorded; ..." for kb.cluster_tasks() and the rest
    with pytest.raises(InvalidParameterError, match=rf"^KnowledgeBase\.{method}: no completed trial is recorded .*Search\(\.\.\., kb=kb\)"):
        getattr(nasbook.KnowledgeBase(":memory:"), method)()
