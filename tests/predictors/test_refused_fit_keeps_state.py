"""A refused ``fit`` leaves a fitted predictor as it was (outside probe 12).

Before: ``fit`` stored the new space, features and encoding versions before it found that the space lacked the
features asked for, so after ``p.set_params(features="path").fit(mnist1d_archs, ...)`` was refused, ``p`` -- fitted
on Digits -- refused Digits' own architectures ("belongs to space 'subset-...', not to SubsetSpace 'subset-...'")
and ``predict([])`` said the space's encodings had changed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbook import InvalidParameterError, Predictor
from nasbook.predictors import OmniPredictor
from nasbook.tasks import DigitsTable, MNIST1DTable


def _data(task, n, offset=0):
    gt = task.ground_truth()
    by_id = {a.id: a for a in task.space.enumerate()}
    pairs = [(by_id[str(i)], float(v)) for i, v in zip(gt["arch"].values, gt["value"].values) if str(i) in by_id]
    pairs = pairs[offset:offset + n]
    return [a for a, _ in pairs], [v for _, v in pairs]


@pytest.fixture(scope="module")
def digits():
    return _data(DigitsTable(), 30)


@pytest.fixture(scope="module")
def others():
    return _data(DigitsTable(), 6, offset=100)[0]


def _prediction(p, archs):
    mean, std = p.predict_mean_std(archs)
    return np.concatenate([mean, std])


def test_a_fit_refused_for_features_the_other_space_lacks_keeps_the_fitted_space(digits, others):
    p = Predictor(model="extra-trees", seed=0).fit(*digits)
    before, space, n = _prediction(p, others), p.space_, p.n_train_
    mnist = _data(MNIST1DTable(), 20)
    with pytest.raises(InvalidParameterError, match=r"features=.*'path'"):
        p.set_params(features="path").fit(*mnist)
    assert p.space_ is space and p.n_train_ == n
    np.testing.assert_array_equal(_prediction(p, others), before)  # before: InvalidArchitectureError
    assert p.predict([]).sizes.get("arch", 0) == 0  # before: "the space now encodes them as ..."


@pytest.mark.parametrize("bad", ["nan", "lengths", "empty"])
def test_other_refused_fits_keep_the_predictions(digits, others, bad):
    archs, scores = digits
    p = Predictor(model="gp", seed=0).fit(archs, scores)
    before, fitted = _prediction(p, others), dict(vars(p))
    args = {"nan": (archs[:10], scores[:9] + [math.nan]), "lengths": (archs[:5], scores[:4]), "empty": ([], [])}[bad]
    with pytest.raises(InvalidParameterError):
        p.fit(*args)
    assert set(vars(p)) == set(fitted)
    np.testing.assert_array_equal(_prediction(p, others), before)


def test_a_refused_omni_fit_keeps_its_columns_statistics(digits, others):
    archs, scores = digits
    extra = {a.id: [float(i), float(i % 7)] for i, a in enumerate(archs + others)}
    p = OmniPredictor(extra=extra, model="extra-trees", seed=0).fit(archs, scores)
    before = _prediction(p, others)
    with pytest.raises(InvalidParameterError):
        p.fit(archs[:5], scores[:4])
    np.testing.assert_array_equal(_prediction(p, others), before)  # before: statistics recomputed from these rows


# -- probe 12's other findings ------------------------------------------------------------------------------------

def test_a_repeated_encoding_is_refused_naming_it(digits):
    # before: features=("graf", "graf") fitted every graph feature twice, silently (features_ ('graf', 'graf'))
    with pytest.raises(InvalidParameterError, match=r"Predictor\(features=\.\.\.\) must not repeat an encoding; got \('graf', 'graf'\)"):
        Predictor(model="gp", features=("graf", "graf")).fit(*digits)
    assert Predictor(model="gp", features=("graf", "adjacency"), seed=0).fit(*digits).features_ == ("graf", "adjacency")


@pytest.mark.parametrize("scores", [None, 0.5])
def test_scores_that_are_no_sequence_are_named(digits, scores):
    # before: "Predictor.fit(scores=...) must be one-dimensional; got shape ()." for None or one number
    from nasbook._errors import InvalidParameterTypeError

    with pytest.raises(InvalidParameterTypeError, match=rf"Predictor.fit\(scores=...\) must be a sequence of numbers, one per architecture; got {scores}"):
        Predictor().fit(digits[0], scores)
