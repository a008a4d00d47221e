"""Tests of ChainSpace: validation, counting, sampling, moves, encodings and building."""

from __future__ import annotations

import collections
import itertools
import pickle

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.space._base import Architecture, stable_hash
from nasbook.space._cell import CellSpace
from nasbook.space._chain import ChainSpace


@pytest.fixture(scope="module")
def cnn() -> ChainSpace:
    return ChainSpace()


@pytest.fixture(scope="module")
def mlp() -> ChainSpace:
    return ChainSpace(kind="mlp")


@pytest.fixture(scope="module")
def tiny() -> ChainSpace:
    return ChainSpace(kind="mlp", min_depth=1, max_depth=3, widths=(8, 16), ops=("relu", "tanh"))


def brute_force(space: ChainSpace) -> list[Architecture]:
    out = []
    for depth in range(space.min_depth, space.max_depth + 1):
        for layers in itertools.product(itertools.product(space._ops, space._widths), repeat=depth):
            out.append(space.make(layers=[list(layer) for layer in layers]))
    return out


# -- construction ------------------------------------------------------------------------------
def test_defaults(cnn, mlp):
    assert cnn.name == "chain"
    assert cnn.get_params() == {"kind": "cnn", "min_depth": 1, "max_depth": 4, "widths": None, "ops": None}
    assert cnn.layer_choices[:3] == (("conv3x3", 16), ("conv3x3", 32), ("conv3x3", 64))
    assert len(cnn.layer_choices) == 4 * 3
    assert {op for op, _ in mlp.layer_choices} == {"relu", "gelu", "tanh"}
    assert {w for _, w in mlp.layer_choices} == {32, 64, 128, 256}
    assert cnn.cardinality == mlp.cardinality == 12 + 12**2 + 12**3 + 12**4
    assert cnn != mlp and cnn == ChainSpace() and hash(cnn) == hash(ChainSpace())
    assert ChainSpace(widths=(16, 32, 64)) == ChainSpace()  # spelled-out defaults: the same space


