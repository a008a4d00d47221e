"""Plug-ins registered in this process (``nasbook.strategies.register`` and the same for predictors, spaces and
tasks), as a researcher registers a class written in a notebook cell: used by name, and rebuilt by
``load_search`` from the stored class name and parameters (never a pickle) in the same kernel or in a
restarted one once the cell has run again. Re-running the cell just works; clashes are refused."""

import re
import textwrap

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import Predictor, available_predictors, predictor_class
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import BO, RandomSearch, available_strategies, get_strategy, strategy_class
from nasbook.testing import ToyTask

#: a notebook cell: a strategy, a predictor, a space and a task, each registered
CELL = '''
import numpy as np
import nasbook
from nasbook.predictors import BasePredictor
from nasbook.space import GraphSpace
from nasbook.strategies import BaseStrategy
from nasbook.tasks import Result, Task


@nasbook.strategies.register(name="greedy-cell")
class Greedy(BaseStrategy):
    def __init__(self, n_init=5, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.n_init = n_init

    def _setup(self):
        self.best_ = None

    def _ask(self):
        if self.best_ is None or self.n_told_ < self.n_init or self.rng_.random() < 0.3:
            return self._sample_new()
        parent = self.best_[1]
        return self._sample_new(lambda: self.space_.mutate(parent, self.rng_))

    def _tell(self, trial):
        if trial.value is not None and (self.best_ is None or self._score(trial) > self.best_[0]):
            self.best_ = (self._score(trial), trial.arch)


@nasbook.predictors.register(name="knn-cell")
class Knn(BasePredictor):
    def __init__(self, k=5, features="auto", target="rank", calibration="none", seed=None):
        super().__init__(features=features, target=target, calibration=calibration, seed=seed)
        self.k = k

    def _fit(self, X, z):
        self.X_, self.z_ = X, z

    def _predict(self, X):
        d = ((X[:, None, :] - self.X_[None]) ** 2).sum(-1)
        near = self.z_[np.argsort(d, axis=1, kind="stable")[:, : self.k]]
        return near.mean(1), near.std(1) + 1e-3


@nasbook.space.register
class SmallGraph(GraphSpace):
    pass


@nasbook.tasks.register
class Weighted(Task):
    metric = "score"

    def __init__(self, weight=1.0):
        self.weight = weight

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        x = space.encode(arch, "adjacency").astype(float)
        return Result(float(self.weight * x @ np.cos(np.arange(len(x)))))
'''


def run_cell(source=CELL):
    """Run ``source`` as a notebook cell runs: in module ``__main__``, each run defining new class objects."""
    ns = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(source), "<cell>", "exec"), ns)
    return ns


def restart_kernel():
    """What a restarted kernel has registered: nothing."""
    from nasbook.predictors._registry import _REGISTRY as predictors
    from nasbook.space._registry import _REGISTRY as spaces
    from nasbook.strategies._registry import _REGISTRY as strategies
    from nasbook.tasks._registry import _REGISTRY as tasks

    for registry in (strategies, predictors, spaces, tasks):
        registry.classes.clear()


@pytest.fixture(autouse=True)
def fresh_kernel():
    restart_kernel()
    yield
    restart_kernel()


@pytest.fixture
def space():
    return GraphSpace(ops=PROTEINS_OPS)


def _ids(search):
    return [t.arch.id for t in search.trials]


def test_a_strategy_of_a_cell_is_used_by_name_and_resumed_by_load_search_after_a_restart(space, tmp_path):
    run_cell()
    assert "greedy-cell" in available_strategies()
    task = ToyTask(space, seed=2)
    full = nasbook.Search(space, task, strategy="greedy-cell", budget=30, seed=1, storage=":memory:").run(progress=False)
    path = tmp_path / "runs.db"
    nasbook.Search(space, task, strategy=get_strategy("greedy-cell", n_init=4), budget=12, seed=1, storage=path,
                   name="g").run(progress=False)
    restart_kernel()
    with pytest.raises(nasbook.InvalidParameterError, match=r"class 'Greedy'.*nasbook\.strategies\.register\(Greedy\)"):
        nasbook.load_search("g", path, task=task).run(progress=False)  # loads read-only; run() says what to do
    cell = run_cell()  # the cell run again in the new kernel: new class objects
    resumed = nasbook.load_search("g", path, task=task, budget=30)
    assert type(resumed.strategy) is cell["Greedy"] and resumed.strategy.n_init == 4
    resumed.run(progress=False)
    again = nasbook.Search(space, task, strategy=cell["Greedy"](n_init=4), budget=30, seed=1, storage=":memory:")
    assert _ids(resumed) == _ids(again.run(progress=False))
    assert _ids(full) != [] and len(_ids(resumed)) == 30


