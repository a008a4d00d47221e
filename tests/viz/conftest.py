"""Small searches shared by the viz tests (module-scoped: built once, in memory)."""

import pytest

import nasbook
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.strategies import SuccessiveHalving
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask


class MinToy(ToyTask):
    """ToyTask minimised, to check that builders respect mode='min'."""

    mode = "min"


@pytest.fixture(scope="session")
def cora():
    return nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=30, seed=0, storage=":memory:").run()


@pytest.fixture(scope="session")
def cora_evo():
    return nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=20, seed=1, storage=":memory:").run()


@pytest.fixture(scope="session")
def curves():
    space = GraphSpace(ops=PROTEINS_OPS)
    task = ToyTask(space, epochs=5)
    strategy = SuccessiveHalving(max_epochs=9, n_initial=9)
    return nasbook.Search(space, task, strategy=strategy, budget=30, seed=0, storage=":memory:").run()


@pytest.fixture(scope="session")
def minimised():
    space = GraphSpace(ops=PROTEINS_OPS)
    return nasbook.Search(space, MinToy(space), strategy="random", budget=20, seed=0, storage=":memory:").run()


@pytest.fixture(scope="session")
def predictor_data():
    from nasbook.predictors import RandomForest, evaluate
    from nasbook.tasks import DigitsTable

    task = DigitsTable()
    # one baseline, '#params' (instant): the default's 'onehot-gbt' fits calibrated boosted trees (~10 s) and these
    # scores only carry the plot options under test
    scores = evaluate({"forest": RandomForest(n_estimators=5, calibration="none")}, task, n_train=[10, 20], seeds=2,
                      n_test=30, baselines=["#params"], progress=False)
    archs, y = task.space.enumerate(), task.values()
    predictor = RandomForest(n_estimators=5, calibration="none").fit(archs[:30], y[:30])
    predictor.score(archs[30:60], y[30:60])
    return scores, predictor


@pytest.fixture
def plots(cora, cora_evo, curves, predictor_data):
    """name -> a call of that plot on data it draws, taking the options (every public ``plot_*``)."""
    from nasbook.viz import (
        plot_compare,
        plot_curves,
        plot_history,
        plot_op_frequency,
        plot_predictions,
        plot_predictor_scores,
        plot_tradeoff,
    )

    scores, predictor = predictor_data
    return {
        "plot_history": lambda **o: plot_history(cora, cora_evo, **o),
        "plot_compare": lambda **o: plot_compare(cora, cora_evo, **o),
        "plot_curves": lambda **o: plot_curves(curves, **o),
        "plot_tradeoff": lambda **o: plot_tradeoff(cora, **o),
        "plot_op_frequency": lambda **o: plot_op_frequency(cora, **o),
        "plot_predictor_scores": lambda **o: plot_predictor_scores(scores, **o),
        "plot_predictions": lambda **o: plot_predictions(predictor, **o),
    }