def test_constructor_stores_arguments_verbatim():
    widths = [8, np.int64(16)]
    s = ChainSpace(kind="mlp", min_depth=2, max_depth=2, widths=widths, ops=["tanh"])
    assert s.widths is widths and s.ops == ["tanh"] and s.min_depth == 2
    assert s.cardinality == 2**2
    assert s.make(layers=[["tanh", 16], ["tanh", np.int64(8)]])["layers"] == [["tanh", 16], ["tanh", 8]]


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"kind": "rnn"}, ["kind", "'rnn'", "'cnn'", "'mlp'"]),
        ({"kind": "MLP"}, ["kind", "'MLP'"]),
        ({"min_depth": 0}, ["min_depth", ">= 1", "0"]),
        ({"max_depth": 2.0}, ["max_depth", "2.0"]),
        ({"min_depth": 3, "max_depth": 2}, ["max_depth", "min_depth=3", "got 2"]),
        ({"widths": []}, ["widths", "non-empty", "[]"]),
        ({"widths": 16}, ["widths", "16"]),
        ({"widths": [16, 0]}, ["widths", "positive", "0"]),
        ({"widths": [16, 32.0]}, ["widths", "32.0", "float"]),
        ({"widths": [16, True]}, ["widths", "True"]),
        ({"widths": [16, 16]}, ["widths", "repeat", "[16, 16]"]),
        ({"ops": ["relu"]}, ["op", "'relu'", "'conv3x3'"]),
        ({"kind": "mlp", "ops": ["conv3x3"]}, ["op", "'conv3x3'", "'relu'"]),
        ({"ops": []}, ["ops", "non-empty"]),
        ({"ops": ["conv3x3", "conv3x3"]}, ["ops", "repeat"]),
    ],
)
def test_bad_params(kwargs, fragments):
    with pytest.raises(InvalidParameterError) as info:
        ChainSpace(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


# -- membership ----------------------------------------------------------------------------------
def test_make_round_trip(cnn):
    arch = cnn.make(layers=[["conv3x3", 16], ("maxpool_conv3x3", 64)])
    assert arch["layers"] == [["conv3x3", 16], ["maxpool_conv3x3", 64]]
    assert arch in cnn
    assert cnn.from_dict(arch.to_dict()) == arch
    assert cnn.make(**arch.to_dict()) is arch
    assert arch.id == stable_hash(arch.to_dict())
    assert cnn.make(layers=[["maxpool_conv3x3", 64], ["conv3x3", 16]]) != arch  # order matters
    assert cnn.make(layers=[["conv3x3", 16]]) != arch


def test_hash_eq_and_pickle(cnn):
    a = cnn.make(layers=[["conv3x3", 16]])
    b = cnn.make(layers=(("conv3x3", 16),))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    again = pickle.loads(pickle.dumps(a))
    assert again == a and again in cnn
    s2 = pickle.loads(pickle.dumps(cnn))
    assert s2 == cnn and a in s2 and s2.neighbours(a) == cnn.neighbours(a)


@pytest.mark.parametrize(
    "other", [ChainSpace(kind="mlp"), ChainSpace(max_depth=3), ChainSpace(widths=(16, 32)), CellSpace()], ids=repr
)
def test_architecture_from_another_space_is_rejected(cnn, other):
    arch = cnn.make(layers=[["conv3x3", 16]])
    assert arch not in other
    with pytest.raises(InvalidArchitectureError, match=cnn.space_id):
        other.validate(arch)
    alien = other.sample(np.random.default_rng(0))
    assert alien not in cnn
    with pytest.raises(InvalidArchitectureError):
        cnn.mutate(alien, np.random.default_rng(0))


def test_forged_architectures_are_rejected(cnn):
    good = cnn.make(layers=[["conv3x3", 16]])
    with pytest.raises(InvalidArchitectureError, match="not a chain"):
        cnn.validate(Architecture(cnn.space_id, "bogus", good.to_dict()))
    with pytest.raises(InvalidArchitectureError, match="not a chain"):
        cnn.validate(Architecture(cnn.space_id, good.id, {"layers": [["conv3x3", 17]]}))
    with pytest.raises(InvalidArchitectureError, match="not a chain"):
        cnn.validate(Architecture(cnn.space_id, good.id, {"edges": ["none"]}))
    assert Architecture(cnn.space_id, good.id, good.to_dict()) in cnn


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ({}, ["layers", "no 'layers' field"]),
        ({"layers": [["conv3x3", 16]], "depth": 1}, ["unknown field", "'depth'"]),
        ({"layers": "conv3x3"}, ["layers", "'conv3x3'", "str"]),
        ({"layers": []}, ["1 to 4 layers", "got 0"]),
        ({"layers": [["conv3x3", 16]] * 5}, ["1 to 4 layers", "got 5"]),
        ({"layers": [["conv3x3", 16], "conv3x3"]}, ["layer 1", "[op, width]", "'conv3x3'"]),
        ({"layers": [["conv3x3", 16, 3]]}, ["layer 0", "[op, width]"]),
        ({"layers": [["conv7x7", 16]]}, ["layer 0", "'conv7x7'", "'conv5x5'"]),
        ({"layers": [["conv3x3", 16], ["conv3x3", 24]]}, ["layer 1", "width 24", "[16, 32, 64]"]),
        ({"layers": [["conv3x3", 16.0]]}, ["layer 0", "16.0"]),
        ({"layers": [["conv3x3", True]]}, ["layer 0", "True"]),
        ({"layers": [[16, "conv3x3"]]}, ["layer 0", "op 16"]),
    ],
)
def test_bad_specs(cnn, spec, fragments):
    with pytest.raises(InvalidArchitectureError) as info:
        cnn.make(**spec)
    for fragment in fragments:
        assert fragment in str(info.value)


# -- counting and sampling ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "mlp", "min_depth": 1, "max_depth": 3, "widths": (8, 16), "ops": ("relu", "tanh")},
        {"kind": "cnn", "min_depth": 2, "max_depth": 3, "widths": (4,), "ops": ("conv3x3", "conv1x1", "conv5x5")},
        {"kind": "mlp", "min_depth": 2, "max_depth": 2, "widths": (8,), "ops": ("relu",)},
        {"kind": "mlp", "max_depth": 2},
    ],
    ids=str,
)
def test_cardinality_matches_brute_force(kwargs):
    s = ChainSpace(**kwargs)
    archs = brute_force(s)
    assert s.cardinality == len(archs) == len(set(archs)) == len({a.id for a in archs})


def test_sampling_is_uniform(tiny):
    scipy_stats = pytest.importorskip("scipy.stats")
    ids = sorted(a.id for a in brute_force(tiny))  # 4 + 16 + 64 = 84
    rng = np.random.default_rng(2024)
    counts = collections.Counter(tiny.sample(rng).id for _ in range(30 * len(ids)))
    assert set(counts) == set(ids)
    assert scipy_stats.chisquare([counts[i] for i in ids]).pvalue > 1e-3
    # depth follows the number of chains of each depth, not a uniform depth
    by_depth = collections.Counter(len(tiny.sample(rng)["layers"]) for _ in range(4200))
    assert 120 < by_depth[1] < 300 and 3000 < by_depth[3]