def test_running_the_cell_again_replaces_the_classes_without_error():
    first = run_cell()
    second = run_cell()
    assert first["Greedy"] is not second["Greedy"]
    assert strategy_class("greedy-cell") is second["Greedy"] and strategy_class("Greedy") is second["Greedy"]
    assert available_strategies()["greedy-cell"] is second["Greedy"]
    assert predictor_class("knn-cell") is second["Knn"] and available_predictors()["knn-cell"] is second["Knn"]
    # a redefinition registered under a new name replaces the stale class under the old name too
    nasbook.strategies.register(first["Greedy"], name="greedy-2")
    assert strategy_class("greedy-cell") is first["Greedy"]
    assert sorted(nasbook.strategies.unregister(second["Greedy"])) == ["greedy-2", "greedy-cell"]
    assert "greedy-cell" not in available_strategies()


def test_a_registered_predictor_is_used_by_name_and_rebuilt_in_a_resumed_bo(space, tmp_path):
    cell = run_cell()
    archs = space.enumerate()[:40]
    assert type(Predictor(model="knn-cell", seed=0).fit(archs, np.arange(40.0)).model_) is cell["Knn"]
    task = ToyTask(space, seed=2)
    path = tmp_path / "bo.db"
    nasbook.Search(space, task, strategy=BO(predictor=cell["Knn"](k=3), n_initial=5), budget=8, seed=0, storage=path,
                   name="bo").run(progress=False)
    restart_kernel()
    cell = run_cell()
    resumed = nasbook.load_search("bo", path, task=task, budget=10)  # stored as {'predictor': 'Knn', ...}
    assert type(resumed.strategy._template) is cell["Knn"] and resumed.strategy._template.k == 3
    assert resumed.run(progress=False).n_trials == 10


def test_a_registered_space_and_task_are_rebuilt_by_load_search_with_nothing_passed(tmp_path):
    cell = run_cell()
    space, task = cell["SmallGraph"](ops=PROTEINS_OPS), cell["Weighted"](weight=2.5)
    path = tmp_path / "st.db"
    nasbook.Search(space, task, strategy="evolution", budget=10, seed=3, storage=path, name="st").run(progress=False)
    whole = nasbook.Search(space, task, strategy="evolution", budget=16, seed=3, storage=":memory:").run(progress=False)
    restart_kernel()
    with pytest.raises(nasbook.InvalidParameterError, match=r"space 'SmallGraph'.*nasbook\.space\.register\(SmallGraph\)"):
        nasbook.load_search("st", path)
    read_only = nasbook.load_search("st", path, space=space)  # the task is not needed to read it
    with pytest.raises(nasbook.InvalidParameterError, match=r"'Weighted'.*nasbook\.tasks\.register\(Weighted\)"):
        read_only.run(progress=False)
    read_only.close()
    cell = run_cell()
    resumed = nasbook.load_search("st", path, budget=16)
    assert type(resumed.space) is cell["SmallGraph"] and type(resumed.task) is cell["Weighted"]
    assert resumed.task.weight == 2.5
    assert _ids(resumed.run(progress=False)) == _ids(whole)


def test_a_builtin_name_or_class_name_is_refused():
    cell = run_cell()
    with pytest.raises(nasbook.InvalidParameterError, match=r"'evolution' is the built-in strategy RegularizedEvolution's "
                                                            r"name.*Register Greedy under another name"):
        nasbook.strategies.register(cell["Greedy"], name="evolution")
    with pytest.raises(nasbook.InvalidParameterError, match=r"'RandomSearch' is the built-in strategy RandomSearch's name"):
        nasbook.strategies.register(cell["Greedy"], name="RandomSearch")
    with pytest.raises(nasbook.InvalidParameterError, match=r"'gp' is the built-in predictor GaussianProcess's name"):
        nasbook.predictors.register(cell["Knn"], name="gp")
    with pytest.raises(nasbook.InvalidParameterError, match=r"'auto' is the built-in predictor Predictor's name"):
        nasbook.predictors.register(cell["Knn"], name="auto")
    # a class named like a built-in: its searches would be stored under the built-in's class name
    named = run_cell("from nasbook.strategies import RandomSearch as Base\nclass RandomSearch(Base):\n    pass\n")
    with pytest.raises(nasbook.InvalidParameterError, match=r"__main__\.RandomSearch is named like the built-in strategy "
                                                            r"RandomSearch.*Rename the class"):
        nasbook.strategies.register(named["RandomSearch"], name="my-random")
    tasks = run_cell("from nasbook.tasks import Digits as Base\nclass Digits(Base):\n    pass\n")
    with pytest.raises(nasbook.InvalidParameterError, match=r"named like the built-in task Digits"):
        nasbook.tasks.register(tasks["Digits"])
    assert strategy_class("evolution").__name__ == "RegularizedEvolution"


