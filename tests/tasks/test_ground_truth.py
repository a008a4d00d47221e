"""Task.ground_truth(): every architecture's score of a tabular task as one Dataset."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nasbook._errors import NasbookError
from nasbook.tasks import Digits, DigitsTable, NasBenchGraph


def test_nbg_ground_truth_matches_the_lookup_in_enumeration_order():
    task = NasBenchGraph("proteins")
    gt = task.ground_truth()
    archs = task.space.enumerate()
    assert gt.sizes == {"arch": len(archs)} == {"arch": 2021}
    assert list(gt["arch"].values) == [a.id for a in archs]
    for i in (0, 7, 2020):
        res = task.evaluate(archs[i])
        assert gt["value"].values[i] == res.value
        assert gt["test"].values[i] == res.attrs[task.test_metric]
        assert gt["params"].values[i] == pytest.approx(res.attrs["params_m"] * 1e6)
    assert gt.attrs["metric"] == "val_roc_auc" and gt.attrs["mode"] == "max"
    assert "noise_ceiling" not in gt.attrs and "mean" in gt.attrs["noise_ceiling_note"]


@pytest.mark.parametrize("seed", ["mean", 1])
def test_curve_table_ground_truth_is_what_a_search_sees(seed):
    task = DigitsTable(seed=seed)
    gt = task.ground_truth()
    members = task.space.enumerate()
    assert list(gt["arch"].values) == [a.id for a in members]
    for i in (0, 150, 299):
        res = task.evaluate(members[i])
        assert gt["value"].values[i] == res.value
        assert gt["test"].values[i] == pytest.approx(res.attrs["test_accuracy"])
        assert gt["params"].values[i] == res.attrs["n_params"]


def test_curve_table_noise_ceiling_is_the_seed_vs_seed_tau():
    task = DigitsTable()
    final = task.table.curves["val_accuracy"][:, :, -1].astype(np.float64)
    expected = stats.kendalltau(final[:, 0], final[:, 1]).statistic
    assert task.ground_truth().attrs["noise_ceiling"] == pytest.approx(expected)
    assert 0 < expected < 1


def test_a_training_task_has_no_ground_truth():
    with pytest.raises(NasbookError, match=r"Digits\).*needs a tabular task"):
        Digits().ground_truth()
