"""The encoding API of spaces: declared kinds, GRAF graph features ("graf"), names, versions, enumeration."""

import itertools

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NotEnumerableError
from nasbook.space import (
    ENCODINGS,
    GNN_OPS,
    LINKS,
    PROTEINS_OPS,
    Architecture,
    CellSpace,
    ChainSpace,
    GraphSpace,
    SearchSpace,
    SubsetSpace,
    stable_hash,
)
from nasbook.space import _cell_features as cell_features
from nasbook.space._cell_graph import prune
from nasbook.space._chain_features import size_estimate
from nasbook.space._graph import RAW_LINKS
from nasbook.space._graph_features import graph_features

C1, C3, SK, AP, NO = "nor_conv_1x1", "nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none"


@pytest.fixture(scope="module")
def graph():
    return GraphSpace()


def _spaces():
    cell = CellSpace()
    rng = np.random.default_rng(0)
    return {
        "graph": GraphSpace(),
        "graph-proteins": GraphSpace(ops=PROTEINS_OPS),
        "cell": cell,
        "cell-5-nodes-7-ops": CellSpace(n_nodes=5, ops=(NO, SK, C1, C3, "nor_conv_5x5", AP, "max_pool_3x3")),
        "chain-cnn": ChainSpace(ops=("conv1x1", "conv3x3", "sepconv3x3", "dilconv3x3", "maxpool_conv3x3")),
        "chain-mlp": ChainSpace(kind="mlp", max_depth=6),
        "subset": SubsetSpace(cell, list({a.id: a for a in (cell.sample(rng) for _ in range(40))}.values())),
    }


SPACES = _spaces()


class Plain(SearchSpace):
    """A third-party space with the default encodings only: integers 0..n-1."""

    name = "plain"

    def __init__(self, n=5, claim=None):
        self.n = n
        self.claim = claim

    def make(self, **spec):
        return Architecture(self.space_id, str(int(spec["k"])), {"k": int(spec["k"])})

    @property
    def cardinality(self):
        return self.n if self.claim is None else self.claim

    def sample(self, rng):
        return self.make(k=int(rng.integers(self.n)))

    def neighbours(self, arch):
        k = arch["k"]
        return [self.make(k=j) for j in (k - 1, k + 1) if 0 <= j < self.n]

    def _encode(self, arch, kind):
        return np.array([arch["k"], arch["k"] ** 2], dtype=np.float32)

    def _encoding_size(self, kind):
        return 2


# -- the declared encodings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SPACES))
def test_built_in_spaces_declare_graf(name):
    space = SPACES[name]
    assert space.encodings == ("adjacency", "path", "graf")
    assert set(ENCODINGS) <= set(space.encodings)
    assert Plain().encodings == ("adjacency", "path")


@pytest.mark.parametrize("name", sorted(SPACES))
def test_graf_vectors_have_the_declared_length_and_are_finite_and_deterministic(name):
    space = SPACES[name]
    size = space.encoding_size("graf")
    archs = [space.sample(np.random.default_rng(s)) for s in range(40)]
    many = space.encode_many(archs, "graf")
    assert many.shape == (40, size) and many.dtype == np.float32 and np.isfinite(many).all()
    fresh = type(space).from_config(space.to_config())
    again = fresh.encode_many([fresh.from_dict(a.to_dict()) for a in archs], "graf")
    np.testing.assert_array_equal(many, again)
    for arch, row in zip(archs, many):
        np.testing.assert_array_equal(space.encode(arch, "graf"), row)
    assert len({r.tobytes() for r in many}) > 20  # different architectures mostly differ
    names = space.feature_names("graf")
    assert len(names) == size == len(set(names)) and all(isinstance(n, str) for n in names)
    for kind in space.encodings:
        assert len(space.feature_names(kind)) == space.encoding_size(kind)


def test_encode_returns_a_copy_of_the_cached_vector(graph):
    arch = graph.sample(np.random.default_rng(0))
    vec = graph.encode(arch, "graf")
    vec[:] = -1.0
    assert (graph.encode(arch, "graf") >= 0).all()
    assert (graph.encode_many([arch], "graf") >= 0).all()


