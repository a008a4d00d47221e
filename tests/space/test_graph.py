import itertools
import pickle

import numpy as np
import pytest
from scipy import stats

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, InvalidParameterTypeError
from nasbook.space import GNN_OPS, LINKS, PROTEINS_OPS, Architecture, GraphSpace
from nasbook.space._graph import RAW_LINKS
from nasbook.tasks import NBG_DATASETS, NasBenchGraph


@pytest.fixture(scope="module")
def space():
    return GraphSpace()


def test_cardinality_matches_the_benchmark_tables(space):
    assert space.cardinality == 26206
    assert GraphSpace(ops=PROTEINS_OPS).cardinality == 2021
    assert len(LINKS) == 9 and len(RAW_LINKS) == 24


@pytest.mark.parametrize("dataset", NBG_DATASETS)
def test_canonical_ids_are_the_benchmark_keys(dataset):
    task = NasBenchGraph(dataset)
    np.testing.assert_array_equal(task.space.keys, task.table.keys)


def test_isomorphic_cells_share_one_id(space):
    # four nodes all reading the input: the order of the ops does not matter
    a = space.make(link=[0, 0, 0, 0], ops=["gcn", "gat", "sage", "fc"])
    b = space.make(link=[0, 0, 0, 0], ops=["fc", "sage", "gat", "gcn"])
    assert a == b and a.id == b.id
    # a non-canonical link pattern maps onto its canonical twin
    c = space.make(link=[0, 0, 0, 2], ops=["gcn", "gat", "sage", "fc"])
    d = space.make(link=[0, 0, 0, 1], ops=["gat", "gcn", "sage", "fc"])
    assert c == d
    assert tuple(c["link"]) in LINKS
    # different computations stay apart
    assert space.make(link=[0, 1, 2, 3], ops=["gcn", "gat", "sage", "fc"]) != space.make(
        link=[0, 1, 2, 3], ops=["gat", "gcn", "sage", "fc"]
    )


def test_every_raw_encoding_canonicalises_into_the_space(space):
    keys = set(space.keys.tolist())
    seen = set()
    for link in RAW_LINKS:
        for ops in itertools.product(GNN_OPS, repeat=4):
            if set(ops) == {"skip"}:
                continue
            arch = space.make(link=list(link), ops=list(ops))
            seen.add(int(arch.id))
            assert space.make(**arch.to_dict()) == arch  # idempotent
    assert seen == keys  # onto: every architecture has a raw encoding


def test_sampling_is_uniform_over_architectures():
    space = GraphSpace(ops=PROTEINS_OPS)
    rng = np.random.default_rng(0)
    n = 40 * space.cardinality
    index = {k: i for i, k in enumerate(space.keys.tolist())}
    counts = np.zeros(space.cardinality)
    for _ in range(n):
        counts[index[int(space.sample(rng).id)]] += 1
    assert stats.chisquare(counts).pvalue > 1e-3
    # whereas raw encodings are not uniform over architectures: some have many encodings
    raw = np.zeros(space.cardinality)
    for link in RAW_LINKS:
        for ops in itertools.product(PROTEINS_OPS, repeat=4):
            if set(ops) != {"skip"}:
                raw[index[int(space.make(link=list(link), ops=list(ops)).id)]] += 1
    assert raw.max() / raw.min() > 10


def test_neighbours_and_mutations(space, rng):
    for _ in range(50):
        arch = space.sample(rng)
        nbrs = space.neighbours(arch)
        ids = [n.id for n in nbrs]
        assert arch.id not in ids and len(ids) == len(set(ids)) and len(ids) > 0
        assert all(n in space for n in nbrs)
        child = space.mutate(arch, rng)
        assert child != arch and child in space
    arch = space.sample(rng)
    assert space.neighbours(arch) == space.neighbours(arch)  # fixed order


def test_adjacency_encoding_is_injective_and_fixed_length(space):
    archs = [space._from_key(int(k)) for k in space.keys]
    adj = space.encode_many(archs, "adjacency")
    assert adj.shape == (26206, space.encoding_size("adjacency")) and adj.dtype == np.float32
    assert len(np.unique(adj, axis=0)) == len(archs)
    path = space.encode_many(archs[:500], "path")
    assert path.shape == (500, space.encoding_size("path")) == (500, 9 + 81 + 729 + 6561)
    # each output leaf contributes exactly one path
    assert set(path.sum(axis=1).tolist()) <= {1.0, 2.0, 3.0, 4.0}


def test_path_encoding_of_a_chain(space):
    arch = space.make(link=[0, 1, 2, 3], ops=["gcn", "gat", "sage", "fc"])
    vec = space.encode(arch, "path")
    assert vec.sum() == 1  # one input -> output path: gcn, gat, sage, fc


