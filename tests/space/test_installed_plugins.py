"""Spaces and tasks an installed package lists under the entry-point groups ``nasbook.spaces`` and
``nasbook.tasks``, as strategies and predictors are listed under ``nasbook.strategies`` and
``nasbook.predictors``: found by name and by the class name a search stores, checked by the contracts,
and rebuilt by ``load_search`` in a fresh interpreter that never imported the package by hand. A package
that fails to import is named in the error; a built-in's name stays the built-in's."""

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import pytest

import nasbook
from nasbook.space import PROTEINS_OPS, GraphSpace, space_class
from nasbook.tasks import task_class
from nasbook.testing import SpaceContract, TaskContract, ToyTask

#: the package's module: a space and a task (a task whose stored parameters say all it evaluates on)
PLUGIN = '''
import numpy as np
from nasbook.space import GraphSpace
from nasbook.tasks import Result, Task


class TinyGraph(GraphSpace):
    """A GraphSpace under its own class name, which a search stores."""


class CosineScore(Task):
    """A fixed score of the architecture's adjacency, scaled by ``weight``."""

    metric = "score"

    def __init__(self, weight=1.0):
        self.weight = weight

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        x = space.encode(arch, "adjacency").astype(float)
        return Result(float(self.weight * x @ np.cos(np.arange(len(x)))))
'''
#: the entry points are named unlike the classes: a stored search finds them by class name
ENTRY_POINTS = {"nasbook.spaces": {"tiny-graph": "nb_space_plugin:TinyGraph"},
                "nasbook.tasks": {"cosine": "nb_space_plugin:CosineScore"}}

#: a fresh interpreter: nothing of the plug-in is imported or registered by hand
CHILD = textwrap.dedent("""
    import json, sys
    import nasbook

    assert "nb_space_plugin" not in sys.modules
    search = nasbook.load_search("plug", sys.argv[1])
    before = search.n_trials
    search.run(progress=False)
    print(json.dumps({"space": f"{type(search.space).__module__}.{type(search.space).__name__}",
                      "task": f"{type(search.task).__module__}.{type(search.task).__name__}",
                      "weight": search.task.weight, "before": before, "state": search.state.value,
                      "trials": [[t.number, t.arch.id, t.value] for t in search.trials]}))
""")


@pytest.fixture
def installed(install_plugin):
    return install_plugin("nb_space_plugin", PLUGIN, ENTRY_POINTS)


def _trials(search):
    return [[t.number, t.arch.id, t.value] for t in search.trials]


def test_an_installed_space_and_task_are_found_by_name_and_by_stored_class_name(installed):
    import nb_space_plugin

    assert space_class("tiny-graph") is space_class("TinyGraph") is nb_space_plugin.TinyGraph
    assert task_class("cosine") is task_class("CosineScore") is nb_space_plugin.CosineScore
    assert space_class("GraphSpace") is GraphSpace and space_class("NoSuchSpace") is None
    assert task_class("NoSuchTask") is None


class TestInstalledSpace(SpaceContract):
    @pytest.fixture
    def space(self, installed):
        return space_class("tiny-graph")(ops=("gcn", "gat", "skip"))


class TestInstalledTask(TaskContract):
    @pytest.fixture
    def task(self, installed):
        return task_class("cosine")(weight=2.5)

    @pytest.fixture
    def space(self, installed):
        return space_class("tiny-graph")(ops=PROTEINS_OPS)


def test_a_search_resumes_in_a_fresh_interpreter_with_nothing_imported_by_hand(installed, tmp_path):
    space, task = space_class("tiny-graph")(ops=PROTEINS_OPS), task_class("cosine")(weight=2.5)
    whole = nasbook.Search(space, task, strategy="evolution", budget=30, seed=4, storage=":memory:").run(progress=False)

    def ctrl_c(search, trial):
        if trial.number == 11:
            raise KeyboardInterrupt

    path = tmp_path / "runs.db"
    stopped = nasbook.Search(space, task, strategy="evolution", budget=30, seed=4, storage=path, name="plug",
                             callbacks=[ctrl_c])
    with pytest.raises(KeyboardInterrupt):
        stopped.run(progress=False)
    assert stopped.n_trials == 12
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # the package is on the path
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["space"] == "nb_space_plugin.TinyGraph" and got["task"] == "nb_space_plugin.CosineScore"
    assert got["weight"] == 2.5 and got["before"] == 12 and got["state"] == "done"
    assert len(got["trials"]) == 30 and got["trials"] == _trials(whole)


def test_a_knowledge_base_rebuilds_an_installed_space_with_none_in_memory(installed, tmp_path, monkeypatch):
    kb = nasbook.KnowledgeBase(tmp_path / "kb.db")
    space = space_class("tiny-graph")(ops=PROTEINS_OPS)
    nasbook.Search(space, task_class("cosine")(), strategy="random", budget=5, seed=0, kb=kb,
                   storage=tmp_path / "runs.db", name="kb").run(progress=False)
    monkeypatch.setattr(nasbook.space, "live_space", lambda space_id: None)  # as in a new kernel
    rebuilt = kb.space(space.space_id)
    assert type(rebuilt).__name__ == "TinyGraph" and rebuilt.space_id == space.space_id


