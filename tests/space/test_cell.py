"""Tests of CellSpace: canonical forms, counting, sampling, moves, encodings and building."""

from __future__ import annotations

import collections
import itertools
import pickle
import subprocess
import sys

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.space._base import Architecture, stable_hash
from nasbook.space._cell import NB201_OPS, CellSpace
from nasbook.space._chain import ChainSpace

C1, C3, SK, AP, NO = "nor_conv_1x1", "nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none"
SMALL_OPS = (NO, SK, C3)


@pytest.fixture(scope="module")
def space() -> CellSpace:
    return CellSpace()


@pytest.fixture(scope="module")
def small() -> CellSpace:
    return CellSpace(ops=SMALL_OPS)


def brute_force(space: CellSpace) -> dict[str, Architecture]:
    """Every member, by canonicalizing every raw spec."""
    out = {}
    for raw in itertools.product(space.ops, repeat=space.n_edges):
        try:
            arch = space.make(edges=list(raw))
        except InvalidArchitectureError:
            continue
        out[arch.id] = arch
    return out


def has_path(space: CellSpace, edges: list[str]) -> bool:
    """Independent reachability check: is the output reachable from the input?"""
    reach = {0}
    for (i, j), op in sorted(zip(space.edges, edges), key=lambda t: t[0]):
        if op != NO and i in reach:
            reach.add(j)
    return space.n_nodes - 1 in reach


# -- construction ------------------------------------------------------------------------------
def test_defaults_and_params(space):
    assert space.name == "cell"
    assert space.get_params() == {"n_nodes": 4, "ops": NB201_OPS, "channels": 16, "n_cells": 3, "n_stages": 3}
    assert space.n_edges == 6
    assert space.edges == ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    assert space == CellSpace() and hash(space) == hash(CellSpace())
    assert space != CellSpace(ops=SMALL_OPS)
    assert space.space_id.startswith("cell-")