def test_sampling_is_deterministic_and_valid(cnn):
    assert cnn.sample(np.random.default_rng(3)) == cnn.sample(np.random.default_rng(3))
    rng = np.random.default_rng(0)
    draws = [cnn.sample(rng) for _ in range(200)]
    assert all(d in cnn for d in draws)
    assert len(set(draws)) > 180


def test_sampling_huge_space():
    s = ChainSpace(kind="mlp", min_depth=30, max_depth=40)  # 12**40 chains: beyond int64
    assert s.cardinality > 2**64
    rng = np.random.default_rng(0)
    depths = [len(s.sample(rng)["layers"]) for _ in range(50)]
    assert all(30 <= d <= 40 for d in depths) and max(depths) == 40


# -- moves ---------------------------------------------------------------------------------------------------
def test_neighbours_properties(cnn):
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = cnn.sample(rng)
        nbrs = cnn.neighbours(a)
        assert nbrs and a not in nbrs
        assert len(set(nbrs)) == len(nbrs)
        assert all(b in cnn for b in nbrs)
        assert cnn.neighbours(a) == nbrs
        for b in nbrs:
            assert abs(len(b["layers"]) - len(a["layers"])) <= 1
            assert a in cnn.neighbours(b)  # symmetric


def test_neighbours_by_hand(tiny):
    a = tiny.make(layers=[["relu", 8], ["relu", 8]])
    nbrs = [b["layers"] for b in tiny.neighbours(a)]
    expected = [
        [["tanh", 8], ["relu", 8]],
        [["relu", 8], ["tanh", 8]],
        [["relu", 16], ["relu", 8]],
        [["relu", 8], ["relu", 16]],
        [["relu", 8]],  # removing either layer: one neighbour
        # insertions: (relu, 8) anywhere gives one chain
        [["relu", 8], ["relu", 8], ["relu", 8]],
        [["relu", 16], ["relu", 8], ["relu", 8]],
        [["tanh", 8], ["relu", 8], ["relu", 8]],
        [["tanh", 16], ["relu", 8], ["relu", 8]],
        [["relu", 8], ["relu", 16], ["relu", 8]],
        [["relu", 8], ["tanh", 8], ["relu", 8]],
        [["relu", 8], ["tanh", 16], ["relu", 8]],
        [["relu", 8], ["relu", 8], ["relu", 16]],
        [["relu", 8], ["relu", 8], ["tanh", 8]],
        [["relu", 8], ["relu", 8], ["tanh", 16]],
    ]
    assert nbrs == expected
    deepest = tiny.make(layers=[["relu", 8]] * 3)
    assert all(len(b["layers"]) <= 3 for b in tiny.neighbours(deepest))


def test_mutate(cnn):
    rng = np.random.default_rng(0)
    a = cnn.sample(rng)
    for _ in range(200):
        b = cnn.mutate(a, rng)
        assert b != a and b in cnn and b in cnn.neighbours(a)
        a = b
    assert cnn.mutate(a, np.random.default_rng(9)) == cnn.mutate(a, np.random.default_rng(9))
    single = ChainSpace(min_depth=1, max_depth=1, widths=(8,), ops=("conv3x3",))
    with pytest.raises(InvalidArchitectureError, match="no neighbours"):
        single.mutate(single.sample(rng), rng)


# -- encodings ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["adjacency", "path"])
def test_encodings_shape_and_values(cnn, kind):
    rng = np.random.default_rng(0)
    archs = [cnn.sample(rng) for _ in range(100)] + [cnn.make(layers=[["conv3x3", 16]])]
    size = cnn.encoding_size(kind)
    assert size == {"adjacency": 4 * (4 + 3) + 4, "path": 4 * (4 + 3) + 4 * 4}[kind]
    enc = cnn.encode_many(archs, kind)
    assert enc.dtype == np.float32 and enc.shape == (len(archs), size)
    assert np.isfinite(enc).all() and set(np.unique(enc)) <= {0.0, 1.0}
    assert len({row.tobytes() for row in enc}) == len(set(archs))


@pytest.mark.parametrize("kind", ["adjacency", "path"])
def test_encodings_are_injective(tiny, kind):
    archs = brute_force(tiny)
    enc = tiny.encode_many(archs, kind)
    assert len({row.tobytes() for row in enc}) == len(archs)


