"""CurveStopping: stops what is confidently worse, never the best, composes with ASHA, resumes exactly."""

import warnings

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.search import Trial, TrialState, load_search
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.strategies import ASHA, CurveStopping, MedianStopping, get_strategy
from nasbook.tasks import Decision
from nasbook.tasks._table import DigitsTable
from nasbook.testing import StrategyContract, ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


def _fed(mode="max", **kw):
    """A rule that has seen four trials reach epoch 10 at 0.90, 0.91, 0.92 and 0.93."""
    sign = 1.0 if mode == "max" else -1.0
    rule = CurveStopping(**{"predictor": "last-value", "k": 2, "max_epochs": 10, **kw}).setup(SPACE, seed=0, mode=mode, metric="acc")
    for i, final in enumerate((0.90, 0.91, 0.92, 0.93)):
        rule.tell(Trial(i, rule.ask(), TrialState.COMPLETE, sign * final, epochs=10,
                        curves={"acc": [sign * (final - 0.03 * (9 - e)) for e in range(10)]}))
    return rule


def _report(rule, number, values, sign=1.0):
    out = None
    for e, v in enumerate(values):
        out = rule.on_report(number, e, {"acc": sign * v})
        if out is Decision.STOP:
            return out, e
    return out, len(values) - 1


def test_stops_a_clearly_bad_trial_and_records_its_prediction():
    rule = _fed()
    assert rule.reference() == 0.92
    decision, epoch = _report(rule, 9, [0.2, 0.3, 0.31, 0.32])
    assert decision is Decision.STOP and epoch == 1  # needs two epochs for a spread
    attrs = rule.trial_attrs(9)
    assert attrs["stopped_by_prediction"] and attrs["predicted_reference"] == 0.92 and attrs["predicted_at_epoch"] == 2
    assert rule.n_stopped_ == 1


def test_never_stops_the_best_nor_before_k_trials_finished():
    rule = _fed()
    best = [0.9, 0.93, 0.94, 0.95, 0.95, 0.95, 0.96, 0.95, 0.96]
    assert _report(rule, 9, best) == (Decision.CONTINUE, 8)
    for predictor in ("parametric", "pow3"):
        assert _report(_fed(predictor=predictor), 9, best) == (Decision.CONTINUE, 8)
    assert not rule.trial_attrs(9)["stopped_by_prediction"]
    early = CurveStopping(predictor="last-value", k=5, max_epochs=10).setup(SPACE, seed=0, metric="acc")
    assert _report(early, 1, [0.0, 0.0, 0.0])[0] is Decision.CONTINUE and early.reference() is None


def test_minimisation_mirrors_maximisation():
    rule = _fed(mode="min")
    assert rule.reference() == -0.92
    assert _report(rule, 9, [0.2, 0.3, 0.31], sign=-1.0)[0] is Decision.STOP
    assert _report(rule, 10, [0.9, 0.93, 0.94, 0.95, 0.95], sign=-1.0)[0] is Decision.CONTINUE


def test_the_base_wrapper_decides_first():
    rule = CurveStopping(base=MedianStopping(min_trials=1), predictor="last-value", k=50).setup(SPACE, seed=0, metric="acc")
    rule.tell(Trial(0, rule.ask(), TrialState.COMPLETE, 0.9, epochs=3, curves={"acc": [0.5, 0.8, 0.9]}))
    assert rule.on_report(1, 1, {"acc": 0.1}) is Decision.STOP  # MedianStopping's decision, forwarded
    assert rule.base_.n_stopped_ == 1 and rule.n_stopped_ == 0


def test_composes_with_asha_keeping_its_promotions_and_checkpoints():
    task = DigitsTable()
    rule = CurveStopping(base=ASHA(min_epochs=1, max_epochs=task.max_epochs, eta=3), predictor="parametric", k=2)
    assert rule.continues_trials
    s = nasbook.Search(task, strategy=rule, budget=80, seed=0, storage=":memory:").run(progress="none")
    promoted = [t for t in s.trials if t.parent is not None]
    assert promoted and {t.epochs for t in s.trials} >= {1, 3, 9}
    assert any("predicted_final" in t.attrs for t in promoted)  # the parent's curve is the prefix
    assert s.epochs_spent == sum(t.attrs["epochs_run"] for t in s.trials)  # continuations ran only their new epochs


@pytest.mark.parametrize("predictor", ["learned", "parametric"])
def test_prunes_on_the_digits_table_and_shows_its_predictions(predictor):
    task = DigitsTable()
    s = nasbook.Search(task, strategy=CurveStopping(predictor=predictor, k=3, confidence=0.8), budget=60, seed=0,
                       storage=":memory:").run(progress="none")
    stopped = [t for t in s.trials if t.state is TrialState.PRUNED]
    assert stopped and all(t.attrs["stopped_by_prediction"] and t.epochs < task.max_epochs for t in stopped)
    assert all(t.attrs["predicted_final"] + 0 < t.attrs["predicted_reference"] for t in stopped)
    assert s.best.state is TrialState.COMPLETE
    html = stopped[0]._repr_mimebundle_()["text/html"]
    assert "Curve prediction" in html and "predicted_final" in html


