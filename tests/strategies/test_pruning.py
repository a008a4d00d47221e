"""The median stopping rule: decisions, and pruning through the search loop on every executor."""

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.search import TrialState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import MedianStopping, get_strategy
from nasbook.tasks import Decision
from nasbook.tasks._table import DigitsTable
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _fed(mode="max", **kw):
    """A rule that has seen three completed trials with curves [1, 2, 3], [2, 3, 4], [3, 4, 5]."""
    from nasbook.search import Trial

    rule = MedianStopping(**kw).setup(SPACE, seed=0, mode=mode, metric="acc")
    for i, start in enumerate((1.0, 2.0, 3.0)):
        arch = rule.ask()
        rule.tell(Trial(i, arch, TrialState.COMPLETE, start + 2, curves={"acc": [start, start + 1, start + 2]}))
    return rule


def test_stops_below_the_median_at_the_same_epoch_only_when_enough_trials_reached_it():
    rule = _fed(min_trials=3, min_epochs=1)
    assert rule.median_at(1) == (3.0, 3)
    assert rule.on_report(9, 0, {"acc": -100.0}) is Decision.CONTINUE  # epoch 0 is a warm-up epoch
    assert rule.on_report(9, 1, {"acc": 2.9}) is Decision.STOP
    assert rule.on_report(9, 1, {"acc": 3.0}) is Decision.CONTINUE  # equal to the median: kept
    assert rule.on_report(9, 2, {"acc": float("nan")}) is Decision.STOP
    assert rule.on_report(9, 3, {"acc": -1.0}) is Decision.CONTINUE  # no completed trial reached epoch 3
    assert rule.on_report(9, 1, {"loss": 0.0}) is Decision.CONTINUE  # not the objective
    assert _fed(min_trials=4).on_report(9, 1, {"acc": 0.0}) is Decision.CONTINUE
    low = _fed(mode="min", min_trials=3)
    assert low.on_report(9, 1, {"acc": 3.1}) is Decision.STOP and low.on_report(9, 1, {"acc": 2.0}) is Decision.CONTINUE


def test_bad_parameters_are_named():
    with pytest.raises(InvalidParameterError, match=r"MedianStopping\(min_trials=\.\.\.\) must be an int >= 1; got 0"):
        MedianStopping(min_trials=0).setup(SPACE)
    with pytest.raises(InvalidParameterError, match=r"must be a proposing strategy, not a multi-fidelity scheduler"):
        MedianStopping(base="asha").setup(SPACE)
    assert isinstance(get_strategy("median-stopping"), MedianStopping)


def test_prunes_on_the_digits_table_and_saves_epochs():
    task = DigitsTable()
    pruned = nasbook.Search(task, strategy=MedianStopping(min_trials=5), budget=40, seed=0, storage=":memory:").run()
    assert pruned.n_trials == 40
    stopped = [t for t in pruned.trials if t.state is TrialState.PRUNED]
    assert stopped and all(t.epochs < task.max_epochs and len(t.curves["val_accuracy"]) == t.epochs for t in stopped)
    assert pruned.epochs_spent == sum(t.epochs for t in pruned.trials) < 40 * task.max_epochs
    assert pruned.strategy.n_stopped_ >= len(stopped)  # a STOP at the last epoch leaves the trial complete
    assert pruned.best.state is TrialState.COMPLETE


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_stop_reaches_running_trials_on_every_executor(executor):
    pytest.importorskip("distributed")
    task = ToyTask(SPACE, epochs=8, epoch_s=0.05 if executor == "dask" else 0.0)
    ex = nasbook.executors.DaskExecutor(n_workers=2) if executor == "dask" else "local"
    try:
        s = nasbook.Search(SPACE, task, strategy=MedianStopping(min_trials=3), budget=16, seed=0,
                           storage=":memory:", executor=ex).run()
    finally:
        if executor == "dask":
            ex.close()
    stopped = [t for t in s.trials if t.state is TrialState.PRUNED]
    assert stopped, "no trial was stopped"
    assert all(t.epochs < 8 and t.value == t.curves["score"][-1] for t in stopped)
    assert s.epochs_spent < 16 * 8


def test_a_stop_at_the_last_planned_epoch_leaves_the_trial_complete():
    from nasbook.executors._base import evaluate_trial

    task = ToyTask(SPACE, epochs=3)
    arch = SPACE.sample(__import__("numpy").random.default_rng(0))
    early = evaluate_trial(task, SPACE, arch, 0, None, lambda epoch, **m: Decision.STOP)
    assert early.state == "pruned" and early.result.epochs == 1
    late = evaluate_trial(task, SPACE, arch, 0, None, lambda epoch, **m: Decision.STOP if epoch == 2 else Decision.CONTINUE)
    assert late.state == "complete" and late.result.epochs == 3
    rung = evaluate_trial(task, SPACE, arch, 0, {"epochs": 2}, lambda epoch, **m: Decision.STOP if epoch == 1 else Decision.CONTINUE)
    assert rung.state == "complete" and rung.result.epochs == 2  # the planned epochs come from the fidelity


def test_a_wrapper_is_refused_as_base_by_name_or_instance():
    from nasbook.strategies import ASHA

    for base in ("hyperband", MedianStopping(), ASHA(max_epochs=3)):
        with pytest.raises(InvalidParameterError, match=r"must be a proposing strategy, not a multi-fidelity scheduler"):
            MedianStopping(base=base).setup(SPACE)
        with pytest.raises(InvalidParameterError, match=r"ASHA\(base=\.\.\.\) must be a proposing strategy"):
            ASHA(base=base).setup(SPACE)
    with pytest.raises(InvalidParameterError, match=r"did you mean 'evolution'"):
        MedianStopping(base="evolutoin").setup(SPACE)


class _Renamed(ToyTask):
    """Reports its curve as 'val_acc', while the search's metric is 'score'."""

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        inner = None if report is None else (lambda epoch, **m: report(epoch, val_acc=m["score"]))
        return super().evaluate(arch, space=space, fidelity=fidelity, report=inner)


def test_reports_never_under_the_metric_warn_once_naming_it_and_the_names_seen():
    # the rule read only the metric's name, so a task reporting 'val_acc' to a search of 'score' was never stopped,
    # without a word; the normal case (test_stop_reaches_running_trials_on_every_executor) warns nothing
    s = nasbook.Search(SPACE, _Renamed(SPACE, epochs=6), strategy=MedianStopping(min_trials=3), budget=8, seed=0,
                       storage=":memory:")
    with pytest.warns(nasbook.NasbookWarning, match=r"MedianStopping reads the search's metric 'score' .* reported only "
                                                    r"'val_acc': it stops no trial") as seen:
        s.run(progress=False)
    assert len(seen) == 1 and seen[0].filename == __file__  # once, at the user's line
    assert not any(t.state is TrialState.PRUNED for t in s.trials)


def test_a_report_without_the_metric_after_one_with_it_warns_nothing():
    from nasbook.search import Trial

    rule = _fed(min_trials=3)
    assert rule.on_report(9, 0, {"acc": 1.0, "loss": 0.5}) is Decision.CONTINUE
    assert rule.on_report(9, 1, {"loss": 0.4}) is Decision.CONTINUE
    arch = rule.ask()
    rule.tell(Trial(9, arch, TrialState.COMPLETE, 2.0, curves={"acc": [1.0, 2.0]}))  # no warning (an error here)