# -- GraphSpace ---------------------------------------------------------------------------------------------
def test_graph_graf_of_every_architecture(graph):
    archs = graph.enumerate()
    graf = graph.encode_many(archs, "graf")
    assert graf.shape == (26206, graph.encoding_size("graf")) and np.isfinite(graf).all()
    distinct = len({r.tobytes() for r in graf})
    assert distinct > 25_000, distinct  # 25,786: only a few cells share every feature
    names = graph.feature_names("graf")
    count = graf[:, [names.index(f"count[{o}]") for o in GNN_OPS]]
    assert (count.sum(axis=1) == 4).all()
    assert (graf[:, names.index("n_paths[all]")] == graf[:, names.index("n_outputs")]).all()


def test_graph_graf_by_hand(graph):
    # node 1 = gcn(input), node 2 = gat(input), node 3 = sage(node 1), node 4 = fc(node 2): two branches
    arch = graph.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    got = dict(zip(graph.feature_names("graf"), graph.encode(arch, "graf").tolist()))
    expected = {
        "count[gcn]": 1, "count[fc]": 1, "count[skip]": 0,
        "min_path[mp]": 2, "max_path[mp]": 2, "n_paths[mp]": 1,  # gcn -> sage; gat -> fc has an fc
        "n_paths[no_skip]": 2, "n_paths[all]": 2, "n_paths[gcn]": 0,
        "min_hops[mp]": 1, "max_hops[mp]": 2, "mean_hops[mp]": 1.5, "max_hops[fc]": 1,
        "out_degree_mean[gcn]": 1, "output_count[sage]": 1, "output_count[fc]": 1, "output_count[gcn]": 0,
        "input_count[gat]": 1, "level_count[sage@2]": 1, "level_count[gcn@1]": 1,
        "n_outputs": 2, "depth": 2, "input_out_degree": 2, "link_pattern[3]": 1, "link_pattern[0]": 0,
    }
    assert {k: got[k] for k in expected} == expected
    # a chain of one op: the only subsets with a path are the op's own and the groups holding it
    chain = dict(zip(graph.feature_names("graf"), graph.encode(graph.make(link=[0, 1, 2, 3], ops=["gin"] * 4), "graf")))
    assert chain["min_path[gin]"] == chain["max_path[gin]"] == 4 and chain["n_paths[gin]"] == 1
    assert chain["n_paths[gcn]"] == 0 and chain["min_path[gcn]"] == 0


def test_graph_graf_is_invariant_to_relabelling(graph):
    # raw (link, ops) pairs in any node order give the features of their canonical architecture.
    # (Without 'skip': NAS-Bench-Graph's canonical form also moves skip nodes, e.g. a skip leaf on the
    # input becomes a skip node the others read; the features describe the canonical cell.)
    rng = np.random.default_rng(1)
    links, ops, expected = [], [], []
    for link in RAW_LINKS:
        for _ in range(20):
            combo = [GNN_OPS[int(i)] for i in rng.integers(len(GNN_OPS) - 1, size=4)]
            assert "skip" not in combo
            links.append(link)
            ops.append([GNN_OPS.index(o) for o in combo])
            expected.append(graph.encode(graph.make(link=list(link), ops=combo), "graf"))
    names, raw = graph_features(np.array(links), np.array(ops), GNN_OPS, LINKS)
    assert names == graph.feature_names("graf")
    pattern_cols = [k for k, n in enumerate(names) if n.startswith("link_pattern")]
    keep = [k for k in range(len(names)) if k not in pattern_cols]  # raw links are not canonical patterns
    np.testing.assert_array_equal(raw[:, keep], np.stack(expected)[:, keep])


def test_graph_graf_on_fewer_ops_drops_empty_groups():
    space = GraphSpace(ops=("gcn", "gat", "skip"))
    names = space.feature_names("graf")
    assert "count[fc]" not in names and "min_hops[fc]" not in names and "min_hops[skip]" in names
    assert len(names) == space.encoding_size("graf") < GraphSpace().encoding_size("graf")