def test_constructor_stores_arguments_verbatim():
    ops = [NO, C3]
    s = CellSpace(n_nodes=3, ops=ops, channels=8, n_cells=2, n_stages=2)
    assert s.ops is ops and s.n_nodes == 3 and s.channels == 8 and s.n_cells == 2 and s.n_stages == 2
    assert CellSpace(ops=list(NB201_OPS)) == CellSpace()  # same space whether a list or a tuple


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"n_nodes": 1}, ["n_nodes", ">= 2", "1"]),
        ({"n_nodes": 7}, ["n_nodes", "2 to 6", "7"]),
        ({"n_nodes": "4"}, ["n_nodes", "an int", "'4'"]),
        ({"n_nodes": True}, ["n_nodes", "True"]),
        ({"ops": []}, ["ops", "non-empty", "[]"]),
        ({"ops": "none"}, ["ops", "'none'"]),
        ({"ops": [NO, "conv"]}, ["op", "'conv'", "nor_conv_3x3"]),
        ({"ops": [NO, C3, C3]}, ["ops", "repeat"]),
        ({"ops": [NO]}, ["ops", "other than 'none'", "['none']"]),
        ({"channels": 0}, ["channels", ">= 1", "0"]),
        ({"n_cells": 2.5}, ["n_cells", "2.5"]),
        ({"n_stages": 0}, ["n_stages", "0"]),
        ({"n_cells": 2, "n_stages": 3}, ["n_stages", "n_cells=2", "3"]),
    ],
)
def test_bad_params(kwargs, fragments):
    with pytest.raises(InvalidParameterError) as info:
        CellSpace(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_unknown_op_suggests_a_name():
    with pytest.raises(InvalidParameterError, match="did you mean 'nor_conv_3x3'"):
        CellSpace(ops=[NO, "nor_conv3x3"])


def test_import_does_not_import_torch():
    code = "import sys, nasbook.space._cell, nasbook.space._chain; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- membership and canonical form ------------------------------------------------------------------
def test_make_round_trip(space):
    edges = [C3, C1, NO, SK, AP, C3]  # every edge on a path: already canonical up to relabelling
    arch = space.make(edges=edges)
    assert arch in space
    assert space.from_dict(arch.to_dict()) == arch
    assert space.make(**arch.to_dict()) == arch
    assert arch.id == stable_hash(arch.to_dict())
    assert arch.to_dict() == {"edges": arch["edges"]}
    assert space.make(edges=tuple(edges)) == arch


def test_swapping_intermediate_nodes_gives_one_id(space):
    # 0-c3->1-sk->3 and 0-c1->2-ap->3, edge 1->2 absent: nodes 1 and 2 can trade labels
    a = space.make(edges=[C3, C1, NO, NO, SK, AP])
    b = space.make(edges=[C1, C3, NO, NO, AP, SK])
    assert a == b and a.id == b.id and hash(a) == hash(b)
    # the canonical spec is the smaller of the two, comparing op names
    assert a["edges"] == min([C3, C1, NO, NO, SK, AP], [C1, C3, NO, NO, AP, SK])
    # a cell using one intermediate node: which one it uses does not matter either
    assert space.make(edges=[C3, NO, NO, NO, SK, NO]) == space.make(edges=[NO, C3, NO, NO, NO, SK])


def test_edge_between_intermediate_nodes_fixes_their_order(space):
    # 0->1->2->3 is a chain: reversing the ops along it is another cell
    a = space.make(edges=[C3, NO, NO, C1, NO, SK])
    b = space.make(edges=[SK, NO, NO, C1, NO, C3])
    assert a != b


def test_dead_branches_are_irrelevant(space):
    only_skip = space.make(edges=[NO, NO, SK, NO, NO, NO])
    assert only_skip["edges"] == [NO, NO, SK, NO, NO, NO]
    # node 1 is reached but never reaches the output: its in-edge op does not matter
    assert space.make(edges=[C3, NO, SK, NO, NO, NO]) == only_skip
    assert space.make(edges=[AP, NO, SK, NO, NO, NO]) == only_skip
    # node 1 reaches the output but is never reached: its out-edge op does not matter
    assert space.make(edges=[NO, NO, SK, NO, C3, NO]) == only_skip
    # a dead two-edge branch 0->1->2 (2 never reaches 3)
    assert space.make(edges=[C1, NO, SK, C3, NO, NO]) == only_skip
    # ... and the canonical spec has "none" there
    assert space.make(edges=[C1, NO, SK, C3, NO, NO])["edges"] == [NO, NO, SK, NO, NO, NO]


def test_live_ops_are_not_merged(space):
    a = space.make(edges=[NO, NO, C3, NO, NO, NO])
    assert a != space.make(edges=[NO, NO, C1, NO, NO, NO])
    # skip_connect is an edge like any other: 0-sk->1-c3->3 is not 0-c3->3
    assert space.make(edges=[SK, NO, NO, NO, C3, NO]) != a
    # parallel paths with the same op are two sets of weights
    assert space.make(edges=[C3, NO, C3, NO, SK, NO]) != space.make(edges=[C3, NO, NO, NO, SK, NO])


def test_canonicalization_is_idempotent_everywhere(small):
    for arch in brute_force(small).values():
        assert small.make(**arch.to_dict()) is arch
        edges = arch["edges"]
        assert has_path(small, edges)


def test_hash_eq_and_pickle(space):
    a = space.make(edges=[C3, C1, NO, NO, SK, AP])
    b = space.make(edges=[C1, C3, NO, NO, AP, SK])
    c = space.make(edges=[NO, NO, C3, NO, NO, NO])
    assert len({a, b, c}) == 2
    assert {a: 1}[b] == 1
    again = pickle.loads(pickle.dumps(a))
    assert again == a and again.to_dict() == a.to_dict() and again in space
    s2 = pickle.loads(pickle.dumps(space))
    assert s2 == space and a in s2 and s2.cardinality == space.cardinality


@pytest.mark.parametrize(
    "other", [CellSpace(ops=SMALL_OPS), CellSpace(n_nodes=3), ChainSpace(), ChainSpace(kind="mlp")], ids=repr
)
def test_architecture_from_another_space_is_rejected(space, other):
    arch = space.make(edges=[NO, NO, SK, NO, NO, NO])
    assert arch not in other
    with pytest.raises(InvalidArchitectureError, match=space.space_id):
        other.validate(arch)
    alien = other.sample(np.random.default_rng(0))
    assert alien not in space
    with pytest.raises(InvalidArchitectureError):
        space.neighbours(alien)
    with pytest.raises(InvalidArchitectureError):
        space.encode(alien)


def test_forged_architectures_are_rejected(space):
    good = space.make(edges=[C3, C1, NO, NO, SK, AP])
    with pytest.raises(InvalidArchitectureError, match="not a canonical cell"):
        space.validate(Architecture(space.space_id, "bogus", good.to_dict()))
    # right id, spec not canonical (the swapped twin)
    twin = [C3, C1, NO, NO, SK, AP]
    assert good["edges"] == [C1, C3, NO, NO, AP, SK] != twin
    with pytest.raises(InvalidArchitectureError, match="not a canonical cell"):
        space.validate(Architecture(space.space_id, good.id, {"edges": twin}))
    with pytest.raises(InvalidArchitectureError, match="not a canonical cell"):
        space.validate(Architecture(space.space_id, "x", {"layers": [["relu", 3]]}))
    with pytest.raises(InvalidArchitectureError, match="not a canonical cell"):
        space.validate(Architecture(space.space_id, "x", {"edges": [[C3]] * 6}))
    with pytest.raises(InvalidArchitectureError, match="expected an Architecture"):
        space.validate({"edges": good["edges"]})
    # an architecture rebuilt by hand with the right id and spec is accepted
    assert Architecture(space.space_id, good.id, good.to_dict()) in space


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ({}, ["edges", "no 'edges' field"]),
        ({"edges": [SK] * 6, "ops": [SK]}, ["unknown field", "'ops'"]),
        ({"edges": "skip_connect"}, ["edges", "list of 6", "'skip_connect'"]),
        ({"edges": [SK] * 5}, ["edges", "6 ops", "got 5"]),
        ({"edges": [SK, SK, "conv", SK, SK, SK]}, ["edge 2", "(0, 3)", "'conv'", "'nor_conv_3x3'"]),
        ({"edges": [SK, SK, SK, SK, SK, 3]}, ["edge 5", "3"]),
        ({"edges": [SK, SK, NO, NO, NO, NO]}, ["no path", "node 3", "'none'"]),
        ({"edges": [NO] * 6}, ["no path"]),
    ],
)
def test_bad_specs(space, spec, fragments):
    with pytest.raises(InvalidArchitectureError) as info:
        space.make(**spec)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_op_outside_this_space_is_rejected():
    with pytest.raises(InvalidArchitectureError, match="'nor_conv_1x1'"):
        CellSpace(ops=SMALL_OPS).make(edges=[C1, SK, SK, SK, SK, SK])


