"""The end of an epochs budget: a stopping rule's last trial starts with only the epochs left (stopped there,
PRUNED by the budget), and what a scheduler's budget could not hold is said, not left QUEUED silently."""

import sys

import cloudpickle
import pytest

import nasbook
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import MedianStopping, SuccessiveHalving
from nasbook.tasks import DigitsTable
from nasbook.testing import ToyTask
from nasbook.trial import TrialState

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # dask workers cannot import tests/

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _median(budget, storage=":memory:", name=None, executor="local"):
    return nasbook.Search(DigitsTable(), strategy=MedianStopping(min_trials=3), budget={"epochs": budget}, seed=0,
                          storage=storage, name=name, executor=executor)


def test_a_stopping_rule_spends_the_whole_epochs_budget_its_last_trial_cut_by_it():
    # before: 27 of 30 epochs, the fourth 9-epoch trial kept QUEUED though it would have been stopped early
    s = _median(30).run(progress="none")
    assert s.epochs_spent == 30 and not s._requeue
    last = s.trials[-1]
    assert last.state is TrialState.PRUNED and last.attrs["stopped_by"] == "budget" and last.epochs == 3
    assert last.reason == "stopped by the epochs budget after 3 of its 9 epochs"
    full = DigitsTable().evaluate(last.arch, space=s.space).curves["val_accuracy"]
    assert last.curves["val_accuracy"] == full[:3]  # the first epochs of its full training
    assert s.best.state is TrialState.COMPLETE and s.best.attrs.get("stopped_by") is None  # never the best by it
    assert "queued" not in repr(s)


def test_a_task_that_reads_no_fidelity_is_stopped_at_the_budget_by_its_reports():
    class NoFidelity(ToyTask):  # trains its own epochs whatever it is asked, but reports and obeys STOP
        def evaluate(self, arch, *, space=None, fidelity=None, report=None):
            return super().evaluate(arch, space=space, fidelity=None, report=report)

    s = nasbook.Search(SPACE, NoFidelity(SPACE, epochs=5), strategy=MedianStopping(min_trials=50),
                       budget={"epochs": 12}, seed=0, storage=":memory:").run(progress="none")
    assert s.epochs_spent == 12 and [t.epochs for t in s.trials] == [5, 5, 2]
    assert s.trials[-1].state is TrialState.PRUNED and s.trials[-1].attrs["stopped_by"] == "budget"


def test_a_scheduler_keeps_its_proposal_queued_and_says_so_until_extend_runs_it(capsys):
    s = nasbook.Search(DigitsTable(), strategy=SuccessiveHalving(min_epochs=1, max_epochs=9, eta=3),
                       budget={"epochs": 60}, seed=0, storage=":memory:", executor="local").run(progress="bar")
    # a rung's trial cut short would be worth nothing to it: the 6-epoch promotion waits for extend()
    assert s.epochs_spent == 57 and len(s._requeue) == 1 and s.state.value == "done"
    assert "done: 57 of 60 epochs, 1 trial queued for extend()," in repr(s)
    assert "57 of 60 epochs (1 trial queued for extend())" in s._repr_mimebundle_()["text/plain"]
    assert "1 trial queued for extend()" in capsys.readouterr().err  # the progress bar's last line
    queued = s._requeue[0].number
    s.extend(epochs=3).run(progress="none")
    assert s.epochs_spent == 63 and not s._requeue and "queued" not in repr(s)
    assert s._trial_by_number(queued).state is TrialState.COMPLETE and s._trial_by_number(queued).epochs == 9


def test_resuming_after_a_budget_cut_trial_goes_on_as_one_object_would(tmp_path):
    db = tmp_path / "b.db"
    one = _median(30).run(progress="none")
    one.extend(epochs=25).run(progress="none")
    _median(30, storage=db, name="b").run(progress="none").close()
    again = nasbook.load_search("b", db)  # replays the cut trial (a ReproducibilityWarning would fail here)
    assert again.trials[-1].attrs["stopped_by"] == "budget"
    again.extend(epochs=25).run(progress="none")
    seen = [(t.number, t.arch.id, t.state, t.epochs, t.attrs.get("stopped_by")) for t in again.trials]
    assert seen == [(t.number, t.arch.id, t.state, t.epochs, t.attrs.get("stopped_by")) for t in one.trials]
    assert again.epochs_spent == one.epochs_spent == 55
    again.close()


@pytest.mark.slow
@pytest.mark.parametrize("budget", [30, 45])
def test_a_stopping_rule_on_two_dask_workers_spends_its_budget_and_never_more(budget):
    pytest.importorskip("distributed")
    from nasbook.executors import DaskExecutor

    ex = DaskExecutor(n_workers=2)
    try:
        s = _median(budget, executor=ex).run(progress="none")
    finally:
        ex.close()
    assert s.epochs_spent == budget and not s._requeue
    assert [t.attrs.get("stopped_by") for t in s.trials].count("budget") <= 1


def test_which_strategies_stop_trials_early():
    from nasbook.strategies import ASHA, CurveStopping, FingerprintStopping, Hyperband, RandomSearch

    assert all(s.stops_trials for s in (MedianStopping(), CurveStopping(), FingerprintStopping(),
                                         CurveStopping(base=ASHA())))
    assert not any(s.stops_trials for s in (RandomSearch(), ASHA(), SuccessiveHalving(), Hyperband()))