def test_a_plugin_that_fails_to_import_is_named_with_its_package(install_plugin, tmp_path):
    install_plugin("nb_broken_plugin", "import nb_missing_dependency\n",
                   {"nasbook.spaces": {"broken-space": "nb_broken_plugin:BrokenSpace"},
                    "nasbook.tasks": {"broken-task": "nb_broken_plugin:BrokenTask"}})
    named = (r"The {} plug-in '{}' = 'nb_broken_plugin:{}' \(entry-point group '{}', package nb-broken-plugin 0\.1\) "
             r"failed to import: ModuleNotFoundError: No module named 'nb_missing_dependency'")
    with pytest.raises(nasbook.NasbookError, match=named.format("space", "broken-space", "BrokenSpace", "nasbook.spaces")):
        space_class("broken-space")
    with pytest.raises(nasbook.NasbookError, match=named.format("task", "broken-task", "BrokenTask", "nasbook.tasks")):
        task_class("BrokenTask")  # the class name a search stores

    class BrokenTask(nasbook.tasks.Task):  # the search ran with the class before its package broke
        metric = "score"

        def evaluate(self, arch, *, space=None, fidelity=None, report=None):
            return nasbook.tasks.Result(float(len(arch.id)))

    path = tmp_path / "broken.db"
    nasbook.Search(GraphSpace(ops=PROTEINS_OPS), BrokenTask(), budget=3, seed=0, storage=path, name="b").run(progress=False)
    with pytest.raises(nasbook.NasbookError, match=named.format("task", "broken-task", "BrokenTask", "nasbook.tasks")):
        nasbook.load_search("b", path)


def test_a_builtin_name_stays_the_builtins_and_a_plugin_keeps_its_name(install_plugin):
    install_plugin("nb_clash_plugin", PLUGIN + textwrap.dedent('''
        import nasbook.space


        class ChainSpace(nasbook.space.ChainSpace):
            """Named like a built-in: its searches would be stored as the built-in's."""
        '''), {"nasbook.spaces": {"GraphSpace": "nb_clash_plugin:TinyGraph", "chains": "nb_clash_plugin:ChainSpace",
                                  "not-a-space": "nb_clash_plugin:CosineScore", "tiny-graph": "nb_clash_plugin:TinyGraph"},
               "nasbook.tasks": {"Digits": "nb_clash_plugin:CosineScore", "cosine": "nb_clash_plugin:CosineScore"}})
    with pytest.warns(nasbook.NasbookWarning, match=r"entry point 'GraphSpace' = 'nb_clash_plugin:TinyGraph' of group "
                                                    r"'nasbook\.spaces' is ignored: 'GraphSpace' is already the built-in "
                                                    r"GraphSpace"):
        assert space_class("GraphSpace") is GraphSpace
    with pytest.warns(nasbook.NasbookWarning, match=r"'Digits' = 'nb_clash_plugin:CosineScore' of group 'nasbook\.tasks' "
                                                    r"is ignored.*built-in Digits"):
        assert task_class("Digits") is nasbook.tasks.Digits
    with pytest.warns(nasbook.NasbookWarning), pytest.raises(
            nasbook.NasbookError, match=r"nb_clash_plugin\.ChainSpace, named like the built-in space ChainSpace.*Rename "
                                        r"the class"):
        space_class("chains")
    with pytest.warns(nasbook.NasbookWarning), pytest.raises(
            nasbook.NasbookError, match=r"'not-a-space' = 'nb_clash_plugin:CosineScore'.*not a space class.*subclass of "
                                        r"nasbook\.space\.SearchSpace"):
        space_class("not-a-space")
    # in this process: an installed plug-in's name or class name is not taken, as for strategies
    other = type("TinyGraph", (GraphSpace,), {"__module__": "elsewhere"})
    with pytest.raises(nasbook.InvalidParameterError, match=r"the class name 'TinyGraph' is installed plug-in .*rename "
                                                            r"the class"):
        nasbook.space.register(other, name="mine")
    with pytest.raises(nasbook.InvalidParameterError, match=r"the name 'cosine' is installed plug-in 'cosine' = "
                                                            r"'nb_clash_plugin:CosineScore' \(entry-point group "
                                                            r"'nasbook\.tasks'\), which it keeps"):
        nasbook.tasks.register(type("Scored", (ToyTask,), {}), name="cosine")
    with pytest.raises(nasbook.InvalidParameterError, match=r"'cosine' is an installed plug-in"):
        nasbook.tasks.unregister("cosine")
    with pytest.warns(nasbook.NasbookWarning):  # reading the groups again warns again about the ignored ones
        assert space_class("mine") is None and task_class("cosine").__module__ == "nb_clash_plugin"


def test_plugins_are_found_by_class_name_after_the_importlib_metadata_backport_is_imported(installed):
    """Importing the backport puts its path finder on sys.meta_path, and the standard library's
    entry_points() then returns the backport's EntryPoint objects (torch's code paths import it: the
    full test run lost every look-up by stored class name after the proxies tests)."""
    backport = pytest.importorskip("importlib_metadata")
    import nb_space_plugin

    listed = [ep for ep in entry_points(group="nasbook.spaces") if ep.name == "tiny-graph"]
    assert listed and type(listed[0]).__module__ == backport.__name__  # the situation this test is about
    assert space_class("TinyGraph") is nb_space_plugin.TinyGraph
    assert task_class("CosineScore") is nb_space_plugin.CosineScore