# -- CellSpace ----------------------------------------------------------------------------------------------
def test_cell_graf_by_hand():
    space = CellSpace()
    # 0 -conv3-> 2 -skip-> 3 (canonical form of the same chain through node 1)
    arch = space.make(edges=[C3, NO, NO, NO, SK, NO])
    got = dict(zip(space.feature_names("graf"), space.encode(arch, "graf").tolist()))
    expected = {
        f"count[{C3}]": 1, f"count[{SK}]": 1, f"count[{AP}]": 0,
        f"n_paths[{C3}]": 0, f"n_paths[{SK}+{C3}]": 1, f"min_path[{SK}+{C3}]": 2, f"max_path[{SK}+{C3}]": 2,
        "min_hops[conv]": 1, "max_hops[skip]": 1, "max_hops[pool]": 0,
        f"input_out_degree[{C3}]": 1, f"output_in_degree[{SK}]": 1, f"in_degree_mean[{C3}]": 1,
        "depth": 2, "n_edges": 2, "n_nodes_used": 1,
    }
    assert {k: got[k] for k in expected} == expected
    # two parallel paths of different length
    wide = dict(zip(space.feature_names("graf"), space.encode(space.make(edges=[C1, NO, C3, NO, C1, NO]), "graf")))
    assert wide[f"n_paths[{C1}+{C3}]"] == 2 and wide[f"min_path[{C1}+{C3}]"] == 1 and wide[f"max_path[{C1}+{C3}]"] == 2
    assert wide[f"n_paths[{C1}]"] == 1 and wide[f"min_path[{C1}]"] == 2


def test_cell_graf_subsets():
    nb201 = CellSpace()
    assert len(cell_features.op_subsets(nb201._live_ops)) == 15  # every non-empty subset of four ops, as GRAF
    big = CellSpace(ops=(NO, SK, C1, C3, "nor_conv_5x5", AP, "max_pool_3x3"))
    names = [n for n, _ in cell_features.op_subsets(big._live_ops)]
    assert names == [SK, C1, C3, "nor_conv_5x5", AP, "max_pool_3x3", "conv", "pool", "no_skip", "no_pool", "all"]


def test_cell_graf_is_invariant_to_relabelling():
    # the features of a pruned raw cell in any node order are those of its canonical form
    space = CellSpace(n_nodes=5)
    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(300):
        raw = tuple(space._ops[int(i)] for i in rng.integers(len(space._ops), size=space.n_edges))
        pruned = prune(raw, space.n_nodes, space.edges)
        if pruned is None:
            continue
        direct = cell_features.graf(pruned, space.n_nodes, space.edges, space._live_ops)
        np.testing.assert_array_equal(direct, space.encode(space.make(edges=list(raw)), "graf"))
        checked += 1
    assert checked > 100


def test_cell_graf_tells_most_cells_apart():
    space = CellSpace()
    graf = space.encode_many(space.enumerate(), "graf")
    assert len({r.tobytes() for r in graf}) > 0.95 * space.cardinality


# -- ChainSpace ---------------------------------------------------------------------------------------------
def test_chain_graf_by_hand():
    space = ChainSpace(ops=("conv3x3", "sepconv3x3", "maxpool_conv3x3"))
    arch = space.make(layers=[["conv3x3", 16], ["maxpool_conv3x3", 64], ["sepconv3x3", 32]])
    got = dict(zip(space.feature_names("graf"), space.encode(arch, "graf").tolist()))
    params = (3 * 16 * 9 + 32) + (16 * 64 * 9 + 128) + (64 * 9 + 64 * 32 + 64) + (32 * 10 + 10)
    flops = 3 * 16 * 9 * 1024 + 16 * 64 * 9 * 256 + (64 * 9 + 64 * 32) * 256 + 32 * 10
    expected = {
        "depth": 3, "count[conv3x3]": 1, "count[width=64]": 1, "count[width=16]": 1, "first_op[conv3x3]": 1,
        "last_op[sepconv3x3]": 1, "width_first": 16, "width_last": 32, "width_min": 16, "width_max": 64,
        "n_width_increases": 1, "n_width_decreases": 1, "n_downsamples": 1, "first_downsample": 2, "last_downsample": 2,
    }
    assert {k: got[k] for k in expected} == expected
    assert got["width_mean"] == pytest.approx(112 / 3) and got["log2_width_total"] == pytest.approx(np.log2(112))
    assert got["log10_params"] == pytest.approx(np.log10(params)) and got["log10_flops"] == pytest.approx(np.log10(flops))
    mlp = ChainSpace(kind="mlp")
    assert "n_downsamples" not in mlp.feature_names("graf")
    assert size_estimate("mlp", [("relu", 32), ("tanh", 8)]) == (64 * 32 + 32 + 32 * 8 + 8 + 8 * 10 + 10, 64 * 32 + 32 * 8 + 80)


