"""ASHA(rank_by="prediction") under CurveStopping: rungs rank by the predicted final value, not the value so far."""

import numpy as np
import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.predictors import LearnedCurves
from nasbook.search import Budget
from nasbook.strategies import ASHA, CurveStopping
from nasbook.tasks import MNIST1DTable


def _prior(task, rows):
    graf = np.asarray(task.space.encode_many(list(task.space.enumerate()), "graf"), dtype=np.float64)
    covs = {c: task.curve(c)[rows] for c in ("val_loss", "train_loss")}
    return LearnedCurves().fit(task.curve("val_accuracy")[rows], covs, features=graf[rows])


def _rule(prior, rank_by="prediction"):
    return CurveStopping(base=ASHA(min_epochs=1, max_epochs=15, eta=3, rank_by=rank_by), predictor=prior,
                         features="graf", prior_quantile=0.9)


@pytest.fixture(scope="module")
def table():
    task = MNIST1DTable()
    return task, _prior(task, np.arange(0, len(task.space.enumerate()), 2))


def test_rungs_rank_by_the_predicted_final_value(table):
    task, prior = table
    rule = _rule(prior)
    s = nasbook.Search(task, strategy=rule, budget=Budget(epochs=60), seed=3, storage=":memory:").run(progress="none")
    first_rung = {t.arch.id: t for t in s.trials if t.epochs == 1 and t.parent is None}
    ranked = rule.base_.results_[0]
    assert len(ranked) == len(first_rung) >= 10
    for arch_id, (score, _number, _) in ranked.items():
        t = first_rung[arch_id]
        assert t.attrs["predicted_at_epoch"] == 1
        assert score == pytest.approx(t.attrs["predicted_final"]) and score != pytest.approx(t.value)
    # every promotion out of the first rung went to a trial among the top third by prediction at that time;
    # at the end, each promoted trial's prediction is at least the median of its rung
    promoted = {t.parent for t in s.trials if t.parent is not None}
    preds = {t.number: t.attrs["predicted_final"] for t in first_rung.values()}
    assert promoted & set(preds)
    assert all(preds[n] >= np.median(list(preds.values())) for n in promoted & set(preds))
    by_value = ASHA(min_epochs=1, max_epochs=15, eta=3)
    assert by_value.rank_by == "value"


def test_the_same_search_ranked_by_value_promotes_differently(table):
    task, prior = table
    runs = {}
    for rank_by in ("value", "prediction"):
        s = nasbook.Search(task, strategy=_rule(prior, rank_by), budget=Budget(epochs=60), seed=3,
                           storage=":memory:").run(progress="none")
        runs[rank_by] = [(t.arch.id, t.epochs) for t in s.trials]
    assert runs["value"] != runs["prediction"]


def test_a_resumed_search_ranks_from_the_stored_predictions(table, tmp_path):
    task, prior = table
    whole = nasbook.Search(task, strategy=_rule(prior), budget=Budget(epochs=80), seed=5, storage=":memory:")
    whole.run(progress="none")
    part = nasbook.Search(task, strategy=_rule(prior), budget=Budget(epochs=40), seed=5, storage=tmp_path / "r.db",
                          name="r")
    part.run(progress="none")
    again = nasbook.load_search("r", tmp_path / "r.db", task=task, strategy=_rule(prior), budget=Budget(epochs=80))
    again.run(progress="none")
    assert [(t.arch.id, t.epochs, t.state) for t in again.trials] == [(t.arch.id, t.epochs, t.state) for t in whole.trials]
    assert any(t.parent is not None for t in again.trials[len(part.trials):])  # promotions after the resume


def test_rank_by_must_be_a_known_choice():
    with pytest.raises(InvalidParameterError, match=r"rank_by.*'predicted'.*value.*prediction"):
        nasbook.Search(MNIST1DTable(), strategy=ASHA(rank_by="predicted"), budget=3, storage=":memory:")