def test_an_installed_plugins_name_or_class_name_is_refused(install_plugin):
    install_plugin("nb_reg_plugin", "from nasbook.strategies import RandomSearch\n\nclass Greedy(RandomSearch):\n    pass\n",
                   {"nasbook.strategies": {"greedy": "nb_reg_plugin:Greedy"}})
    with pytest.raises(nasbook.InvalidParameterError, match=r"the class name 'Greedy' is installed plug-in 'greedy' = "
                                                            r"'nb_reg_plugin:Greedy'.*rename the class"):
        run_cell()  # registers another class named Greedy, as "greedy-cell"
    assert "greedy-cell" not in available_strategies()
    cell = run_cell(CELL.replace('@nasbook.strategies.register(name="greedy-cell")', ""))
    with pytest.raises(nasbook.InvalidParameterError, match=r"the name 'greedy' is installed plug-in 'greedy' = "
                                                            r"'nb_reg_plugin:Greedy'.*which it keeps"):
        nasbook.strategies.register(cell["Greedy"], name="greedy")
    import nb_reg_plugin

    assert nasbook.strategies.register(nb_reg_plugin.Greedy, name="greedy") is nb_reg_plugin.Greedy  # the same class
    assert nasbook.strategies.unregister(nb_reg_plugin.Greedy) == ["greedy"]
    with pytest.raises(nasbook.InvalidParameterError, match=r"'greedy' is an installed plug-in"):
        nasbook.strategies.unregister("greedy")
    assert strategy_class("greedy") is nb_reg_plugin.Greedy


def test_what_is_not_a_plugin_class_is_refused_naming_the_parameter():
    cell = run_cell()
    with pytest.raises(InvalidParameterTypeError, match=r"nasbook\.strategies\.register\(plugin=\.\.\.\) must be a "
                                                                r"subclass of nasbook\.strategies\.BaseStrategy \(the class "
                                                                r"itself\); got <class 'int'> of type type"):
        nasbook.strategies.register(int)
    with pytest.raises(InvalidParameterTypeError, match=r"got an instance; pass its class"):
        nasbook.strategies.register(RandomSearch())
    with pytest.raises(InvalidParameterTypeError, match=r"subclass of nasbook\.predictors\.BasePredictor.*got "
                                                                r"<class '__main__\.Greedy'>"):
        nasbook.predictors.register(cell["Greedy"])
    with pytest.raises(InvalidParameterTypeError, match=r"subclass of nasbook\.space\.SearchSpace"):
        nasbook.space.register(cell["Weighted"])
    with pytest.raises(InvalidParameterTypeError, match=r"subclass of nasbook\.tasks\.Task"):
        nasbook.tasks.register(cell["SmallGraph"])
    with pytest.raises(InvalidParameterTypeError, match=r"BaseStrategy is abstract"):
        nasbook.strategies.register(nasbook.strategies.BaseStrategy, name="base")
    with pytest.raises(InvalidParameterTypeError, match=r"takes the class first and the name as a keyword: "
                                                                r"nasbook\.strategies\.register\(MyClass, name='mine'\)"):
        nasbook.strategies.register("mine")
    with pytest.raises(InvalidParameterTypeError, match=r"register\(name=\.\.\.\) must be a non-empty str.*got 3"):
        nasbook.strategies.register(cell["Greedy"], name=3)
    with pytest.raises(InvalidParameterTypeError, match=r"unregister\(name_or_class=\.\.\.\) must be"):
        nasbook.strategies.unregister(3)