def test_from_dict_needs_a_mapping(space):
    with pytest.raises(InvalidArchitectureError, match="mapping"):
        space.from_dict([C3] * 6)


# -- NAS-Bench-201 strings --------------------------------------------------------------------------
def test_nb201_strings(space):
    text = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    arch = space.from_string(text)
    # (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    assert arch == space.make(edges=[C3, C1, SK, AP, NO, C3])
    assert space.to_string(arch) == text  # already canonical
    assert space.from_string(space.to_string(arch)) == arch
    rng = np.random.default_rng(1)
    for _ in range(50):
        a = space.sample(rng)
        assert space.from_string(space.to_string(a)) == a
    # a non-canonical string parses to the canonical cell
    twin = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|avg_pool_3x3~1|skip_connect~2|"
    assert space.from_string(twin) == space.make(edges=[C3, C1, NO, NO, SK, AP])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("|none~0|+|none~0|none~1|", "expected 3"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2"),
        ("|none~0|+|none~0|none~2|+|skip_connect~0|none~1|none~2|", "'op~1'"),
        ("|nonsense~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", "'nonsense'"),
        (3, "string"),
    ],
)
def test_bad_nb201_strings(space, text, fragment):
    with pytest.raises(InvalidArchitectureError, match=fragment):
        space.from_string(text)


