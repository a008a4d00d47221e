import math
import sqlite3

import numpy as np
import pytest
from run_clock import patch_run_clock

import nasbook
from nasbook._errors import InvalidParameterError, ReproducibilityWarning
from nasbook.search import Budget, SearchState, TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import RandomSearch, RegularizedEvolution
from nasbook.tasks import NasBenchGraph, Result, Task
from nasbook.testing import ToyTask


@pytest.fixture(scope="module")
def cora():
    return NasBenchGraph("cora")


def test_search_runs_and_finds_good_architectures(cora):
    s = nasbook.Search(cora, strategy="evolution", budget=100, seed=0, storage=":memory:").run()
    assert s.n_trials == 100 and s.state is SearchState.DONE
    values = [t.value for t in s.trials]
    assert s.best.value == max(values)
    # better than the median architecture of the table by a wide margin
    assert s.best.value > np.quantile(cora.table.valid, 0.99)
    assert all(t.state is TrialState.COMPLETE and t.attrs["test_accuracy"] > 0 for t in s.trials)


def test_space_and_task_forms(cora):
    a = nasbook.Search(cora, budget=3, seed=1, storage=":memory:")
    b = nasbook.Search(cora.space, cora, budget=3, seed=1, storage=":memory:")
    assert [t.arch for t in a.run().trials] == [t.arch for t in b.run().trials]


def test_seeded_searches_repeat_and_seeds_differ(cora):
    def ids(seed):
        s = nasbook.Search(cora, strategy="local", budget=40, seed=seed, storage=":memory:").run()
        return [t.arch.id for t in s.trials]

    assert ids(3) == ids(3)
    assert ids(3) != ids(4)


def test_unseeded_search_records_its_seed(tmp_path, cora):
    s = nasbook.Search(cora, budget=10, storage=tmp_path / "x.db", name="x").run()
    again = nasbook.load_search("x", tmp_path / "x.db")
    assert again.seed == s.seed and isinstance(s.seed, int)