def test_architecture_is_immutable_hashable_and_pickles(space):
    arch = space.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    with pytest.raises(AttributeError):
        arch.id = "x"
    spec = arch.spec
    spec["ops"][0] = "fc"  # a copy: the architecture does not change
    assert arch["ops"][0] == "gat"
    assert pickle.loads(pickle.dumps(arch)) == arch
    assert {arch: 1}[space.from_dict(arch.to_dict())] == 1
    assert isinstance(arch, Architecture) and "30174" in repr(arch)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"link": [0, 0, 1], "ops": ["gcn"] * 4}, r"link must be a list of 4 ints"),
        ({"link": [0, 2, 1, 0], "ops": ["gcn"] * 4}, r"link\[1\] must be an int in \[0, 1\].*got 2"),
        ({"link": [0, 0, 1, "a"], "ops": ["gcn"] * 4}, r"link\[3\]"),
        ({"link": [0, 0, 1, 2], "ops": ["gcn", "gat", "sag", "fc"]}, r"ops\[2\].*got 'sag'.*did you mean 'sage'"),
        ({"link": [0, 0, 1, 2], "ops": "gcn"}, r"ops must be a list of 4"),
        ({"link": [0, 0, 1, 2], "ops": ["skip"] * 4}, r"all-'skip'"),
        ({"link": [0, 0, 1, 2], "ops": ["gcn"] * 4, "depth": 3}, r"unexpected \['depth'\]"),
    ],
)
def test_bad_architectures_are_refused_clearly(space, kwargs, match):
    with pytest.raises(InvalidArchitectureError, match=match):
        space.make(**kwargs)


def test_architecture_from_another_space_is_refused(space):
    proteins = GraphSpace(ops=PROTEINS_OPS)
    arch = proteins.make(link=[0, 0, 1, 2], ops=["gcn", "sage", "arma", "fc"])
    with pytest.raises(InvalidArchitectureError, match="belongs to space 'graph-"):
        space.encode(arch)
    with pytest.raises(InvalidArchitectureError, match="expected an Architecture; got 'abc'"):
        space.validate("abc")
    assert arch not in space and arch in proteins


def test_bad_space_parameters():
    with pytest.raises(InvalidParameterError, match=r"GraphSpace\(ops=\.\.\.\).*got 'gcn'"):
        _ = GraphSpace(ops="gcn").cardinality
    with pytest.raises(InvalidParameterError, match=r"did you mean 'gcn'"):
        _ = GraphSpace(ops=["gcm", "gat"]).cardinality
    with pytest.raises(InvalidParameterError, match=r"kind=.*encoding 'onehot'.*'adjacency', 'graf', 'path'"):
        GraphSpace().encoding_size("onehot")


def test_space_identity_depends_on_configuration():
    assert GraphSpace() == GraphSpace(ops=list(GNN_OPS))
    assert GraphSpace() != GraphSpace(ops=PROTEINS_OPS)
    assert GraphSpace().space_id != GraphSpace(ops=PROTEINS_OPS).space_id


@pytest.mark.parametrize(
    ("ops", "error", "fragments"),
    [
        (["gcm", "gat"], InvalidParameterError, ["GraphSpace(ops=...)", "'gcm'", "did you mean 'gcn'", "'sage'"]),
        (["gcn", "gcn"], InvalidParameterError, ["GraphSpace(ops=...)", "repeat", "['gcn', 'gcn']"]),
        ([], InvalidParameterError, ["GraphSpace(ops=...)", "non-empty", "Allowed: 'gat'"]),
        ("gcn", InvalidParameterTypeError, ["GraphSpace(ops=...)", "'gcn' of type str", "Allowed: 'gat'"]),
        (7, InvalidParameterTypeError, ["GraphSpace(ops=...)", "7 of type int", "Allowed: 'gat'"]),
        (["gcn", 3], InvalidParameterTypeError, ["GraphSpace(ops=...)", "3 of type int", "Allowed: 'gat'"]),
        (["skip"], InvalidParameterError, ["GraphSpace(ops=...)", "besides 'skip'", "Allowed: 'gat'"]),
    ],
)
def test_ops_are_checked_in_the_constructor(ops, error, fragments):
    with pytest.raises(error) as info:
        GraphSpace(ops=ops)  # not deferred to the first sample
    for fragment in fragments:
        assert fragment in str(info.value)


def test_validate_refuses_forged_architectures(space):
    arch = space.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    forged = [
        Architecture(space.space_id, arch.id, {"link": [0, 0, 0, 0], "ops": ["fc"] * 4}),  # right id, wrong spec
        Architecture(space.space_id, "12", arch.to_dict()),  # not a key of the space
        Architecture(space.space_id, "030174", arch.to_dict()),  # the key, spelled differently
        Architecture(space.space_id, "x", {"nothing": 1}),
    ]
    for fake in forged:
        assert fake not in space
        with pytest.raises(InvalidArchitectureError, match="not a canonical cell"):
            space.encode(fake)
    rebuilt = Architecture(space.space_id, arch.id, arch.to_dict())  # e.g. unpickled: a copy, not the cached one
    assert space.validate(rebuilt) is rebuilt
    proteins = GraphSpace(ops=PROTEINS_OPS)
    outside = Architecture(proteins.space_id, arch.id, arch.to_dict())  # a key of GraphSpace(), not of proteins
    assert outside not in proteins


def test_from_config_round_trip():
    for space in (GraphSpace(), GraphSpace(ops=["sage", "gcn"])):
        again = GraphSpace.from_config(space.to_config())
        assert again == space and again.ops == space.ops
    with pytest.raises(InvalidParameterError, match="config of a 'CellSpace'"):
        GraphSpace.from_config({"class": "CellSpace", "params": {}})
