"""CellSpace's ``graf`` features computed over many cells at once (``_cell_features.graf_many``) equal, bit for bit,
the per-cell dynamic programme they replaced (kept below as the oracle: the code of ``graf`` at commit 7bfde3a)."""

import numpy as np
import pytest

from nasbook.space import Architecture, CellSpace
from nasbook.space import _cell_features as features
from nasbook.space._cell_features import hop_groups, op_subsets

NO, SK, C1, C3, C5, AP, MP = "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_5x5", "avg_pool_3x3", "max_pool_3x3"


# -- the oracle: the former per-cell code, unchanged ------------------------------------------------------------
def _paths(n, edges, allowed):
    lo = [np.inf] * n
    hi = [-np.inf] * n
    count = [0] * n
    lo[0], hi[0], count[0] = 0, 0, 1
    for i, j, op in edges:
        if op in allowed and count[i]:
            lo[j] = min(lo[j], lo[i] + 1)
            hi[j] = max(hi[j], hi[i] + 1)
            count[j] += count[i]
    if not count[n - 1]:
        return 0.0, 0.0, 0.0
    return float(lo[n - 1]), float(hi[n - 1]), float(count[n - 1])


def _hops(n, edges, group):
    lo = [np.inf] * n
    hi = [-np.inf] * n
    lo[0] = hi[0] = 0
    for i, j, op in edges:
        w = op in group
        lo[j] = min(lo[j], lo[i] + w)
        hi[j] = max(hi[j], hi[i] + w)
    return float(lo[n - 1]), float(hi[n - 1])


def oracle_graf(key, n, pairs, live_ops):
    edges = [(i, j, op) for (i, j), op in zip(pairs, key) if op != "none"]
    out = [float(sum(op == o for _, _, op in edges)) for o in live_ops]
    for _, subset in op_subsets(live_ops):
        out.extend(_paths(n, edges, subset))
    for _, group in hop_groups(live_ops):
        out.extend(_hops(n, edges, group))
    used = sorted({v for i, j, _ in edges for v in (i, j)} - {0, n - 1})
    k = len(live_ops)
    index = {o: a for a, o in enumerate(live_ops)}
    ins, outs = np.zeros((n, k)), np.zeros((n, k))
    for i, j, op in edges:
        outs[i, index[op]] += 1
        ins[j, index[op]] += 1
    inner_in, inner_out = (ins[used], outs[used]) if used else (np.zeros((1, k)), np.zeros((1, k)))
    out += np.column_stack([
        outs[0], ins[n - 1], inner_in.mean(axis=0), inner_in.max(axis=0), inner_out.mean(axis=0), inner_out.max(axis=0),
    ]).ravel().tolist()
    out += [_paths(n, edges, frozenset(live_ops))[1], len(edges), len(used)]
    return np.asarray(out, dtype=np.float32)


# -- the spaces: NAS-Bench-201's, every n_nodes, more than four ops (the group subsets), few ops -----------------
SPACES = {
    "nb201": dict(),
    "2-nodes": dict(n_nodes=2),
    "3-nodes": dict(n_nodes=3),
    "5-nodes": dict(n_nodes=5),
    "6-nodes": dict(n_nodes=6),
    "5-nodes-7-ops": dict(n_nodes=5, ops=(NO, SK, C1, C3, C5, AP, MP)),
    "6-nodes-no-none-6-ops": dict(n_nodes=6, ops=(SK, "sep_conv_3x3", "dil_conv_3x3", MP, AP, C1)),
    "4-nodes-one-op": dict(ops=(C3,)),
    "4-nodes-no-conv": dict(ops=(NO, SK, AP)),
    "5-nodes-conv-only": dict(n_nodes=5, ops=(NO, C1, C3)),
}