def test_chain_parameter_estimate_matches_the_built_network():
    pytest.importorskip("torch")
    for kind, ops, shape in (("cnn", ("conv1x1", "conv5x5", "sepconv3x3", "dilconv3x3", "maxpool_conv3x3"), (3, 32, 32)),
                             ("mlp", None, (64,))):
        space = ChainSpace(kind=kind, ops=ops)
        for seed in range(3):
            arch = space.sample(np.random.default_rng(seed))
            built = sum(p.numel() for p in space.build(arch, shape, 10).parameters())
            assert size_estimate(kind, [(o, int(w)) for o, w in arch["layers"]])[0] == built


def test_chain_feature_names_of_every_kind():
    space = ChainSpace(kind="mlp", max_depth=2, widths=(8, 16), ops=("relu", "tanh"))
    assert space.feature_names("adjacency") == [
        "op[0=relu]", "op[0=tanh]", "width[0=8]", "width[0=16]", "op[1=relu]", "op[1=tanh]", "width[1=8]",
        "width[1=16]", "depth=1", "depth=2",
    ]
    assert space.feature_names("path")[-4:] == ["transition[relu->relu]", "transition[relu->tanh]",
                                                "transition[tanh->relu]", "transition[tanh->tanh]"]


# -- versions -----------------------------------------------------------------------------------------------
def test_versions_name_the_kind_the_layout_and_the_space(graph):
    version = graph.encoding_version("graf")
    assert version == f"graf/1:{graph.encoding_size('graf')}:{graph.space_id}"
    assert len({graph.encoding_version(k) for k in graph.encodings}) == 3
    assert GraphSpace().encoding_version("graf") == version
    others = [
        GraphSpace(ops=PROTEINS_OPS), CellSpace(), CellSpace(n_nodes=5), ChainSpace(), ChainSpace(kind="mlp"),
        ChainSpace(widths=(16, 32)),
    ]
    versions = [s.encoding_version("graf") for s in [graph, *others]]
    assert len(set(versions)) == len(versions)

    class Bumped(GraphSpace):
        ENCODING_VERSIONS = {**GraphSpace.ENCODING_VERSIONS, "graf": 2}

    assert Bumped().encoding_version("graf").startswith("graf/2:")
    assert Bumped().encoding_version("adjacency") == graph.encoding_version("adjacency")


def test_a_subset_encodes_and_versions_like_its_parent():
    sub = SPACES["subset"]
    parent = sub.parent
    for kind in sub.encodings:
        assert sub.encoding_version(kind) == parent.encoding_version(kind)
        assert sub.feature_names(kind) == parent.feature_names(kind)
        np.testing.assert_array_equal(sub.encode_many(sub.members, kind),
                                      parent.encode_many([sub.to_parent(a) for a in sub.members], kind))


# -- unknown kinds ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["encode", "encode_many", "encoding_size", "feature_names", "encoding_version"])
def test_an_unknown_kind_names_kind_and_what_the_space_supports(graph, method):
    arch = graph.sample(np.random.default_rng(0))
    args = {"encode": (arch,), "encode_many": ([arch],)}.get(method, ())
    with pytest.raises(InvalidParameterError) as info:
        getattr(graph, method)(*args, "onehot")
    text = str(info.value)
    assert f"GraphSpace.{method}(kind=...)" in text and "'onehot'" in text
    assert "'adjacency', 'graf', 'path'" in text


