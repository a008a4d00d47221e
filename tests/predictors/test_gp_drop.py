"""GaussianProcess(drop=...): feature columns left out of the kernel by name, alone, inside an
Ensemble, beside a prior column, and its bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.predictors import Ensemble, GaussianProcess, Predictor, PriorPredictor, kendall_tau


def test_dropped_columns_never_reach_the_kernel(graf_data):
    space, archs, y, names = graf_data
    n_level = sum(n.startswith("level_count") for n in names)
    assert n_level > 0
    gp = GaussianProcess(drop=["level_count"], seed=0).fit(archs[:80], y[:80], space=space)
    assert gp.model_.X_train_.shape[1] == len(names) - n_level
    full = GaussianProcess(seed=0).fit(archs[:80], y[:80], space=space)
    assert full.model_.X_train_.shape[1] == len(names)
    assert kendall_tau(y[80:], gp.predict_mean_std(archs[80:])[0]) > 0.6
    # a prefix that matches nothing changes nothing: one setting serves every space
    same = GaussianProcess(drop=["no_such_feature"], seed=0).fit(archs[:80], y[:80], space=space)
    assert np.allclose(same.predict_mean_std(archs[80:90])[0], full.predict_mean_std(archs[80:90])[0])


def test_drop_works_inside_an_ensemble_a_predictor_and_beside_a_prior(graf_data):
    space, archs, y, names = graf_data
    keep = len(names) - sum(n.startswith(("level_count", "count[")) for n in names)
    gp = GaussianProcess(drop=("level_count", "count["))
    p = Predictor(model=Ensemble([gp, GaussianProcess(features="adjacency")]), seed=0).fit(archs[:60], y[:60])
    assert p.model_.members_[0].model_.X_train_.shape[1] == keep
    assert p.model_.members_[1].model_.X_train_.shape[1] == space.encoding_size("adjacency")
    q = Predictor(model=gp, seed=0).fit(archs[:60], y[:60])
    assert q.model_.model_.X_train_.shape[1] == keep
    pp = PriorPredictor(lambda a: np.arange(len(a), dtype=float), model=gp, seed=0).fit(archs[:60], y[:60])
    assert pp.model_.model_.X_train_.shape[1] == keep + 1  # the prior's column is kept


def test_drop_bad_input_names_the_parameter(graf_data):
    space, archs, y, names = graf_data
    with pytest.raises(InvalidParameterTypeError, match="drop"):
        GaussianProcess(drop="level_count").fit(archs[:20], y[:20], space=space)
    with pytest.raises(InvalidParameterTypeError, match="drop"):
        GaussianProcess(drop=[3]).fit(archs[:20], y[:20], space=space)
    prefixes = sorted({n.split("[")[0] for n in names})
    with pytest.raises(InvalidParameterError, match="leaves none"):
        GaussianProcess(drop=prefixes).fit(archs[:20], y[:20], space=space)
    # columns without names (a model fed only extra columns): nothing to drop, all are used
    bare = GaussianProcess(drop=["level_count"])
    bare._validate_params()
    bare._fit(np.random.default_rng(0).normal(size=(8, 3)), np.arange(8.0))
    assert bare.model_.X_train_.shape == (8, 3)


def test_the_default_graph_gp_leaves_out_per_depth_counts_and_link_patterns(graf_data):
    space, archs, y, names = graf_data
    p = Predictor(seed=0, calibration="none").fit(archs[:40], y[:40], space=space)
    gp_graf, gp_adj = p.model_.members_[:2]
    dropped = sum(n.startswith(("level_count", "link_pattern")) for n in names)
    assert dropped == 45
    assert gp_graf.model_.X_train_.shape[1] == len(names) - dropped
    assert gp_adj.model_.X_train_.shape[1] == space.encoding_size("adjacency")
    # the encodings (and so what a stored model checks) are unchanged
    assert p.features_ == ("graf", "adjacency")
    assert p.feature_versions_ == (space.encoding_version("graf"), space.encoding_version("adjacency"))