# -- counting ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_nodes": 2, "ops": (NO, C3)},
        {"n_nodes": 2, "ops": (SK, C3, C1)},
        {"n_nodes": 3},
        {"n_nodes": 3, "ops": (NO, C3)},
        {"n_nodes": 3, "ops": (SK, C3)},
        {"n_nodes": 4},
        {"n_nodes": 4, "ops": SMALL_OPS},
        {"n_nodes": 4, "ops": (C3, NO)},
        {"n_nodes": 4, "ops": (SK, C3, C1)},
        {"n_nodes": 5, "ops": (NO, C3)},
        {"n_nodes": 5, "ops": SMALL_OPS},
    ],
    ids=str,
)
def test_cardinality_matches_brute_force(kwargs):
    s = CellSpace(**kwargs)
    members = brute_force(s)
    assert s.cardinality == len(members)
    # and every raw spec with a path is accepted, every other rejected
    assert all(has_path(s, a["edges"]) for a in members.values())


def test_known_cardinalities():
    assert CellSpace().cardinality == 8764  # of NAS-Bench-201's 15625 raw cells
    assert CellSpace(ops=(SK, C3, C1, AP)).cardinality == 4**6  # no "none": nothing to merge
    assert CellSpace(n_nodes=2).cardinality == 4
    assert CellSpace(n_nodes=3, ops=(NO, C3)).cardinality == 3  # 0->2, 0->1->2, both
    assert isinstance(CellSpace(n_nodes=6).cardinality, int)


# -- sampling ------------------------------------------------------------------------------------------
def test_sampling_is_uniform_over_canonical_cells(small):
    scipy_stats = pytest.importorskip("scipy.stats")
    members = brute_force(small)
    rng = np.random.default_rng(12345)
    n = 20 * len(members)
    counts = collections.Counter(small.sample(rng).id for _ in range(n))
    assert set(counts) == set(members)
    observed = [counts[i] for i in sorted(members)]
    assert scipy_stats.chisquare(observed).pvalue > 1e-3


def test_uniform_raw_specs_would_fail_the_uniformity_test(small):
    # the test above has teeth: drawing raw specs (then canonicalizing) is far from uniform
    scipy_stats = pytest.importorskip("scipy.stats")
    members = brute_force(small)
    rng = np.random.default_rng(12345)
    counts: collections.Counter[str] = collections.Counter()
    while sum(counts.values()) < 20 * len(members):
        raw = [small.ops[k] for k in rng.integers(len(small.ops), size=small.n_edges)]
        if has_path(small, raw):
            counts[small.make(edges=raw).id] += 1
    observed = [counts[i] for i in sorted(members)]
    assert scipy_stats.chisquare(observed).pvalue < 1e-6


def test_sampling_tiny_space_is_uniform():
    s = CellSpace(n_nodes=3, ops=(NO, C3))  # 3 cells from 8 raw specs (2 of them for the full one)
    rng = np.random.default_rng(0)
    counts = collections.Counter(s.sample(rng).id for _ in range(3000))
    assert len(counts) == 3
    assert all(900 < c < 1100 for c in counts.values())


def test_sampling_is_deterministic_and_valid(space):
    a = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(3)
    draws = [space.sample(rng) for _ in range(300)]
    assert all(d in space for d in draws)
    assert len(set(draws)) > 250


def test_sampling_large_space():
    s = CellSpace(n_nodes=5)
    rng = np.random.default_rng(0)
    draws = [s.sample(rng) for _ in range(200)]
    assert all(d in s and s.make(**d.to_dict()) == d for d in draws)
    assert len(set(draws)) == 200


# -- moves ----------------------------------------------------------------------------------------------
def test_neighbours_properties(space):
    rng = np.random.default_rng(0)
    for _ in range(40):
        a = space.sample(rng)
        nbrs = space.neighbours(a)
        assert nbrs, a
        assert a not in nbrs
        assert len(set(nbrs)) == len(nbrs)
        assert all(b in space for b in nbrs)
        assert space.neighbours(a) == nbrs  # fixed order
        n_live = sum(op != NO for op in a["edges"])
        for b in nbrs:
            # one op differs... up to pruning: b never gains more than one live edge
            assert sum(op != NO for op in b["edges"]) <= n_live + 1
            # symmetric unless removing one edge also pruned others
            if sum(op != NO for op in b["edges"]) >= n_live - 1:
                assert a in space.neighbours(b)