@pytest.mark.parametrize("name", ["hill climb", " greedy", "", "a.b", "-greedy", "2greedy", "greedy!"])
def test_a_name_users_could_not_type_like_a_builtin_is_refused_naming_name(name):
    # "hill climb" was registered, and Search(strategy="hill climb") looked it up: a registry name has the built-ins'
    # form (an identifier, '-' for '_': "median-stopping", "random-forest", a class name), in every registry
    cell = run_cell(CELL.replace('@nasbook.strategies.register(name="greedy-cell")', "").replace(
        '@nasbook.predictors.register(name="knn-cell")', ""))
    for register, cls in ((nasbook.strategies.register, cell["Greedy"]), (nasbook.predictors.register, cell["Knn"])):
        with pytest.raises(InvalidParameterError, match=r"register\(name=\.\.\.\) must be a non-empty str of letters, "
                                                        r"digits, '_' and '-'.*got " + re.escape(repr(name))):
            register(cls, name=name)
    assert "hill climb" not in available_strategies() and "hill climb" not in available_predictors()
    if name == "hill climb":
        with pytest.raises(InvalidParameterError, match="did you mean 'hill-climb'"):
            nasbook.strategies.register(cell["Greedy"], name=name)
    assert nasbook.strategies.register(cell["Greedy"], name="hill_climb-2") is cell["Greedy"]  # the allowed form


def test_another_class_under_a_taken_name_is_refused_until_unregistered():
    cell = run_cell()
    other = run_cell("from nasbook.strategies import RandomSearch\nclass Other(RandomSearch):\n    pass\n")["Other"]
    with pytest.raises(nasbook.InvalidParameterError, match=r"'greedy-cell' is registered to __main__\.Greedy in this "
                                                            r"process\. Call nasbook\.strategies\.unregister\('greedy-cell'\)"):
        nasbook.strategies.register(other, name="greedy-cell")
    assert nasbook.strategies.unregister("greedy-cell") == ["greedy-cell"]
    assert nasbook.strategies.register(other, name="greedy-cell") is other
    assert strategy_class("greedy-cell") is other
    assert nasbook.strategies.unregister("never-registered") == []  # a cell may unregister before it registers
    with pytest.raises(nasbook.InvalidParameterError, match=r"'evolution' is a built-in strategy, which cannot be unregistered"):
        nasbook.strategies.unregister("evolution")
    # two classes with one class name (another module): a stored search could not tell them apart
    twin = run_cell("from nasbook.strategies import RandomSearch\nclass Greedy(RandomSearch):\n    pass\n")["Greedy"]
    twin.__module__ = "elsewhere"
    nasbook.strategies.register(cell["Greedy"], name="greedy-again")
    with pytest.raises(nasbook.InvalidParameterError, match=r"__main__\.Greedy is registered \(as 'greedy-again'\) with the "
                                                            r"same class name as elsewhere\.Greedy"):
        nasbook.strategies.register(twin, name="twin")


def test_register_is_a_decorator_with_or_without_arguments_and_defaults_to_the_class_name():
    ns = run_cell("""
        import nasbook
        from nasbook.strategies import RandomSearch

        @nasbook.strategies.register
        class Plain(RandomSearch):
            pass

        @nasbook.strategies.register()
        class Empty(RandomSearch):
            pass

        class Aliased(RandomSearch):
            alias = "aliased"

        same = nasbook.strategies.register(Aliased)
    """)
    assert strategy_class("Plain") is ns["Plain"] and strategy_class("Empty") is ns["Empty"]
    assert ns["same"] is ns["Aliased"] and strategy_class("aliased") is ns["Aliased"]  # its own alias, stored with it
    assert type(get_strategy("Plain", seed=3)) is ns["Plain"]
    with pytest.raises(nasbook.InvalidParameterError, match=r"Unknown strategy ''"):
        strategy_class("")  # an empty alias is nobody's, though Plain's alias is ""


def test_a_knowledge_base_rebuilds_a_registered_space_with_none_in_memory(tmp_path, monkeypatch):
    cell = run_cell()
    kb = nasbook.KnowledgeBase(tmp_path / "kb.db")
    space = cell["SmallGraph"](ops=PROTEINS_OPS)
    search = nasbook.Search(space, cell["Weighted"](weight=1.5), strategy="random", budget=6, seed=0, kb=kb,
                            storage=tmp_path / "runs.db", name="kb").run(progress=False)
    space_id, first = space.space_id, search.trials[0].arch
    del space, search
    restart_kernel()
    cell = run_cell()  # a new kernel: the class is registered again, but no SmallGraph object exists
    monkeypatch.setattr(nasbook.space, "live_space", lambda space_id: None)  # other tests' spaces live on here
    rebuilt = kb.space(space_id)
    assert type(rebuilt) is cell["SmallGraph"] and rebuilt.space_id == space_id
    near = kb.similar(first, k=3)  # needs the space's encoding: the query itself is left out
    assert len(near) == 3 and first.id not in set(near["arch_id"]) and near["distance"].is_monotonic_increasing
