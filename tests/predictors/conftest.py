"""Fixtures shared by the predictor tests."""

from __future__ import annotations

import pytest

from nasbook.space import GraphSpace


@pytest.fixture(scope="module")
def graf_data():
    """240 NAS-Bench-Graph cells, a score that is a known function of two GRAF columns, and the column names."""
    space = GraphSpace()
    archs = space.enumerate()[::41][:240]
    X = space.encode_many(archs, "graf")
    names = space.feature_names("graf")
    y = X[:, names.index("count[gcn]")] - 0.5 * X[:, names.index("count[fc]")]
    return space, archs, y, names