def test_neighbours_are_symmetric_without_none():
    s = CellSpace(ops=(SK, C3, AP))
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = s.sample(rng)
        nbrs = s.neighbours(a)
        assert len(nbrs) == 6 * 2  # no merging at all: every edit is a new cell
        assert all(a in s.neighbours(b) for b in nbrs)


def test_neighbours_by_hand(space):
    a = space.make(edges=[NO, NO, C3, NO, NO, NO])
    nbrs = space.neighbours(a)
    # other ops on 0->3 (3), plus nothing else: any single new edge is a dead branch
    assert [b["edges"][2] for b in nbrs] == [SK, C1, AP]
    assert all(b["edges"].count(NO) == 5 for b in nbrs)
    b = space.make(edges=[C3, NO, SK, NO, SK, NO])  # 0-c3->1-sk->3 and 0-sk->3
    nbrs_b = space.neighbours(b)
    assert a not in nbrs_b  # two edits away
    assert space.make(edges=[NO, NO, SK, NO, NO, NO]) in nbrs_b  # 0->1 removed: 1->3 pruned with it
    assert space.make(edges=[C3, NO, NO, NO, SK, NO]) in nbrs_b  # 0->3 removed


def test_mutate(space):
    rng = np.random.default_rng(0)
    a = space.sample(rng)
    for _ in range(200):
        b = space.mutate(a, rng)
        assert b != a and b in space and b in space.neighbours(a)
        a = b
    x, y = np.random.default_rng(5), np.random.default_rng(5)
    assert space.mutate(a, x) == space.mutate(a, y)


def test_mutate_without_neighbours():
    s = CellSpace(n_nodes=3, ops=(NO, C3))
    lone = s.make(edges=[NO, C3, NO])  # 0->2; adding 0->1 or 1->2 alone is pruned away
    assert s.neighbours(lone) == []
    rng = np.random.default_rng(0)
    assert all(s.mutate(lone, rng) not in (lone,) for _ in range(20))
    single = CellSpace(n_nodes=2, ops=(NO, C3))
    with pytest.raises(InvalidArchitectureError, match="no neighbours"):
        single.mutate(single.sample(rng), rng)


# -- encodings --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["adjacency", "path"])
def test_encodings_shape_and_values(space, kind):
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(100)]
    size = space.encoding_size(kind)
    assert size == {"adjacency": 6 + 6 * 5, "path": 4 + 16 + 64}[kind]
    for a in archs:
        v = space.encode(a, kind)
        assert v.dtype == np.float32 and v.shape == (size,)
        assert np.isfinite(v).all() and set(np.unique(v)) <= {0.0, 1.0} and v.sum() >= 1
    many = space.encode_many(archs, kind)
    assert many.shape == (100, size)
    assert len({row.tobytes() for row in many}) > 0.5 * len(set(archs))


def test_adjacency_encoding_is_injective(small):
    archs = list(brute_force(small).values())
    enc = small.encode_many(archs, "adjacency")
    assert len({row.tobytes() for row in enc}) == len(archs)


def test_equivalent_specs_encode_identically(space):
    for kind in ("adjacency", "path"):
        a = space.encode(space.make(edges=[C3, C1, NO, NO, SK, AP]), kind)
        b = space.encode(space.make(edges=[C1, C3, NO, NO, AP, SK]), kind)
        c = space.encode(space.make(edges=[C1, C3, C3, NO, AP, SK]), kind)
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        d = space.encode(space.make(edges=[C3, NO, SK, C1, NO, NO]), kind)
        e = space.encode(space.make(edges=[NO, NO, SK, NO, AP, NO]), kind)
        assert np.array_equal(d, e)


def test_path_encoding_by_hand(space):
    # paths: (c3, sk) via node 1, (c1,) direct
    v = space.encode(space.make(edges=[C3, NO, C1, NO, SK, NO]), "path")
    live = [SK, C1, C3, AP]  # ops without "none", in order
    m = len(live)
    expected = {live.index(C1), m + live.index(C3) * m + live.index(SK)}
    assert set(np.flatnonzero(v)) == expected
    # the adjacency encoding: edge bits then one op one-hot per edge, of the canonical spec
    arch = space.make(edges=[C3, NO, C1, NO, SK, NO])
    assert arch["edges"] == [NO, C3, C1, NO, NO, SK]  # node 1 relabelled 2: "none" < "nor_conv_3x3"
    adj = space.encode(arch, "adjacency")
    assert adj[:6].tolist() == [0, 1, 1, 0, 0, 1]
    assert adj[6:].reshape(6, 5).argmax(axis=1).tolist() == [0, 3, 2, 0, 0, 1]  # indices in NB201_OPS