def test_encodings_by_hand(tiny):
    a = tiny.make(layers=[["tanh", 16], ["relu", 8]])
    # per position: op one-hot (relu, tanh), width one-hot (8, 16); then depth one-hot (1, 2, 3)
    assert tiny.encode(a, "adjacency").tolist() == [0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    # (position, op) x3, (position, width) x3, then transitions (relu|tanh -> relu|tanh)
    assert tiny.encode(a, "path").tolist() == [0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0]


def test_unknown_encoding(cnn):
    with pytest.raises(InvalidParameterError, match="'onehot'"):
        cnn.encode(cnn.sample(np.random.default_rng(0)), "onehot")


# -- building ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 16), (3, 32, 32)])
def test_build_cnn(cnn, torch, shape):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    archs = [cnn.make(layers=[["maxpool_conv3x3", 16]] * 4), cnn.make(layers=[["sepconv3x3", 32], ["conv5x5", 64]])]
    archs += [cnn.sample(rng) for _ in range(3)]
    for arch in archs:
        model = cnn.build(arch, shape, 10)
        y = model(torch.randn(3, *shape))
        assert y.shape == (3, 10)
        y.sum().backward()
        assert all(p.grad is not None for p in model.parameters())


def test_build_cnn_every_op(torch):
    s = ChainSpace(ops=("conv1x1", "conv3x3", "conv5x5", "sepconv3x3", "dilconv3x3", "maxpool_conv3x3"), max_depth=6)
    arch = s.make(layers=[[op, 16] for op in s.ops])
    assert s.build(arch, (1, 8, 8), 3)(torch.randn(2, 1, 8, 8)).shape == (2, 3)


@pytest.mark.parametrize("shape", [(30,), (1, 8, 8)])
def test_build_mlp(mlp, torch, shape):
    rng = np.random.default_rng(0)
    for arch in [mlp.sample(rng) for _ in range(3)]:
        model = mlp.build(arch, shape, 4)
        y = model(torch.randn(5, *shape))
        assert y.shape == (5, 4)
        y.sum().backward()
    s = ChainSpace(kind="mlp", ops=("relu", "gelu", "tanh", "silu", "elu", "sigmoid"), max_depth=6)
    arch = s.make(layers=[[op, 32] for op in s.ops])
    assert s.build(arch, shape, 2)(torch.randn(2, *shape)).shape == (2, 2)


def test_build_parameter_counts(cnn, mlp, torch):
    def n_params(space, layers, shape):
        return sum(p.numel() for p in space.build(space.make(layers=layers), shape, 10).parameters())

    assert n_params(cnn, [["conv3x3", 16]], (1, 8, 8)) == 1 * 16 * 9 + 2 * 16 + 16 * 10 + 10
    assert n_params(cnn, [["conv5x5", 16]], (1, 8, 8)) > n_params(cnn, [["conv3x3", 16]], (1, 8, 8))
    assert n_params(mlp, [["relu", 32]], (30,)) == 30 * 32 + 32 + 32 * 10 + 10
    rng = np.random.default_rng(0)
    assert len({n_params(cnn, cnn.sample(rng)["layers"], (3, 16, 16)) for _ in range(8)}) > 4


def test_build_pickles(cnn, torch):
    model = cnn.build(cnn.make(layers=[["conv3x3", 16], ["maxpool_conv3x3", 32]]), (1, 8, 8), 10).eval()
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(pickle.loads(pickle.dumps(model))(x), model(x))


@pytest.mark.parametrize(
    ("kind", "shape", "n_classes", "fragment"),
    [
        ("cnn", (64,), 10, r"\(64,\)"),
        ("cnn", (1, 8, -8), 10, "input_shape"),
        ("mlp", (), 10, "input_shape"),
        ("mlp", (30.0,), 10, r"\(30.0,\)"),
        ("mlp", (30,), 0, "n_classes"),
        ("cnn", (1, 8, 8), "10", "n_classes"),
    ],
)
def test_build_bad_arguments(kind, shape, n_classes, fragment):
    s = ChainSpace(kind=kind)
    with pytest.raises(InvalidParameterError, match=fragment):
        s.build(s.sample(np.random.default_rng(0)), shape, n_classes)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"max_depth": 10**6}, ["max_depth", "from 1 to 128", "1000000"]),
        ({"min_depth": 200, "max_depth": 300}, ["min_depth", "from 1 to 128", "200"]),
        ({"widths": [16, 10**6]}, ["widths", "up to 65536", "1000000"]),
        ({"widths": list(range(1, 1000))}, ["widths", "at most 256", "999"]),
        ({"widths": "16"}, ["widths", "'16'", "str"]),
    ],
)
def test_absurd_sizes_are_refused_at_once(kwargs, fragments):
    with pytest.raises(InvalidParameterError) as info:
        ChainSpace(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_largest_allowed_sizes_still_work():
    s = ChainSpace(kind="mlp", max_depth=128, widths=(8, 65536))
    arch = s.sample(np.random.default_rng(0))
    assert arch in s and s.cardinality > 2**128 and s.encode(arch).shape == (s.encoding_size(),)
