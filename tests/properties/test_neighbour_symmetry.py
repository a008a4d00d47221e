"""The built-in spaces' neighbourhoods: symmetric where an edit can be undone by one edit, and mutate inside them.

Symmetric: GraphSpace with ``edits = "every_form"`` (edits of every raw form of a cell), ChainSpace, ConvDenseSpace, CellSpace without
``none``. Not symmetric by design, so checked for mutate only: CellSpace with ``none`` (removing an edge may
prune others, which one op change cannot restore), SubsetSpace (parent moves projected onto the members) and
GraphSpace by default (the canonical form's edits).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbook.space import PROTEINS_OPS, CellSpace, ChainSpace, ConvDenseSpace, GraphSpace, SubsetSpace

_CELL = CellSpace()
_RNG = np.random.default_rng(0)
SYMMETRIC = [
    GraphSpace(),
    GraphSpace(ops=PROTEINS_OPS),
    GraphSpace(ops=("gcn", "skip")),
    CellSpace(ops=("skip_connect", "nor_conv_3x3", "avg_pool_3x3")),
    ChainSpace(),
    ChainSpace(kind="mlp", max_depth=2),
    ConvDenseSpace(max_conv=2, max_dense=1, conv_widths=(4, 8), dense_widths=(32,)),
]
OTHERS = [
    _CELL,
    CellSpace(n_nodes=3),
    SubsetSpace(_CELL, list(dict.fromkeys(_CELL.sample(_RNG) for _ in range(60)))[:40]),
]
seeds = st.integers(0, 2**32 - 1)


@contextmanager
def symmetric_edits(space):
    """GraphSpace's symmetric neighbourhood for the duration (a class setting; hypothesis runs many examples
    in one test call, so no function-scoped fixture)."""
    if not isinstance(space, GraphSpace):
        yield
        return
    old = GraphSpace.edits
    GraphSpace.edits = "every_form"
    try:
        yield
    finally:
        GraphSpace.edits = old


@settings(max_examples=25, deadline=None)
@given(space=st.sampled_from(SYMMETRIC), seed=seeds)
def test_neighbours_are_symmetric(space, seed):
    a = space.sample(np.random.default_rng(seed))
    with symmetric_edits(space):
        nbrs = space.neighbours(a)
        for b in nbrs[:: max(1, len(nbrs) // 8)]:  # about 8, spread over the fixed order
            assert a in space.neighbours(b), f"{b.spec} is a neighbour of {a.spec} but not the reverse in {space!r}"


@settings(max_examples=40, deadline=None)
@given(space=st.sampled_from(SYMMETRIC + OTHERS), seed=seeds)
def test_mutate_draws_a_neighbour(space, seed):
    rng = np.random.default_rng(seed)
    a = space.sample(rng)
    nbrs = {b.id for b in space.neighbours(a)}
    for _ in range(10):
        child = space.mutate(a, rng)
        assert child.id in nbrs and child != a