class Spy(RandomSearch):
    """Checks, at every tell, that the trial is already committed and held-out numbers are hidden."""

    def __init__(self, path=None, seed=None, allow_duplicates=False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.path = path

    def _tell(self, trial):
        assert trial.attrs == {}, "held-out numbers reached the strategy"
        con = sqlite3.connect(self.path)
        n = con.execute("SELECT count(*) FROM nasbook_trials WHERE number = ?", (trial.number,)).fetchone()[0]
        con.close()
        assert n == 1, "the strategy heard of a trial before it was committed"
        self.told = getattr(self, "told", 0) + 1


def test_commit_happens_before_tell_and_test_scores_stay_hidden(tmp_path, cora):
    path = tmp_path / "spy.db"
    spy = Spy(path=str(path))
    s = nasbook.Search(cora, strategy=spy, budget=20, seed=0, storage=path).run()
    assert spy.told == 20
    assert all("test_accuracy" in t.attrs for t in s.trials)  # but the user sees them


class Flaky(Task):
    metric, mode = "score", "max"

    def __init__(self, space):
        self._space = space

    @property
    def space(self):
        return self._space

    def get_params(self):
        return {}

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        n = int(arch.id)
        if n % 5 == 0:
            raise ValueError(f"cannot evaluate {arch.id}")
        if n % 5 == 1:
            return Result(float("nan"))
        return Result(float(n % 97))


def test_failures_are_recorded_with_reasons_and_the_search_goes_on():
    space = GraphSpace(ops=PROTEINS_OPS)
    s = nasbook.Search(space, Flaky(space), budget=60, seed=0, storage=":memory:").run()
    assert s.n_trials == 60
    states = {t.state for t in s.trials}
    assert {TrialState.COMPLETE, TrialState.FAILED, TrialState.DIVERGED} <= states
    failed = next(t for t in s.trials if t.state is TrialState.FAILED)
    assert failed.reason.startswith("ValueError: cannot evaluate") and failed.value is None
    assert "traceback" in failed.attrs
    diverged = next(t for t in s.trials if t.state is TrialState.DIVERGED)
    assert "is nan" in diverged.reason
    assert s.best.state is TrialState.COMPLETE


def test_a_diverged_training_keeps_its_curves_and_its_epochs_count():
    from nasbook._errors import TrialDiverged
    from nasbook.testing import ToyTask

    space = GraphSpace(ops=PROTEINS_OPS)

    class Blows(ToyTask):  # what nasbook.training.train raises: the epochs and curves it reached
        def evaluate(self, arch, *, space=None, fidelity=None, report=None):
            exc = TrialDiverged("training loss became NaN at epoch 3, step 40")
            vars(exc).update(epochs=3, curves={"train_loss": [1.0, 0.5, 9e9], "val_accuracy": [0.5, 0.6, 0.1]})
            raise exc

    s = nasbook.Search(space, Blows(space, epochs=5), budget={"trials": 2}, seed=0, storage=":memory:").run()
    t = s.trials[0]
    assert t.state is TrialState.DIVERGED and t.value is None and "epoch 3" in t.reason
    assert t.epochs == 3 and t.curves["train_loss"] == [1.0, 0.5, 9e9] and t.metrics["val_accuracy"] == 0.1
    assert s.epochs_spent == 6  # the compute a diverged trial burned counts against an epochs budget
    assert s.to_xarray()["curve_train_loss"].sel(trial=0).values[:3].tolist() == [1.0, 0.5, 9e9]


def test_checkpoints_are_kept_only_for_strategies_that_continue_trials():
    from nasbook.strategies import ASHA, BaseStrategy, Proposal
    from nasbook.testing import ToyTask

    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, epochs=9)
    full = nasbook.Search(space, task, strategy="random", budget=6, seed=0, storage=":memory:").run()
    assert full._checkpoints == {}  # a full-training search would otherwise hold one per trial
    asha = nasbook.Search(space, task, strategy=ASHA(max_epochs=9), budget=12, seed=0, storage=":memory:").run()
    assert asha._checkpoints and any(t.parent is not None for t in asha.trials)

    class Continues(BaseStrategy):  # a user strategy that forgot to declare it
        def _ask(self):
            if self.seen_:  # continues trial 0: the same architecture (another one is refused, tests/strategies/test_plugin_bad_proposals.py)
                return Proposal(self.first_, epochs=9, parent=0)
            self.first_ = self.space_.sample(self.rng_)
            return Proposal(self.first_, epochs=3)

    with pytest.warns(UserWarning, match="continues_trials = True"):
        nasbook.Search(space, task, strategy=Continues(), budget=2, seed=0, storage=":memory:").run()


def test_minimisation_picks_the_smallest():
    space = GraphSpace(ops=PROTEINS_OPS)

    class Min(ToyTask):
        mode = "min"

    s = nasbook.Search(space, Min(space), strategy="evolution", budget=30, seed=0, storage=":memory:").run()
    assert s.best.value == min(t.value for t in s.trials)
    ds = s.to_xarray()
    assert np.all(np.diff(ds.best_so_far.values) <= 0)


def test_budget_in_seconds(cora, monkeypatch):
    # the seconds are read on a fake clock that only the trials move (1/16 s each, exact in binary): on the real one, a loaded
    # machine spent the 0.2 s in run()'s own set-up and the search ended with no trial (0 < n_trials failed)
    clock = patch_run_clock(monkeypatch)
    evaluate = cora.evaluate

    def sixteenth_s(arch, **kw):
        clock.advance(0.0625)
        return evaluate(arch, **kw)

    monkeypatch.setattr(cora, "evaluate", sixteenth_s)
    s = nasbook.Search(cora, budget={"seconds": 0.2}, seed=0, storage=":memory:").run()
    assert s.n_trials == 4 and s.elapsed_s == 0.25  # checked between trials: the 4th (0.25 s >= 0.2 s) spends it
    assert s.state is SearchState.DONE
    assert str(Budget(trials=5, seconds=2)) == "5 trials / 2 s"


