"""Faults a new user hits: Ctrl-C, a second process, mismatched resumes, bad arguments, bad results."""

from __future__ import annotations

import threading
import time

import pytest
from run_clock import RunClock, patch_run_clock

import nasbook
from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, StorageError
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask
from nasbook.trial import Result, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


class Interrupting(ToyTask):
    """Raises KeyboardInterrupt (as Ctrl-C does) in the middle of chosen evaluations."""

    def __init__(self, space, seed=0, at=()):
        super().__init__(space, seed=seed)
        self.at = tuple(at)
        self.calls = 0

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        self.calls += 1
        if self.calls in self.at:
            raise KeyboardInterrupt
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


@pytest.mark.parametrize("strategy", ["evolution", "local", "random"])
def test_ctrl_c_then_run_again_continues_exactly(store_url, strategy):
    def make_strategy():
        return nasbook.strategies.get_strategy(strategy, **({"population_size": 8, "sample_size": 3} if strategy == "evolution" else {}))

    full = nasbook.Search(SPACE, ToyTask(SPACE), strategy=make_strategy(), budget=50, seed=3, storage=":memory:").run()
    # interrupts mid-trial, twice in a row, and from a callback after a commit
    task = Interrupting(SPACE, at=(5, 12, 13, 31, 32, 33))
    hits = {"n": 0}

    def interrupt_after_commit(search, trial):
        if trial.number in (20, 40) and hits["n"] < 2 and trial.number // 20 > hits["n"]:
            hits["n"] += 1
            raise KeyboardInterrupt

    s = nasbook.Search(SPACE, task, strategy=make_strategy(), budget=50, seed=3, storage=store_url, name="c",
                       callbacks=[interrupt_after_commit])
    interrupts = 0
    while True:
        try:
            s.run(progress="none")
            break
        except KeyboardInterrupt:
            interrupts += 1
            assert interrupts < 20, "repeated interrupts jammed the search"
    assert interrupts == 8
    assert [t.arch.id for t in s.trials] == [t.arch.id for t in full.trials]
    assert [t.number for t in s.trials] == list(range(50))
    assert s.state is nasbook.search.SearchState.DONE
    # the store agrees with memory
    again = nasbook.load_search("c", store_url, task=ToyTask(SPACE), allow_changes=True)
    assert [t.arch.id for t in again.trials] == [t.arch.id for t in full.trials]


class Held(ToyTask):
    """Its trials start (:attr:`started` is set), then wait until the test sets :attr:`release`: a search in the
    background that cannot end, or even finish a trial, before the test is done with it, however loaded the
    machine (a freely running one finished early under a stall, and the test then checked nothing)."""

    def __init__(self, space, **kw):
        super().__init__(space, **kw)
        self.started, self.release = threading.Event(), threading.Event()

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        self.started.set()
        self.release.wait(120)  # a safety net: the test releases it
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


def test_a_second_runner_of_the_same_search_is_refused_at_start(store_url):
    path = store_url
    slow = Held(SPACE, epochs=2, epoch_s=0.05)
    first = nasbook.Search(SPACE, slow, budget=200, seed=0, storage=path, name="shared")
    first.start(progress="none")
    try:
        assert slow.started.wait(120), "the first run never started a trial"  # it holds the search's lease
        second = nasbook.load_search("shared", path, task=slow)
        with pytest.raises(StorageError, match="another process|being run"):
            second.run(progress="none")
        assert second.n_trials == first.n_trials == 0  # refused before it ran a trial (the first's is held)
    finally:
        slow.release.set()
        first.stop()
    n = first.n_trials
    # once the first has stopped, the second may go on
    second = nasbook.load_search("shared", path, task=slow, budget=n + 2)
    second.run(progress="none")
    assert second.n_trials == n + 2


def test_load_search_refuses_another_task_unless_allowed_and_records_it(store_url):
    path = store_url
    nasbook.Search(SPACE, ToyTask(SPACE, seed=1), budget=5, seed=0, storage=path, name="m").run(progress="none")
    with pytest.raises(InvalidParameterError, match=r"ToyTask.*allow_changes"):
        nasbook.load_search("m", path, task=ToyTask(SPACE, seed=2))
    s = nasbook.load_search("m", path, task=ToyTask(SPACE, seed=2), allow_changes=True, budget=7)
    s.run(progress="none")
    changes = s.storage.get_search("m").config["changes"]
    assert [c["what"] for c in changes] == ["task"] and changes[0]["to"]["params"]["seed"] == 2
    # the recorded task is now the stored one: it needs no opt-in, the first one does
    nasbook.load_search("m", path, task=ToyTask(SPACE, seed=2))
    with pytest.raises(InvalidParameterError):
        nasbook.load_search("m", path, task=ToyTask(SPACE, seed=1))


