"""Options probed in Predictor() round 4: forests with ``drop`` (feature columns left out by name) and the
booster's ``center`` (median or squared-error mean), alone and together in an ensemble."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import Ensemble, ExtraTrees, GradientBoosting, Predictor, RandomForest, kendall_tau


@pytest.mark.parametrize("cls", [ExtraTrees, RandomForest])
def test_a_forest_never_sees_dropped_columns(graf_data, cls):
    space, archs, y, names = graf_data
    n_level = sum(n.startswith("level_count") for n in names)
    f = cls(n_estimators=20, drop=["level_count"], seed=0).fit(archs[:80], y[:80], space=space)
    assert f.model_.n_features_in_ == len(names) - n_level
    assert cls(n_estimators=20, seed=0).fit(archs[:80], y[:80], space=space).model_.n_features_in_ == len(names)
    assert kendall_tau(y[80:], f.predict_mean_std(archs[80:])[0]) > 0.5
    inside = Ensemble([cls(n_estimators=20, drop=("level_count",))], calibration="none", seed=0)
    fitted = Predictor(model=inside, seed=0, calibration="none").fit(archs[:60], y[:60], space=space)
    assert fitted.model_.members_[0].model_.n_features_in_ == len(names) - n_level


def test_forest_drop_bad_input_names_the_parameter(graf_data):
    space, archs, y, names = graf_data
    with pytest.raises(InvalidParameterTypeError, match=r"ExtraTrees\(drop=...\)"):
        ExtraTrees(drop="level_count").fit(archs[:20], y[:20], space=space)
    prefixes = sorted({n.split("[")[0] for n in names})
    with pytest.raises(InvalidParameterError, match="leaves none"):
        RandomForest(drop=prefixes).fit(archs[:20], y[:20], space=space)


def test_the_booster_center(graf_data):
    space, archs, y, names = graf_data
    mean = GradientBoosting(center="mean", max_iter=30, seed=0).fit(archs[:80], y[:80], space=space)
    median = GradientBoosting(max_iter=30, seed=0).fit(archs[:80], y[:80], space=space)
    assert mean.models_[0].loss == "squared_error" and median.models_[0].loss == "quantile"
    assert mean.models_[1].loss == median.models_[1].loss == "quantile"  # the spread's heads are the same
    m1, s1 = mean.predict_mean_std(archs[80:])
    m2, s2 = median.predict_mean_std(archs[80:])
    assert not np.allclose(m1, m2) and np.all(s1 > 0)
    assert kendall_tau(y[80:], m1) > 0.5
    with pytest.raises(InvalidParameterError, match=r"center"):
        GradientBoosting(center="mode").fit(archs[:20], y[:20], space=space)


def test_members_with_drop_and_center_in_one_ensemble(graf_data):
    space, archs, y, names = graf_data
    dropped = sum(n.startswith(("level_count", "link_pattern")) for n in names)
    ens = Ensemble([ExtraTrees(n_estimators=20, drop=("level_count", "link_pattern")),
                    GradientBoosting(center="mean", max_iter=20)], calibration="none", seed=0)
    p = Predictor(model=ens, seed=0, calibration="none").fit(archs[:40], y[:40], space=space)
    trees, boost = p.model_.members_
    assert trees.model_.n_features_in_ == len(names) - dropped
    assert boost.models_[0].loss == "squared_error" and boost.models_[0].n_features_in_ == len(names)
    # the default is round 3's: extra trees on every column, the booster's median
    default = Predictor(seed=0, calibration="none").fit(archs[:40], y[:40], space=space)
    assert default.model_.members_[2].model_.n_features_in_ == len(names)
    assert default.model_.members_[3].models_[0].loss == "quantile"