def test_extend_a_finished_search(store_url, cora):
    path = store_url
    nasbook.Search(cora, strategy="evolution", budget=30, seed=2, storage=path, name="e").run()
    longer = nasbook.load_search("e", path, budget=50).run()
    assert longer.n_trials == 50
    full = nasbook.Search(cora, strategy="evolution", budget=50, seed=2, storage=":memory:").run()
    assert [t.arch.id for t in longer.trials] == [t.arch.id for t in full.trials]
    assert nasbook.load_search("e", path).budget == Budget(trials=50)
    longer.extend(10).run()
    assert nasbook.load_search("e", path).n_trials == 60


def test_changed_strategy_on_resume_warns(tmp_path, cora):
    path = tmp_path / "w.db"
    nasbook.Search(cora, strategy="evolution", budget=40, seed=2, storage=path, name="w").run()
    s = nasbook.load_search("w", path, strategy=RegularizedEvolution(population_size=5, sample_size=2), budget=45)
    with pytest.warns(ReproducibilityWarning, match="differ from what"):
        s.run()
    assert s.n_trials == 45


def test_interrupt_leaves_the_search_resumable(store_url, cora):
    path = store_url

    def ctrl_c(search, trial):
        if trial.number == 9:
            raise KeyboardInterrupt

    s = nasbook.Search(cora, budget=20, seed=0, storage=path, name="i", callbacks=[ctrl_c])
    with pytest.raises(KeyboardInterrupt):
        s.run()
    assert s.state is SearchState.INTERRUPTED and s.n_trials == 10
    again = nasbook.load_search("i", path)
    assert again.state is SearchState.INTERRUPTED
    assert again.run().n_trials == 20 and again.state is SearchState.DONE


def test_results_as_xarray_and_dataframe(cora):
    s = nasbook.Search(cora, strategy="random", budget=25, seed=0, storage=":memory:").run()
    ds = s.to_xarray()
    assert ds.sizes == {"trial": 25}
    for var in ("value", "best_so_far", "test_accuracy", "latency_ms", "params_m", "duration_s"):
        assert var in ds and ds[var].dims == ("trial",)
    assert list(ds.arch_id.values) == [t.arch.id for t in s.trials]
    assert ds.attrs["metric"] == "val_accuracy" and ds.attrs["seed"] == 0
    assert np.all(np.diff(ds.best_so_far.values) >= 0) and ds.best_so_far.values[-1] == s.best.value
    df = s.to_dataframe()
    assert len(df) == 25 and {"arch_id", "state", "value", "test_accuracy"} <= set(df.columns)
    assert math.isclose(df["value"].max(), s.best.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget": 0}, InvalidParameterError, r"budget must be a positive number of trials \(> 0\); got 0"),
        ({"budget": -5}, InvalidParameterError, r"got -5"),
        ({"budget": 2.5}, TypeError, r"budget must be a positive int.*got 2.5 of type float"),
        ({"budget": True}, TypeError, r"got True"),
        ({"budget": {"trails": 5}}, InvalidParameterError, r"budget keys must be among.*\['trails'\]"),
        ({"budget": {"trails": 5}}, InvalidParameterError, r"\['trails'\] \(did you mean 'trials'\?\)"),
        ({"budget": {"time": 60}}, InvalidParameterError, r"\['time'\] \(did you mean 'seconds'\? a time limit is given in seconds\)"),
        ({"budget": {"max_time": 60}}, InvalidParameterError, r"did you mean 'seconds'"),
        ({"budget": {"epochs": 5}}, InvalidParameterError, r"budget in epochs needs a task that trains"),
        ({"budget": {"seconds": -1}}, InvalidParameterError, r"seconds must be > 0; got -1"),
        ({"strategy": "evoluton"}, InvalidParameterError, r"Unknown strategy 'evoluton'.*did you mean 'evolution'"),
        ({"strategy": 3}, TypeError, r"strategy must be a name.*got 3 of type int"),
        ({"strategy": RegularizedEvolution(population_size=1)}, InvalidParameterError, r"population_size=\.\.\.\) must be an int >= 2; got 1"),
        ({"strategy": RegularizedEvolution(sample_size=50)}, InvalidParameterError, r"sample_size=\.\.\.\) must be <= population_size \(30\); got 50"),
        ({"seed": -1}, InvalidParameterError, r"seed=\.\.\.\) must be an int >= 0 or None; got -1"),
        ({"seed": "0"}, TypeError, r"seed=\.\.\.\) must be an int.*got '0' of type str"),
        ({"name": ""}, InvalidParameterError, r"name=\.\.\.\) must be a non-empty string"),
        ({"callbacks": [42]}, TypeError, r"callbacks=\.\.\.\) must hold callables"),
    ],
)
def test_bad_input_gets_a_clear_error(cora, kwargs, error, match):
    args = {"budget": 5, "seed": 0, "storage": ":memory:"} | kwargs
    with pytest.raises(error, match=match):
        nasbook.Search(cora, **args)