def test_unknown_encoding(space):
    with pytest.raises(InvalidParameterError, match="'graph'"):
        space.encode(space.sample(np.random.default_rng(0)), "graph")


# -- building ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize(("shape", "n_classes"), [((1, 8, 8), 10), ((3, 16, 16), 4), ((3, 32, 32), 10), ((2, 1, 1), 3)])
def test_build_forward_and_backward(space, torch, shape, n_classes):
    torch.manual_seed(0)
    arch = space.make(edges=[C3, C1, SK, AP, NO, C3])
    model = space.build(arch, shape, n_classes)
    x = torch.randn(5, *shape)
    y = model(x)
    assert y.shape == (5, n_classes)
    y.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


def test_build_parameter_counts_vary_and_none_edges_are_not_built(space, torch):
    def n_params(edges):
        return sum(p.numel() for p in space.build(space.make(edges=edges), (1, 8, 8), 10).parameters())

    pools = n_params([NO, NO, AP, NO, NO, NO])
    assert n_params([NO, NO, C1, NO, NO, NO]) > pools
    assert n_params([NO, NO, C3, NO, NO, NO]) > n_params([NO, NO, C1, NO, NO, NO])
    # a dead conv branch is pruned before building: no weights for it
    assert n_params([C3, NO, AP, NO, NO, NO]) == pools
    rng = np.random.default_rng(0)
    counts = {n_params(space.sample(rng)["edges"]) for _ in range(10)}
    assert len(counts) > 3


def test_build_stages_and_pickle(space, torch):
    arch = space.make(edges=[C3, C1, SK, AP, NO, C3])
    s = CellSpace(channels=4, n_cells=5, n_stages=2)
    model = s.build(s.make(**arch.to_dict()), (3, 9, 9), 2)
    cells = [m for m in model.modules() if type(m).__name__ == "Cell"]
    assert len(cells) == 5
    assert model(torch.randn(2, 3, 9, 9)).shape == (2, 2)
    model.eval()
    again = pickle.loads(pickle.dumps(model))
    x = torch.randn(2, 3, 9, 9)
    assert torch.equal(model(x), again(x))


@pytest.mark.parametrize(
    ("shape", "n_classes", "fragment"),
    [
        ((64,), 10, "input_shape"),  # (channels, length) builds a 1-D network
        ((1, 0, 8), 10, "(1, 0, 8)"),
        ("abc", 10, "input_shape"),
        ((1, 8, 8), 0, "n_classes"),
    ],
)
def test_build_bad_arguments(space, shape, n_classes, fragment):
    with pytest.raises(InvalidParameterError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        space.build(space.sample(np.random.default_rng(0)), shape, n_classes)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"channels": 10**6}, ["channels", "from 1 to 65536", "1000000"]),
        ({"n_cells": 10**6}, ["n_cells", "from 1 to 64", "1000000"]),
        ({"n_cells": 40, "n_stages": 20}, ["n_stages", "at most 13", "channels=16", "got n_stages=20"]),
        ({"channels": 2**15, "n_stages": 3, "n_cells": 3}, ["n_stages", "at most 2", "channels=32768"]),
    ],
)
def test_absurd_sizes_are_refused_at_once(kwargs, fragments):
    with pytest.raises(InvalidParameterError) as info:
        CellSpace(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_importing_the_space_package_does_not_import_torch():
    code = (
        "import sys, numpy as np, nasbook.space as s; "
        "c = s.CellSpace(); c.encode(c.sample(np.random.default_rng(0))); "
        "m = s.ChainSpace(); m.neighbours(m.sample(np.random.default_rng(0))); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_built_networks_pickle_by_reference(space, torch):
    model = space.build(space.sample(np.random.default_rng(0)), (1, 8, 8), 10)
    assert type(model).__module__ == "nasbook.space._torch" and type(model).__qualname__ == "CellNetwork"
