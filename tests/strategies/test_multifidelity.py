import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.search import Budget, TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import ASHA, Hyperband, RegularizedEvolution, SuccessiveHalving, rung_epochs
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


def test_rungs():
    assert rung_epochs(1, 27, 3) == [1, 3, 9, 27]
    assert rung_epochs(1, 20, 3) == [1, 3, 9, 20]
    assert rung_epochs(2, 2, 3) == [2]


def test_successive_halving_bracket_shape_and_continuation():
    task = ToyTask(SPACE, epochs=9)
    s = nasbook.Search(SPACE, task, strategy=SuccessiveHalving(min_epochs=1, max_epochs=9, eta=3, n_initial=9),
                       budget=13, seed=0, storage=":memory:").run()
    by_epochs = {}
    for t in s.trials:
        by_epochs.setdefault(t.epochs, []).append(t)
    assert {e: len(v) for e, v in by_epochs.items()} == {1: 9, 3: 3, 9: 1}
    # the 3 promoted are the best 3 of the first rung, each continuing from its own trial
    first = sorted(by_epochs[1], key=lambda t: -t.value)
    assert {t.arch.id for t in by_epochs[3]} == {t.arch.id for t in first[:3]}
    for t in by_epochs[3] + by_epochs[9]:
        parent = next(p for p in s.trials if p.number == t.parent)
        assert parent.arch == t.arch and parent.epochs < t.epochs
        assert t.metrics["epochs_run"] == t.epochs - parent.epochs  # continued, not retrained
        assert t.curves["score"][: parent.epochs] == parent.curves["score"]
    assert s.epochs_spent == 9 * 1 + 3 * 2 + 1 * 6


def test_asha_promotes_and_respects_an_epoch_budget():
    task = ToyTask(SPACE, epochs=27)
    s = nasbook.Search(SPACE, task, strategy=ASHA(base="evolution", min_epochs=1, max_epochs=27, eta=3),
                       budget=Budget(epochs=150), seed=0, storage=":memory:").run()
    assert 150 - 27 < s.epochs_spent <= 150  # never exceeded; short of it by less than the next trial's epochs
    epochs = [t.epochs for t in s.trials]
    assert set(epochs) <= {1, 3, 9, 27} and 3 in epochs and 9 in epochs
    assert all(t.parent is not None for t in s.trials if t.epochs > 1)
    assert s.best.state is TrialState.COMPLETE


def test_hyperband_cycles_brackets():
    hb = Hyperband(min_epochs=1, max_epochs=9, eta=3).setup(SPACE, seed=0)
    assert hb._brackets() == [(9, [1, 3, 9]), (5, [3, 9]), (3, [9])]


def test_multifidelity_needs_a_task_with_epochs():
    with pytest.raises(InvalidParameterError, match="does not train for epochs"):
        nasbook.Search(NasBenchGraph("cora"), strategy="asha", budget=5, storage=":memory:")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eta": 1}, r"eta=\.\.\.\) must be an int >= 2; got 1"),
        ({"min_epochs": 0}, r"min_epochs=\.\.\.\) must be an int >= 1; got 0"),
        ({"min_epochs": 5, "max_epochs": 3}, r"max_epochs=\.\.\.\) must be >= min_epochs \(5\); got 3"),
        ({"base": ASHA()}, r"base=\.\.\.\) must be a proposing strategy"),
        ({"base": "evoluton"}, r"ASHA\(base=\.\.\.\) must be a registered strategy name .* got 'evoluton'.*did you mean 'evolution'"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        ASHA(**kwargs).setup(SPACE, seed=0)


def test_resume_of_a_multifidelity_search_replays_exactly(tmp_path):
    task = ToyTask(SPACE, epochs=9)
    full = nasbook.Search(SPACE, task, strategy=ASHA(base=RegularizedEvolution(10, 3), max_epochs=9),
                          budget=40, seed=5, storage=":memory:").run()

    class Stop(Exception):
        pass

    def stop(search, trial):
        if trial.number == 20:
            raise Stop

    path = tmp_path / "mf.db"
    cut = nasbook.Search(SPACE, task, strategy=ASHA(base=RegularizedEvolution(10, 3), max_epochs=9), budget=40, seed=5,
                         storage=path, name="mf", callbacks=[stop])
    with pytest.raises(Stop):
        cut.run()
    again = nasbook.load_search("mf", path, task=task).run()
    assert [(t.arch.id, t.epochs) for t in again.trials] == [(t.arch.id, t.epochs) for t in full.trials]


def test_hyperband_refuses_n_initial_its_brackets_would_ignore():
    from nasbook._errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=r"Hyperband\(n_initial=...\) must be None.*got 5"):
        Hyperband(n_initial=5).setup(SPACE, seed=0)
    Hyperband(n_initial=None).setup(SPACE, seed=0)  # the default is fine



@pytest.mark.parametrize(("args", "says"), [
    ((1, 9, 1), "rung_epochs(eta=...) must be an int >= 2; got 1."),
    ((0, 9, 3), "rung_epochs(min_epochs=...) must be an int >= 1; got 0."),
    ((5, 3, 3), "rung_epochs(max_epochs=...) must be an int >= 5; got 3."),
    ((1, 9.5, 3), "rung_epochs(max_epochs=...) must be an int >= 1; got 9.5 of type float."),
])
def test_rung_epochs_refuses_bad_arguments_naming_them(args, says):
    # tutorial 03 with `eta = 1` hung its kernel in rung_epochs(1, 9, 1) until memory ran out, as min_epochs=0 did. In
    # a subprocess with 512 MB more address space than after its imports: the old code ends in a MemoryError
    import subprocess
    import sys

    code = ("import re, resource\nfrom nasbook.strategies import rung_epochs\n"
            "vm = int(re.search(r'VmSize:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) * 1024\n"
            "resource.setrlimit(resource.RLIMIT_AS, (vm + 2**29, resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
            f"try:\n    rung_epochs{args}\nexcept ValueError as e:\n    print(e)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == says, done.stderr[-500:]