def _same(got, want):
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
    assert got.tobytes() == want.tobytes()  # bit for bit (tells 0.0 from -0.0, compares inf and -inf)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_graf_many_equals_the_per_cell_code_on_sampled_cells(name):
    space = CellSpace(**SPACES[name])
    rng = np.random.default_rng(100)
    keys = [tuple(space.sample(rng)["edges"]) for _ in range(400)]
    want = np.stack([oracle_graf(k, space.n_nodes, space.edges, space._live_ops) for k in keys])
    _same(features.graf_many(keys, space.n_nodes, space.edges, space._live_ops), want)
    for key, row in zip(keys[:20], want):  # one cell alone: the same call on a batch of one
        _same(features.graf(key, space.n_nodes, space.edges, space._live_ops), row)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_graf_many_equals_the_per_cell_code_on_raw_cells(name):
    # unpruned specs: edges on no input->output path, cells with no such path at all, the all-none cell
    space = CellSpace(**SPACES[name])
    ops = sorted(set(space._ops) | {NO})
    rng = np.random.default_rng(101)
    keys = [tuple(ops[int(i)] for i in rng.integers(len(ops), size=space.n_edges)) for _ in range(300)]
    keys += [(NO,) * space.n_edges, (NO,) * (space.n_edges - 1) + (space._live_ops[0],)]
    keys += [(space._live_ops[0],) * (space.n_nodes - 2) + (NO,) * (space.n_edges - space.n_nodes + 2)]  # 0->j only
    want = np.stack([oracle_graf(k, space.n_nodes, space.edges, space._live_ops) for k in keys])
    got = features.graf_many(keys, space.n_nodes, space.edges, space._live_ops)
    _same(got, want)
    names = features.graf_names(space._live_ops)
    if space.n_nodes > 2:  # the last key joins the input to no output: no path, hops inf / -inf
        hops = [i for i, c in enumerate(names) if c.startswith(("min_hops", "max_hops"))]
        assert np.isinf(got[-1, hops]).all()
        assert got[-1, names.index("depth")] == 0.0


def test_graf_many_of_no_cells_and_of_blocks():
    space = CellSpace(n_nodes=5)
    assert features.graf_many([], 5, space.edges, space._live_ops).shape == (0, space.encoding_size("graf"))
    rng = np.random.default_rng(102)
    keys = [tuple(space.sample(rng)["edges"]) for _ in range(features._BLOCK + 7)]  # a second, partial block
    want = np.stack([oracle_graf(k, 5, space.edges, space._live_ops) for k in keys])
    _same(features.graf_many(keys, 5, space.edges, space._live_ops), want)


def test_encode_many_of_graf_equals_encode_and_keeps_the_cache():
    space = CellSpace(n_nodes=5, ops=(NO, SK, C1, C3, C5, AP, MP))
    rng = np.random.default_rng(103)
    archs = [space.sample(rng) for _ in range(300)]
    archs += archs[:50]  # repeats
    fresh = CellSpace(n_nodes=5, ops=(NO, SK, C1, C3, C5, AP, MP))  # nothing cached, architectures it did not make
    copies = [Architecture(a.space_id, a.id, a.spec) for a in archs]
    many = fresh.encode_many(copies[:100], "graf")  # some cached, then a mix of cached and new
    many = np.vstack([many, fresh.encode_many(copies[100:], "graf")])
    want = np.stack([oracle_graf(tuple(a["edges"]), 5, space.edges, space._live_ops) for a in archs])
    _same(many, want)
    for a, row in zip(archs, want):
        _same(space.encode(a, "graf"), row)
        _same(fresh.encode(a, "graf"), row)
    many[:] = -1  # a new array: the cache is untouched
    _same(fresh.encode_many(copies, "graf"), want)
    assert fresh.encode_many([], "graf").shape == (0, fresh.encoding_size("graf"))


def test_encode_many_still_validates_every_architecture():
    space = CellSpace(n_nodes=5)
    good = space.sample(np.random.default_rng(104))
    forged = Architecture(space.space_id, good.id, {"edges": [C3] + [NO] * 9})  # not canonical / not its id
    from nasbook._errors import InvalidArchitectureError

    with pytest.raises(InvalidArchitectureError):
        space.encode_many([good, forged], "graf")
