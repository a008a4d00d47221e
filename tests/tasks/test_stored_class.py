"""One rule for the class name a task's stored configuration records (``stored_class``): what load_search rebuilds
it by and a knowledge base tells tasks apart by."""

import pytest

import nasbook
from nasbook.storage import task_key
from nasbook.tasks import Digits, NasBenchGraph, Result, Task, task_class
from nasbook.tasks._base import stored_class
from nasbook.tasks._registry import builtin_tasks
from nasbook.testing import ToyTask


class Mine(Task):
    def __init__(self, weight=1.0):
        self.weight = weight

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return Result(self.weight)


class MyDigits(Digits):
    pass


class Noisy(NasBenchGraph):
    """A NAS-Bench-Graph task whose evaluate the user changed: not the stock task."""


def _named(name, base):
    """A user class named ``name`` (like a built-in), in this module."""
    return type(name, (base,), {"__module__": __name__, "__qualname__": f"Fake.{name}"})


def test_built_ins_are_stored_under_their_class_name():
    assert builtin_tasks()  # every exported task, e.g. Digits, NasBenchGraph, TrainingTask
    for name, cls in builtin_tasks().items():
        assert stored_class(cls) == name
    assert Digits().to_config()["class"] == "Digits" and NasBenchGraph("cora").to_config()["class"] == "NasBenchGraph"


def test_user_classes_keep_their_class_name():
    assert stored_class(Mine) == "Mine" and Mine().to_config()["class"] == "Mine"
    assert stored_class(MyDigits) == "MyDigits" and MyDigits().to_config()["class"] == "MyDigits"
    assert stored_class(ToyTask) == "ToyTask"


@pytest.mark.parametrize("name, base", [("Digits", Digits), ("DigitsTable", Task), ("TrainingTask", Mine)])
def test_a_user_class_named_like_a_built_in_is_stored_by_module_and_qualified_name(name, base):
    cls = _named(name, base)
    assert stored_class(cls) == f"{__name__}.Fake.{name}"
    assert task_class(stored_class(cls)) is None  # never rebuilt as the built-in: load_search asks for task=...


def test_subclasses_of_nas_bench_graph_are_stored_as_class_dash_stock_name():
    assert stored_class(Noisy) == "Noisy-NasBenchGraph"
    config = Noisy("cora").to_config()
    assert config == {"class": "Noisy-NasBenchGraph", "params": {"dataset": "cora"}, "metric": "val_accuracy", "mode": "max"}
    assert task_key(config) != task_key(NasBenchGraph("cora").to_config())  # another task, in a knowledge base too
    renamed = _named("NasBenchGraph", NasBenchGraph)  # a subclass named like the stock class
    assert stored_class(renamed) == f"{__name__}.Fake.NasBenchGraph-NasBenchGraph"


def test_a_registered_subclass_of_nas_bench_graph_is_rebuilt_by_load_search(tmp_path):
    path = tmp_path / "nbg.db"
    nasbook.tasks.register(Noisy)
    try:
        assert task_class("Noisy-NasBenchGraph") is Noisy
        assert task_class("Mine-NasBenchGraph") is None and task_class("-NasBenchGraph") is None
        task = Noisy("cora")
        nasbook.Search(task.space, task, strategy="random", budget=3, storage=path, name="noisy", seed=0).run()
        again = nasbook.load_search("noisy", path)
        assert type(again.task) is Noisy and again.task.dataset == "cora" and again.n_trials == 3
    finally:
        nasbook.tasks.unregister(Noisy)
    assert task_class("Noisy-NasBenchGraph") is None  # not registered: never rebuilt as the stock task
    loaded = nasbook.load_search("noisy", path)  # read-only (search._readonly), its trials readable
    assert not loaded.resumable and loaded.n_trials == 3 and type(loaded.task).__name__ == "UnrebuiltTask"
    assert loaded.task.stored_class == "Noisy-NasBenchGraph"
    with pytest.raises(nasbook.SearchNotResumableError, match=r"task=\.\.\."):
        loaded.run()