def test_wrong_objects_for_space_and_task(cora):
    with pytest.raises(InvalidParameterError, match="Search needs a task"):
        nasbook.Search(cora.space)
    with pytest.raises(TypeError, match=r"task=\.\.\.\) must be a nasbook Task; got 'cora'"):
        nasbook.Search(cora.space, "cora")
    with pytest.raises(InvalidParameterError, match="cannot evaluate architectures of GraphSpace"):
        nasbook.Search(GraphSpace(ops=PROTEINS_OPS), cora, storage=":memory:")


def test_a_failed_construction_does_not_touch_recorded_trials(tmp_path, cora):
    path = tmp_path / "keep.db"
    nasbook.Search(cora, budget=7, seed=0, storage=path, name="keep").run()
    with pytest.raises(InvalidParameterError):
        nasbook.Search(cora, budget=0, storage=path, name="keep")
    with pytest.raises(nasbook.NasbookError):
        nasbook.Search(cora, budget=3, storage=path, name="keep")
    assert nasbook.load_search("keep", path).n_trials == 7


def test_custom_tasks_must_be_passed_back_on_load(tmp_path):
    space = GraphSpace(ops=PROTEINS_OPS)
    path = tmp_path / "t.db"
    nasbook.Search(space, ToyTask(space), budget=5, seed=0, storage=path, name="toy").run()
    read_only = nasbook.load_search("toy", path)  # readable without the task (tests/search/test_read_only_task.py)
    assert read_only.n_trials == 5 and not read_only.resumable
    with pytest.raises(InvalidParameterError, match=r"task=\.\.\."):
        read_only.run()
    read_only.close()
    assert nasbook.load_search("toy", path, task=ToyTask(space)).n_trials == 5


def test_repr_is_cheap_and_informative(cora):
    s = nasbook.Search(cora, strategy="evolution", budget=5, seed=0, storage=":memory:", name="<b>r</b>")
    assert "created" in repr(s) and "0 of 5 trials" in repr(s)
    s.run()
    assert "done" in repr(s) and "best" in repr(s)
    assert repr(s.best).startswith("<Trial ")


class Stray(RandomSearch):
    """Proposes architectures of another space."""

    def _ask(self):
        other = GraphSpace(ops=PROTEINS_OPS)
        return other.sample(self.rng_)


def test_a_proposal_from_another_space_is_refused_before_evaluation(tmp_path, cora):
    path = tmp_path / "stray.db"
    s = nasbook.Search(cora, strategy=Stray(), budget=5, seed=0, storage=path, name="stray")
    with pytest.raises(nasbook.NasbookError, match="belongs to space"):
        s.run()
    assert s.n_trials == 0 and s.state is SearchState.INTERRUPTED


@pytest.mark.parametrize("make_space", [lambda: GraphSpace(ops=PROTEINS_OPS), lambda: __import__("nasbook").space.CellSpace(n_nodes=3),
                                        lambda: __import__("nasbook").space.ChainSpace(kind="mlp", widths=(8, 16))])
def test_stored_space_configuration_rebuilds_the_same_space(tmp_path, make_space):
    from nasbook.search._resume import rebuild_space as _rebuild_space

    space = make_space()
    s = nasbook.Search(space, ToyTask(space), budget=4, seed=0, storage=tmp_path / "r.db", name="r").run()
    config = s.storage.get_search("r").config
    rebuilt = _rebuild_space(config["space"])
    assert rebuilt == space and rebuilt.space_id == config["space_id"]
    assert [rebuilt.from_dict(t.arch.to_dict()) for t in s.trials] == [t.arch for t in s.trials]