def test_load_search_refuses_another_space(tmp_path):
    path = tmp_path / "sp.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=0, storage=path, name="sp").run(progress="none")
    other = GraphSpace(ops=("gcn", "gat", "skip"))
    with pytest.raises(InvalidParameterError, match="was run over space"):
        nasbook.load_search("sp", path, space=other, task=ToyTask(other))


def test_a_budget_below_what_is_spent_is_refused(store_url):
    path = store_url
    nasbook.Search(SPACE, ToyTask(SPACE), budget=10, seed=0, storage=path, name="b").run(progress="none")
    with pytest.raises(InvalidParameterError, match="10 trials are done"):
        nasbook.load_search("b", path, task=ToyTask(SPACE), budget=5)
    assert nasbook.load_search("b", path, task=ToyTask(SPACE)).n_trials == 10  # nothing lost


class Slow(ToyTask):
    """Each evaluation takes 50 ms on ``clock`` (a :class:`RunClock`: the run's own set-up takes none, however
    loaded the machine), so a search with a 10 ms budget runs one trial and ends past it."""

    clock: RunClock

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        self.clock.advance(0.05)
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


def test_a_finished_search_that_overshot_its_stored_budget_loads(tmp_path, monkeypatch):
    # a seconds (or epochs) budget is checked between trials, so the last trial always ends past
    # it; loading the finished search with its own stored budget must not call that a smaller budget
    monkeypatch.setattr(Slow, "clock", patch_run_clock(monkeypatch), raising=False)
    path = tmp_path / "over.db"
    done = nasbook.Search(SPACE, Slow(SPACE), budget={"seconds": 0.01}, seed=0, storage=path, name="over")
    done.run(progress="none")
    assert done.n_trials == 1 and done.elapsed_s == pytest.approx(0.05)  # one trial, 40 ms past the budget
    again = nasbook.load_search("over", path, task=Slow(SPACE))
    assert again.n_trials == done.n_trials and again.elapsed_s == done.elapsed_s
    assert again.run(progress="none").n_trials == done.n_trials  # finished: runs nothing more
    with pytest.raises(InvalidParameterError, match="were spent"):  # a new budget below it is still refused
        nasbook.load_search("over", path, task=Slow(SPACE), budget={"seconds": 0.01})


@pytest.mark.parametrize("kwargs, match", [
    ({"name": 3}, "name"),
    ({"storage": 3.5}, "storage"),
    ({"task": "cora"}, "task"),
    ({"space": "cora"}, "space"),
    ({"strategy": 7}, "strategy"),
    ({"callbacks": "print"}, "callbacks"),
    ({"allow_changes": "yes"}, "allow_changes"),
    ({"budget": "many"}, "budget"),
])
def test_load_search_wrong_types_give_nasbook_errors(tmp_path, kwargs, match):
    path = tmp_path / "t.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=path, name="t").run(progress="none")
    args = {"name": "t", "storage": path, "task": ToyTask(SPACE), **kwargs}
    with pytest.raises(NasbookError, match=match):
        nasbook.load_search(args.pop("name"), **args)


def test_a_mistyped_path_creates_no_file(tmp_path):
    with pytest.raises(StorageError, match="runs.dbb"):
        nasbook.load_search("x", tmp_path / "runs.dbb")
    assert not (tmp_path / "runs.dbb").exists()


def test_search_with_a_dataset_name_says_what_it_received():
    with pytest.raises(InvalidParameterTypeError, match=r"got 'cora' of type str.*NasBenchGraph\('cora'\)"):
        nasbook.Search("cora")


def test_rerunning_the_readme_snippet_gives_one_clear_error(tmp_path):
    path = tmp_path / "runs.db"
    nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=path, name="cora-evolution").run(progress="none")
    with pytest.raises(nasbook.NasbookError, match="already exists.*load_search") as info:
        nasbook.Search(SPACE, ToyTask(SPACE), budget=2, seed=0, storage=path, name="cora-evolution")
    err = info.value
    assert err.__cause__ is None and err.__suppress_context__, "no chained SQL traceback"


class Returns(ToyTask):
    """evaluate returns something that is not a Result with a number, for some architectures."""

    def __init__(self, space, seed=0, what="none"):
        super().__init__(space, seed=seed)
        self.what = what

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        if int(arch.id) % 3 == 0:
            return {"none": None, "str": Result("high"), "dict": {"value": 1.0}, "nan": Result(float("nan"))}[self.what]
        return super().evaluate(arch, space=space, fidelity=fidelity, report=report)


