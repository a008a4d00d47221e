"""Every built-in space passes the public contract suite, at its defaults and at a size small
enough to enumerate (where ``cardinality`` and uniform sampling are checked)."""

import numpy as np
import pytest

from nasbook.space import PROTEINS_OPS, CellSpace, ChainSpace, ConvDenseSpace, GraphSpace, SubsetSpace
from nasbook.testing import SpaceContract


class TestGraphSpace(SpaceContract):
    @pytest.fixture(params=[None, PROTEINS_OPS, ("gcn", "gat", "skip")], ids=["all", "proteins", "tiny"])
    def space(self, request):
        return GraphSpace() if request.param is None else GraphSpace(ops=request.param)


class TestCellSpace(SpaceContract):
    @pytest.fixture(
        params=[{}, {"n_nodes": 3, "ops": ("none", "skip_connect", "nor_conv_3x3")}, {"n_nodes": 5, "ops": ("nor_conv_1x1", "avg_pool_3x3")}],
        ids=["nb201", "tiny", "no-none"],
    )
    def space(self, request):
        return CellSpace(**request.param)


class TestChainSpace(SpaceContract):
    @pytest.fixture(
        params=[{}, {"kind": "mlp", "max_depth": 2, "widths": (8, 16), "ops": ("relu", "tanh")}, {"min_depth": 3, "max_depth": 3}],
        ids=["cnn", "tiny-mlp", "fixed-depth"],
    )
    def space(self, request):
        return ChainSpace(**request.param)


class TestSubsetSpace(SpaceContract):
    @pytest.fixture(params=["cell", "graph"])
    def space(self, request):
        parent = CellSpace() if request.param == "cell" else GraphSpace(ops=PROTEINS_OPS)
        rng = np.random.default_rng(0)
        archs = {a.id: a for a in (parent.sample(rng) for _ in range(60))}
        return SubsetSpace(parent, list(archs.values())[:40])


class TestConvDenseSpace(SpaceContract):
    @pytest.fixture(
        params=[{}, {"max_conv": 2, "max_dense": 1, "conv_ops": ("conv3", "conv5_s2"), "conv_widths": (8, 16), "dense_widths": (32,)},
                {"min_conv": 1, "max_conv": 1, "min_dense": 1, "max_dense": 2}],
        ids=["default", "tiny", "always-conv-and-dense"],
    )
    def space(self, request):
        return ConvDenseSpace(**request.param)
