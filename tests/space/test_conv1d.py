"""1-D builds: every op of CellSpace, ChainSpace(kind="cnn") and ConvDenseSpace on (channels, length) inputs."""

import pickle

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.space import CONV_OPS, CellSpace, ChainSpace, ConvDenseSpace
from nasbook.space._chain import CNN_OPS
from nasbook.space._convdense import conv_dense_size

torch = None  # imported by the autouse fixture when the first test runs, not when the file is collected


@pytest.fixture(autouse=True, scope="module")
def _torch():
    global torch
    torch = pytest.importorskip("torch")

CELL_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_5x5", "sep_conv_3x3", "dil_conv_3x3",
            "avg_pool_3x3", "max_pool_3x3")


def _modules(model):
    return {type(m).__name__ for m in model.modules()}


@pytest.mark.parametrize("op", CELL_OPS)
@pytest.mark.parametrize("length", [40, 7])
def test_cell_network_on_sequences(op, length):
    space = CellSpace(n_nodes=3, ops=("none", op), n_cells=2, n_stages=2, channels=4)
    arch = space.make(edges=[op, op, op])
    model = space.build(arch, (2, length), 5)
    assert model(torch.randn(3, 2, length)).shape == (3, 5)
    names = _modules(model)
    assert "Conv1d" in names and "BatchNorm1d" in names and "AdaptiveAvgPool1d" in names
    assert not any(n.endswith("2d") for n in names)


@pytest.mark.parametrize("op", CNN_OPS)
def test_chain_on_sequences(op):
    space = ChainSpace(kind="cnn", max_depth=3, ops=CNN_OPS, widths=(4, 8))
    arch = space.make(layers=[[op, 4], [op, 8], [op, 8]])
    model = space.build(arch, (1, 40), 10)
    assert model(torch.randn(2, 1, 40)).shape == (2, 10)
    names = _modules(model)
    assert "Conv1d" in names and not any(n.endswith("2d") for n in names)
    if op == "maxpool_conv3x3":
        assert "MaxPool1d" in names
        assert model[:-3](torch.randn(2, 1, 40)).shape == (2, 8, 5)  # 40 -> 20 -> 10 -> 5 before global pooling


def test_image_shapes_still_build_2d_networks():
    cell = CellSpace()
    model = cell.build(cell.sample(np.random.default_rng(0)), (1, 8, 8), 10)
    assert "Conv2d" in _modules(model) and model(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    chain = ChainSpace()
    model = chain.build(chain.sample(np.random.default_rng(0)), (3, 9, 9), 4)
    assert "Conv2d" in _modules(model) and model(torch.randn(2, 3, 9, 9)).shape == (2, 4)


@pytest.mark.parametrize("op", CONV_OPS)
def test_conv_dense_every_op_and_its_size(op):
    space = ConvDenseSpace()
    arch = space.make(conv=[[op, 4], [op, 16]], dense=[32])
    model = space.build(arch, (1, 40), 10)
    assert model(torch.randn(3, 1, 40)).shape == (3, 10)
    params, flops, flat = conv_dense_size(arch["conv"], arch["dense"], (1, 40), 10)
    assert sum(p.numel() for p in model.parameters()) == params
    stride = 2 if op.endswith("_s2") else 1
    assert flat == 16 * (40 // stride // stride)
    assert model[:7](torch.randn(3, 1, 40)).shape == (3, flat)  # conv, bn, relu x2 and flatten
    assert np.log10(params) == pytest.approx(float(space.encode(arch, "graf")[space.feature_names("graf").index("log10_params")]), abs=1e-4)
    assert "Conv1d" in _modules(model)
    again = pickle.loads(pickle.dumps(model))
    x = torch.randn(2, 1, 40)
    assert torch.equal(model.eval()(x), again.eval()(x))


def test_conv_dense_families():
    space = ConvDenseSpace()
    linear = space.build(space.make(conv=[], dense=[]), (1, 40), 10)
    assert [type(m).__name__ for m in linear] == ["Flatten", "Linear"]
    mlp = space.build(space.make(conv=[], dense=[64, 32]), (40,), 10)  # no convolution: any sample shape
    assert mlp(torch.randn(2, 40)).shape == (2, 10)
    deep = space.make(conv=[["conv3", 4]] * 4, dense=[])
    assert space.build(deep, (1, 40), 10)(torch.randn(2, 1, 40)).shape == (2, 10)
    halving = space.make(conv=[["conv9_s2", 4]] * 4, dense=[128])
    model = space.build(halving, (1, 40), 10)
    assert model(torch.randn(2, 1, 40)).shape == (2, 10)  # 40 -> 20 -> 10 -> 5 -> 3, never 0
    assert space.build(halving, (3, 9, 9), 4)(torch.randn(2, 3, 9, 9)).shape == (2, 4)  # 2-D on images


@pytest.mark.parametrize(("shape", "fragment"), [((40,), "input_shape"), ((1, 0), r"\(1, 0\)"), ("abc", "input_shape")])
def test_conv_dense_bad_build_arguments(shape, fragment):
    space = ConvDenseSpace()
    with pytest.raises(InvalidParameterError, match=fragment):
        space.build(space.make(conv=[["conv3", 4]], dense=[]), shape, 10)
    with pytest.raises(InvalidParameterError, match="n_classes"):
        space.build(space.make(conv=[], dense=[]), (1, 40), 0)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [({"conv": [["conv7", 4]], "dense": []}, "conv7"), ({"conv": [["conv3", 5]], "dense": []}, "width 5"),
     ({"conv": [], "dense": [33]}, "width 33"), ({"conv": [["conv3", 4]] * 5, "dense": []}, "0 to 4"),
     ({"conv": []}, "two fields"), ({"conv": "conv3", "dense": []}, "must be a list"),
     ({"conv": [["conv3"]], "dense": []}, "pair")],
)
def test_conv_dense_make_rejects_bad_specs(spec, fragment):
    with pytest.raises(InvalidArchitectureError, match=fragment):
        ConvDenseSpace().make(**spec)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"max_conv": 17}, "max_conv"), ({"min_conv": 2, "max_conv": 1}, "at least min_conv"),
     ({"conv_ops": ("conv4",)}, "conv_ops"), ({"conv_widths": ()}, "conv_widths"), ({"dense_widths": (8, 8)}, "repeat")],
)
def test_conv_dense_bad_parameters(kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        ConvDenseSpace(**kwargs)


def test_conv_dense_parameters_round_trip():
    space = ConvDenseSpace()
    rng = np.random.default_rng(0)
    for _ in range(20):
        arch = space.sample(rng)
        params = space.parameters_of(arch)
        assert space.suggest(lambda name, choices, p=params: p[name][1]) == arch
        assert params["n_conv"][1] == len(arch["conv"]) and params["n_dense"][1] == len(arch["dense"])
