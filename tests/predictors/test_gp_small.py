"""GaussianProcess on a dozen architectures of a real table: the length scale's lower bound from the
training set's geometry and the noise's cap keep the fit from collapsing to near-constant
predictions (docs/benchmarks.md, section 1p-pred); the old fixed bounds stay available."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.predictors import GaussianProcess, kendall_tau
from nasbook.predictors._models import _median_neighbour_distance


def _fits_on_12(dataset: str, **params: object) -> list[tuple[float, float, np.ndarray]]:
    """(tau on 1,000 held out, sd of the predicted means / sd of the training scores, predicted stds)
    for six random training sets of 12 architectures of a NAS-Bench-Graph table."""
    from nasbook.tasks import NasBenchGraph

    task = NasBenchGraph(dataset)
    archs, y = task.space.enumerate(), task.table.valid
    out = []
    for split in range(6):
        idx = np.random.default_rng(split).permutation(len(archs))
        tr, te = idx[:12], idx[12:1012]
        gp = GaussianProcess(seed=0, **params).fit([archs[i] for i in tr], y[tr])  # type: ignore[arg-type]
        mean, std = gp.predict_mean_std([archs[i] for i in te])
        out.append((kendall_tau(y[te], mean), float(np.std(mean) / np.std(y[tr])), std))
    return out


@pytest.mark.parametrize("dataset", ["photo", "citeseer"])
def test_a_gp_on_12_architectures_does_not_collapse(dataset):
    # with the old fixed bounds, 2 of these 6 fits on photo and 3 on citeseer predicted a spread of
    # means under 0.1% of the training scores' (the length scale ran far below the distance between
    # any two architectures); the lowest tau on photo was 0.13
    for tau, spread, std in _fits_on_12(dataset):
        assert spread > 5e-3
        assert np.all(np.isfinite(std)) and np.all(std > 0)
        if dataset == "photo":
            assert tau > 0.2


def test_fixed_bounds_keep_the_old_fit_and_the_bound_follows_the_geometry(graf_data):
    space, archs, y, _ = graf_data
    fixed = GaussianProcess(length_scale_bound="fixed", seed=0).fit(archs[:15], y[:15], space=space)
    ls_bounds = fixed.model_.kernel_.k1.k2.length_scale_bounds
    assert np.allclose(np.ravel(ls_bounds), [1e-2, 1e4])
    new = GaussianProcess(seed=0).fit(archs[:15], y[:15], space=space)
    low = float(np.ravel(new.model_.kernel_.k1.k2.length_scale_bounds)[0])
    assert np.isclose(low, 0.5 * _median_neighbour_distance(new.model_.X_train_))
    assert new.model_.kernel_.k1.k2.length_scale >= low * (1 - 1e-9)
    assert new.model_.kernel_.k2.noise_level <= 0.5 * np.var(new.model_.y_train_) * (1 + 1e-9) + 1e-9


def test_median_neighbour_distance_ignores_repeats():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0], [3.0, 4.0], [6.0, 8.0]])
    assert _median_neighbour_distance(X) == 5.0
    assert _median_neighbour_distance(np.zeros((4, 3))) == 0.0
    assert _median_neighbour_distance(np.zeros((1, 3))) == 0.0


def test_repeated_architectures_only_fall_back_to_the_fixed_bounds(graf_data):
    space, archs, _, _ = graf_data
    gp = GaussianProcess(seed=0).fit([archs[0]] * 3 + [archs[1]] * 3, [1.0, 1.1, 0.9, 2.0, 2.1, 1.9], space=space)
    mean, std = gp.predict_mean_std([archs[0], archs[1]])
    assert mean[0] < mean[1] and np.all(np.isfinite(std))


def test_an_unknown_bound_is_refused(graf_data):
    space, archs, y, _ = graf_data
    with pytest.raises(InvalidParameterError, match="length_scale_bound"):
        GaussianProcess(length_scale_bound="median").fit(archs[:10], y[:10], space=space)
