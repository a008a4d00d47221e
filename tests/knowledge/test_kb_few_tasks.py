"""similar_tasks / cluster_tasks on small knowledge bases: a clear answer or a clear error, never a
silent empty frame or a scikit-learn traceback."""

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.knowledge import nbg_meta_features
from nasbook.tasks import NasBenchGraph


def _kb(datasets, *, meta=False):
    kb = nasbook.KnowledgeBase(":memory:")
    for d in datasets:
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=12, seed=0, kb=kb, name=d).run(progress="none")
        if meta:
            kb.add_task_meta(NasBenchGraph(d), meta_features=nbg_meta_features(d))
    return kb


def test_cluster_tasks_of_two_tasks_puts_each_in_its_own_cluster():
    # the silhouette that picks the number of clusters needs 2 <= clusters <= n - 1: with two tasks
    # it was called anyway and scikit-learn raised "Number of labels is 2"
    out = _kb(["cora", "citeseer"], meta=True).cluster_tasks()
    assert sorted(out["task"]) == ["nbg-citeseer", "nbg-cora"]
    assert sorted(out["cluster"]) == [0, 1]
    assert out.attrs["n_clusters"] == 2


def test_similar_tasks_says_why_no_recorded_task_compares_instead_of_returning_nothing():
    # searches record their tasks without meta-features: a new task's meta-features then meet none
    kb = _kb(["cora", "citeseer"])
    with pytest.raises(InvalidParameterError, match=r"none of the 2 other recorded tasks .*add_task_meta"):
        kb.similar_tasks(NasBenchGraph("pubmed"))


def test_similar_tasks_still_answers_once_meta_features_are_stored():
    near = _kb(["cora", "citeseer"], meta=True).similar_tasks(NasBenchGraph("pubmed"))
    assert set(near["task"]) == {"nbg-cora", "nbg-citeseer"}


def test_a_warm_started_search_still_runs_when_no_past_task_compares():
    kb = _kb(["cora", "citeseer"])
    search = nasbook.Search(NasBenchGraph("pubmed"), budget=5, seed=0, kb=kb, warm_start=3, name="new")
    assert search.run(progress="none").n_trials == 5
