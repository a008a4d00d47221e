"""Property tests of CellSpace and ChainSpace: moves stay in the space, canonical forms are stable."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbook._errors import InvalidArchitectureError
from nasbook.space._cell import CellSpace
from nasbook.space._chain import ChainSpace

NO, SK, C1, C3 = "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3"

CELLS = [
    CellSpace(),
    CellSpace(n_nodes=3, ops=(NO, C3)),
    CellSpace(n_nodes=5, ops=(NO, SK, C3)),
    CellSpace(n_nodes=4, ops=(SK, C3, C1)),
    CellSpace(n_nodes=6, ops=(NO, SK, C1, C3)),
]
CHAINS = [
    ChainSpace(),
    ChainSpace(kind="mlp"),
    ChainSpace(kind="mlp", min_depth=2, max_depth=5, widths=(8,), ops=("relu", "tanh")),
]
SPACES = CELLS + CHAINS

common = settings(max_examples=60, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def live_edges(space: CellSpace, edges: list[str]) -> set[tuple[int, int]]:
    """Edges on some input->output path, computed independently of CellSpace."""
    present = {e for e, op in zip(space.edges, edges) if op != NO}
    n = space.n_nodes
    forward, backward = {0}, {n - 1}
    for i, j in sorted(present):
        if i in forward:
            forward.add(j)
    for i, j in sorted(present, reverse=True):
        if j in backward:
            backward.add(i)
    return {(i, j) for i, j in present if i in forward and j in backward}


@common
@given(space=st.sampled_from(SPACES), seed=seeds)
def test_moves_stay_in_the_space(space, seed):
    rng = np.random.default_rng(seed)
    arch = space.sample(rng)
    assert arch in space
    assert space.make(**arch.to_dict()) == arch  # canonicalization is idempotent
    assert space.from_dict(arch.to_dict()).to_dict() == arch.to_dict()
    nbrs = space.neighbours(arch)
    assert arch not in nbrs and len(set(nbrs)) == len(nbrs)
    assert all(b in space and space.make(**b.to_dict()) == b for b in nbrs)
    if space.cardinality > 1:
        child = space.mutate(arch, rng)
        assert child != arch and child in space
    for kind in ("adjacency", "path"):
        v = space.encode(arch, kind)
        assert v.dtype == np.float32 and v.shape == (space.encoding_size(kind),) and np.isfinite(v).all()


@common
@given(space=st.sampled_from(SPACES), seed=seeds)
def test_walks_stay_in_the_space(space, seed):
    rng = np.random.default_rng(seed)
    arch = space.sample(rng)
    for _ in range(10):
        if space.cardinality < 2:
            break
        arch = space.mutate(arch, rng)
        assert arch in space and space.make(**arch.to_dict()) == arch


@st.composite
def raw_cells(draw):
    space = draw(st.sampled_from(CELLS))
    n = space.n_edges
    length = draw(st.sampled_from([n, n, n, n, n - 1, n + 1]))
    alphabet = st.sampled_from(list(space.ops)) | st.sampled_from(["bogus", NO, 0])
    return space, draw(st.lists(alphabet, min_size=length, max_size=length))


@settings(max_examples=100, deadline=None)
@given(raw=raw_cells())
def test_raw_cell_specs_are_rejected_or_canonicalized(raw):
    space, edges = raw
    well_formed = len(edges) == space.n_edges and all(op in space.ops for op in edges)
    try:
        arch = space.make(edges=edges)
    except InvalidArchitectureError:
        assert not well_formed or not live_edges(space, edges)
        return
    assert well_formed and live_edges(space, edges)
    assert arch in space
    assert space.make(**arch.to_dict()) == arch
    canonical = arch["edges"]
    # the canonical form keeps exactly the live edges (up to relabelling) and no dead ones
    assert sorted(op for op in canonical if op != NO) == sorted(
        edges[space.edges.index(e)] for e in live_edges(space, edges)
    )
    assert len(live_edges(space, canonical)) == sum(op != NO for op in canonical)
    for kind in ("adjacency", "path"):
        assert np.array_equal(space.encode(arch, kind), space.encode(space.make(edges=canonical), kind))


@common
@given(raw=raw_cells(), data=st.data())
def test_relabelling_and_dead_edges_do_not_change_the_id(raw, data):
    space, edges = raw
    if len(edges) != space.n_edges or not all(op in space.ops for op in edges) or not live_edges(space, edges):
        return
    arch = space.make(edges=edges)
    # any relabelling of intermediate nodes that keeps present edges pointing forward
    n = space.n_nodes
    perms = [
        (0, *p, n - 1)
        for p in itertools.permutations(range(1, n - 1))
        if all(((0, *p, n - 1)[i] < (0, *p, n - 1)[j]) for (i, j), op in zip(space.edges, edges) if op != NO)
    ]
    p = data.draw(st.sampled_from(perms))
    moved = {(p[i], p[j]): op for (i, j), op in zip(space.edges, edges) if op != NO}
    assert space.make(edges=[moved.get(e, NO) for e in space.edges]) == arch
    # dead edges may carry any op (or none) without changing the architecture
    live = live_edges(space, edges)
    dead = [k for k, (e, op) in enumerate(zip(space.edges, edges)) if op != NO and e not in live]
    if dead:
        k = data.draw(st.sampled_from(dead))
        other = data.draw(st.sampled_from(list(space.ops)))
        changed = list(edges)
        changed[k] = other
        assert space.make(edges=changed) == arch


@st.composite
def raw_chains(draw):
    space = draw(st.sampled_from(CHAINS))
    ops = st.sampled_from(list(space._ops)) | st.sampled_from(["bogus", 3])
    widths = st.sampled_from(list(space._widths)) | st.sampled_from([7, 16.0, "32", True])
    layer = st.tuples(ops, widths)
    layers = draw(st.lists(layer, min_size=0, max_size=space.max_depth + 1))
    return space, [list(x) for x in layers]


@settings(max_examples=100, deadline=None)
@given(raw=raw_chains())
def test_raw_chain_specs_are_rejected_or_valid(raw):
    space, layers = raw
    well_formed = space.min_depth <= len(layers) <= space.max_depth and all(
        op in space._ops and not isinstance(w, bool) and isinstance(w, int) and w in space._widths for op, w in layers
    )
    try:
        arch = space.make(layers=layers)
    except InvalidArchitectureError:
        assert not well_formed
        return
    assert well_formed
    assert arch in space and arch["layers"] == layers  # a chain is its own canonical form
    assert space.make(**arch.to_dict()) is arch


@common
@given(space=st.sampled_from(CHAINS), seed=seeds)
def test_chain_neighbours_are_symmetric(space, seed):
    arch = space.sample(np.random.default_rng(seed))
    for b in space.neighbours(arch)[:: max(1, len(space.neighbours(arch)) // 10)]:
        assert arch in space.neighbours(b)


@pytest.mark.parametrize("space", SPACES, ids=repr)
def test_same_seed_same_draws(space):
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    assert [space.sample(a) for _ in range(20)] == [space.sample(b) for _ in range(20)]
    assert space.mutate(space.sample(a), a) == space.mutate(space.sample(b), b) or space.cardinality < 2
