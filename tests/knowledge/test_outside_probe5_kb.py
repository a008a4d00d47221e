"""``KnowledgeBase`` task similarity and warm starts name their own parameters (outside probe 5:
``cluster_tasks(n_probes=0)`` blamed ``pick_probes(n=...)``, a function the user never called;
``similar_tasks(landmarks=[0.5])`` and ``warm_start(None)`` raised raw AttributeErrors)."""
import numpy as np
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def kb():
    kb = KnowledgeBase(":memory:")
    for i, d in enumerate(("cora", "citeseer", "pubmed")):
        nasbook.Search(NasBenchGraph(d), strategy="random", budget=6, seed=620 + i, kb=kb, name=d).run(progress="none")
    return kb


@pytest.mark.parametrize("method", ["cluster_tasks", "task_distances", "plot_task_map"])
@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_n_probes_is_named_n_probes_of_the_method_called(kb, method, bad):
    with pytest.raises(nasbook.InvalidParameterError, match=rf"KnowledgeBase\.{method}\(n_probes=\.\.\.\)") as info:
        getattr(kb, method)(n_probes=bad)
    assert "pick_probes" not in str(info.value)


def test_n_probes_takes_a_numpy_int(kb):
    assert len(kb.task_distances(n_probes=np.int64(5))) == 3


def test_similar_tasks_refuses_landmarks_that_are_not_a_mapping(kb):
    with pytest.raises(nasbook.InvalidParameterError, match=r"similar_tasks\(landmarks=\.\.\.\).*got \[0\.5\] of type list"):
        kb.similar_tasks("nbg-cora", landmarks=[0.5])


@pytest.mark.parametrize("bad", [None, "nbg-cora", NasBenchGraph("cora")])
def test_warm_start_refuses_a_space_that_is_not_one(kb, bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"warm_start\(space=\.\.\.\) must be a SearchSpace"):
        kb.warm_start(bad)
    assert len(kb.warm_start(NasBenchGraph("cora").space, n=2)) == 2


@pytest.mark.parametrize("kw", [{"n": 0}, {"n": 2.5}, {"mode": "bogus"}, {"diversify": "no"}, {"task_weights": "nbg-cora"},
                                {"task_weights": {"nope": 1.0}}, {"task_weights": {"nbg-cora": -1.0}}])
def test_warm_start_errors_name_warm_start_not_the_inner_select_warm_start(kb, kw):
    with pytest.raises(nasbook.InvalidParameterError, match=r"^KnowledgeBase\.warm_start\(") as info:
        kb.warm_start(NasBenchGraph("cora").space, **kw)
    assert "select_warm_start" not in str(info.value)


def test_select_warm_start_still_names_itself(kb):
    from nasbook.knowledge import select_warm_start

    with pytest.raises(nasbook.InvalidParameterError, match=r"^select_warm_start\(n=\.\.\.\)"):
        select_warm_start(kb.trials(), NasBenchGraph("cora").space, n=0)