@pytest.mark.parametrize("what", ["none", "str", "dict"])
def test_a_task_returning_a_non_result_fails_that_trial_with_the_reason(what):
    s = nasbook.Search(SPACE, Returns(SPACE, what=what), budget=30, seed=0, storage=":memory:").run(progress="none")
    assert s.n_trials == 30
    failed = [t for t in s.trials if t.state is TrialState.FAILED]
    assert failed and all(int(t.arch.id) % 3 == 0 for t in failed)
    assert all("Returns.evaluate returned" in t.reason for t in failed)
    assert all(t.state is TrialState.COMPLETE for t in s.trials if int(t.arch.id) % 3)


def test_strategy_repr_shows_the_seed_in_effect():
    s = nasbook.Search(SPACE, ToyTask(SPACE), strategy="evolution", budget=3, seed=1234, storage=":memory:")
    assert "seed=None" in repr(s.strategy)
    s.run(progress="none")
    assert "seed=1234" in repr(s.strategy)


def test_evolution_records_each_childs_parent(store_url):
    path = store_url
    evo = nasbook.strategies.RegularizedEvolution(population_size=5, sample_size=2)
    s = nasbook.Search(SPACE, ToyTask(SPACE), strategy=evo, budget=25, seed=0, storage=path, name="lin").run(progress="none")
    children = [t for t in s.trials if t.lineage]
    assert [t.number for t in s.trials if not t.lineage] == [0, 1, 2, 3, 4]
    assert len(children) == 20
    for child in children:
        (parent,) = child.lineage
        assert parent < child.number and child.parent is None  # trained from scratch
        assert SPACE.distance(s.trials[parent].arch, child.arch) >= 1 if hasattr(SPACE, "distance") else True
    again = nasbook.load_search("lin", path, task=ToyTask(SPACE))
    assert [t.lineage for t in again.trials] == [t.lineage for t in s.trials]


def test_background_run_and_foreground_run_share_nothing_stale(tmp_path):
    s = nasbook.Search(SPACE, ToyTask(SPACE, epochs=2, epoch_s=0.01), budget=20, seed=0, storage=tmp_path / "bg.db", name="bg")
    s.start(progress="none")
    time.sleep(0.1)
    s.stop()
    assert threading.active_count() >= 1
    s.run(progress="none")
    assert s.n_trials == 20 and [t.number for t in s.trials] == list(range(20))


def test_stop_from_a_callback_of_a_background_run_stops_it_and_it_resumes(tmp_path):
    # stop() joined the background thread from inside it: wait() raised "RuntimeError: cannot join
    # current thread" (the run ended with that error instead of stopping)
    path = tmp_path / "cbstop.db"

    def stop_after_two(search, trial):
        if search.n_trials == 2:
            search.stop()

    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=6, seed=0, storage=path, name="cb", callbacks=[stop_after_two])
    s.start(progress="none")
    s.wait(timeout_s=30)
    assert s.state.value == "interrupted" and s.n_trials == 2
    assert nasbook.load_search("cb", path, task=ToyTask(SPACE)).run(progress="none").n_trials == 6


def test_wait_from_a_callback_of_a_background_run_is_refused_by_name(tmp_path):
    def waits(search, trial):
        search.wait()

    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=3, seed=0, storage=tmp_path / "w.db", name="w", callbacks=[waits])
    s.start(progress="none")
    with pytest.raises(NasbookError, match=r"wait\(\) was called from its own background run"):
        s.wait(timeout_s=30)


@pytest.mark.parametrize("where", ["file", "memory"])
def test_run_while_the_search_runs_in_the_background_is_refused(tmp_path, where):
    # with a file the foreground run() used to drive the same strategy from a second thread, with
    # ':memory:' it failed with "cannot start a transaction within a transaction"
    storage = tmp_path / "bg2.db" if where == "file" else ":memory:"
    task = Held(SPACE, epochs=2, epoch_s=0.01)  # still running when run() is called, whatever the load
    s = nasbook.Search(SPACE, task, budget=40, seed=0, storage=storage, name="bg2")
    s.start(progress="none")
    try:
        with pytest.raises(nasbook.NasbookError, match=r"running in the background \(start\(\)\): wait\(\) or stop\(\)"):
            s.run(progress="none")
    finally:
        task.release.set()
        s.stop()
    assert [t.number for t in s.trials] == list(range(s.n_trials))
    assert s.run(progress="none").n_trials == 40


def test_lineage_is_in_the_results(tmp_path):
    evo = nasbook.strategies.RegularizedEvolution(population_size=4, sample_size=2)
    s = nasbook.Search(SPACE, ToyTask(SPACE), strategy=evo, budget=10, seed=0, storage=":memory:").run(progress="none")
    ds = s.to_xarray()
    assert list(ds["derived_from"].values[:4]) == [-1] * 4 and (ds["derived_from"].values[4:] >= 0).all()