def test_the_monitor_shows_a_running_trials_prediction():
    from nasbook.display._monitor import running_note

    rule = _fed()
    _report(rule, 9, [0.5, 0.6])
    note = running_note(rule, 9)
    assert "0.6" in note and "vs 0.92" in note and "from 2 ep" in note
    assert running_note(rule, 99) == "" and running_note(object(), 1) == ""


def test_bad_parameters_are_named():
    for kw, msg in [({"k": 0}, r"k=\.\.\.\) must be an int >= 1; got 0"),
                    ({"confidence": 1.0}, r"confidence=\.\.\.\) must be a number in \[0.5, 1\); got 1.0"),
                    ({"predictor": "pow5"}, r"Unknown curve predictor 'pow5'"),
                    ({"max_epochs": 1}, r"max_epochs=\.\.\.\) must be an int >= 2 or None; got 1"),
                    ({"base": 3}, r"base=\.\.\.\) must be a strategy name"),
                    ({"predictor": "learned", "fallback": "learned"}, r"fallback=\.\.\.\) must predict without training")]:
        with pytest.raises(InvalidParameterError, match=msg):
            CurveStopping(**kw).setup(SPACE)
    assert isinstance(get_strategy("curve-stopping"), CurveStopping)


def test_resume_after_a_crash_replays_exactly(tmp_path):
    task = DigitsTable(seed=0)
    make = lambda: CurveStopping(base=ASHA(max_epochs=task.max_epochs), predictor="learned", k=3)  # noqa: E731
    full = nasbook.Search(task, strategy=make(), budget=70, seed=3, storage=":memory:").run(progress="none")

    class Stop(Exception):
        pass

    def stop_at_30(search, trial):
        if trial.number == 30:
            raise Stop

    cut = nasbook.Search(task, strategy=make(), budget=70, seed=3, storage=tmp_path / "s.db", name="cut", callbacks=[stop_at_30])
    with pytest.raises(Stop):
        cut.run(progress="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = load_search("cut", tmp_path / "s.db", task=task, strategy=make()).run(progress="none")
    key = lambda t: (t.arch.id, t.epochs, t.state, t.parent)  # noqa: E731
    assert [key(t) for t in resumed.trials] == [key(t) for t in full.trials]


class TestCurveStopping(StrategyContract):
    task_epochs = 6

    @pytest.fixture
    def strategy(self):
        return CurveStopping(base="evolution", predictor="parametric", k=2)


class TestCurveStoppingOverASHA(StrategyContract):
    task_epochs = 9

    @pytest.fixture
    def strategy(self):
        return CurveStopping(base=ASHA(base="random", min_epochs=1, max_epochs=9, eta=3), predictor="last-value", k=2)


def test_a_learned_predictor_lets_its_fallback_decide_until_it_is_fitted():
    # four full curves are fewer than LearnedCurves' min_curves=10: the fallback (last value) decides...
    rule = _fed(predictor="learned", fallback="last-value")
    assert not hasattr(rule.predictor_, "models_")
    decision, epoch = _report(rule, 9, [0.2, 0.3, 0.31, 0.32])
    assert decision is Decision.STOP and epoch == 1
    # ... and without a fallback nothing is stopped until the learned model is fitted
    quiet = _fed(predictor="learned", fallback=None)
    assert _report(quiet, 9, [0.2, 0.3, 0.31, 0.32]) == (Decision.CONTINUE, 3)
    assert CurveStopping(predictor="learned").to_config()["params"]["fallback"] == "parametric"


class _Renamed(ToyTask):
    """Reports its curve as 'val_acc', while the search's metric is 'score'."""

    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        inner = None if report is None else (lambda epoch, **m: report(epoch, val_acc=m["score"]))
        return super().evaluate(arch, space=space, fidelity=fidelity, report=inner)


def test_reports_never_under_the_metric_warn_once_naming_it_and_the_names_seen():
    # the rule extrapolated only the metric's curve, so a task reporting 'val_acc' to a search of 'score' was never
    # stopped, without a word; the searches above (the normal case) warn nothing under pytest's error filter
    rule = CurveStopping(predictor="last-value", k=2, max_epochs=6)
    s = nasbook.Search(SPACE, _Renamed(SPACE, epochs=6), strategy=rule, budget=6, seed=0, storage=":memory:")
    with pytest.warns(nasbook.NasbookWarning, match=r"CurveStopping reads the search's metric 'score' .* reported only "
                                                    r"'val_acc': it stops no trial") as seen:
        s.run(progress=False)
    assert len(seen) == 1 and seen[0].filename == __file__
    assert rule.n_stopped_ == 0