def test_a_space_without_graf_says_so():
    plain = Plain()
    arch = plain.make(k=2)
    with pytest.raises(InvalidParameterError, match=r"kind=.*'graf'.*Available: 'adjacency', 'path'"):
        plain.encode(arch, "graf")
    assert plain.feature_names("path") == ["path[0]", "path[1]"]
    assert plain.encoding_version("path") == f"path/1:2:{plain.space_id}"
    with pytest.raises(InvalidParameterError, match="kind"):
        plain.encode(arch, None)


# -- enumeration --------------------------------------------------------------------------------------------
def test_graph_enumerates_every_architecture_in_key_order(graph):
    archs = graph.enumerate()
    ids = [a.id for a in archs]
    assert len(ids) == graph.cardinality == 26206 == len(set(ids))
    assert ids == [str(k) for k in graph.keys]
    assert [a.id for a in GraphSpace().enumerate()] == ids
    assert all(a in graph for a in archs[::500])
    assert len(GraphSpace(ops=PROTEINS_OPS).enumerate()) == 2021


def test_cell_and_chain_enumerate():
    cell = CellSpace()
    archs = cell.enumerate()
    assert len({a.id for a in archs}) == len(archs) == cell.cardinality == 8764
    assert [a.id for a in CellSpace().enumerate()] == [a.id for a in archs]
    big = CellSpace(n_nodes=5, ops=(NO, C3))  # 2**10 raw specs
    assert len({a.id for a in big.enumerate()}) == big.cardinality
    chain = ChainSpace(kind="mlp", max_depth=2)
    layers = [a["layers"] for a in chain.enumerate()]
    assert len(layers) == chain.cardinality == 156 and layers[0] == [["relu", 32]] and len(layers[-1]) == 2
    expected = [[list(c) for c in key] for d in (1, 2) for key in itertools.product(chain.layer_choices, repeat=d)]
    assert layers == expected


def test_a_subset_enumerates_its_members_in_order():
    sub = SPACES["subset"]
    assert sub.enumerate() == sub.members


def test_enumerate_refuses_a_space_larger_than_the_limit(graph):
    with pytest.raises(InvalidParameterError, match=r"26,206 architectures, more than limit=1,000.*sample"):
        graph.enumerate(limit=1000)
    assert len(graph.enumerate(limit=26206)) == 26206
    with pytest.raises(InvalidParameterError, match="more than limit"):
        ChainSpace(max_depth=50).enumerate()
    with pytest.raises(InvalidParameterTypeError, match="limit"):
        graph.enumerate(limit="all")


def test_generic_enumeration_walks_neighbours_and_refuses_to_guess():
    archs = Plain(n=7).enumerate()
    assert [a["k"] for a in archs] == list(range(7))  # sorted by id
    with pytest.raises(NotEnumerableError, match="cardinality is 9"):
        Plain(n=7, claim=9).enumerate()
    assert stable_hash([1]) == stable_hash([1])  # (the generic order is by id, itself stable)


# -- the point of it all --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_graf_ranks_nas_bench_graph_better_than_one_hot(graph):
    from scipy.stats import kendalltau
    from sklearn.ensemble import RandomForestRegressor

    from nasbook.tasks import NasBenchGraph

    table = NasBenchGraph("cora").table
    archs = [graph._from_key(int(k)) for k in table.keys]
    y = np.asarray(table.valid)
    taus: dict[str, list[float]] = {"adjacency": [], "graf": []}
    for kind in taus:
        x = graph.encode_many(archs, kind)
        for seed in range(3):
            order = np.random.default_rng(seed).permutation(len(y))
            train, test = order[:100], order[100:2100]
            model = RandomForestRegressor(n_estimators=100, random_state=seed).fit(x[train], y[train])
            taus[kind].append(kendalltau(model.predict(x[test]), y[test])[0])
    assert np.mean(taus["graf"]) > np.mean(taus["adjacency"]) + 0.05, taus
