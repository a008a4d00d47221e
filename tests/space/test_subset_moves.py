"""SubsetSpace moves on the sparse shipped tables: a parent move projected onto the members
(docs/benchmarks.md 1k, 1l). Table look-ups only."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError
from nasbook.space import CellSpace, ConvDenseSpace, SubsetSpace
from nasbook.tasks import DigitsTable, MNIST1DTable


@pytest.fixture(scope="module", params=["digits", "mnist1d"])
def sub(request) -> SubsetSpace:
    return (DigitsTable() if request.param == "digits" else MNIST1DTable()).space


def test_identity_unchanged(sub):
    # stored searches resume: a shipped table's space_id must not change with its moves
    assert sub.space_id in ("subset-db1d2485", "subset-670c467c")


def test_every_member_has_neighbours_and_mutate_draws_from_them(sub):
    rng = np.random.default_rng(0)
    ids = set(sub.ids)
    for a in sub.members:
        nbrs = sub.neighbours(a)
        got = [x.id for x in nbrs]
        assert got, f"{a!r} has no neighbour"
        assert a.id not in got and len(got) == len(set(got)) and set(got) <= ids
        member_moves = {x.id for x in sub.parent.neighbours(sub.to_parent(a))} & ids
        assert member_moves <= set(got)  # a parent move onto a member is kept as is
        for _ in range(3):
            child = sub.mutate(a, rng)
            assert child != a and child.id in set(got)


def test_moves_are_deterministic(sub):
    fresh = type(sub)(sub.parent, sub.archs)
    for a in sub.members[:30]:
        assert [x.id for x in fresh.neighbours(a)] == [x.id for x in sub.neighbours(a)]
        for k in range(3):
            assert fresh.mutate(a, np.random.default_rng(k)) == sub.mutate(a, np.random.default_rng(k))


def test_no_depth_drift_on_mnist1d():
    """Children keep the parent space's depth changes: projecting by the members nearest the
    *parent* (or in Hamming distance, where an empty conv stack is near everything) sent 40-50 % of
    a 4-conv member's children to shallower networks and turned mean depth changes of +0.7 into
    -0.2 (1k); the parent's own moves shorten a 4-conv network 10 % of the time."""
    sub = MNIST1DTable().space
    assert isinstance(sub.parent, ConvDenseSpace)
    rng = np.random.default_rng(0)

    def depth(a):
        return len(a["conv"])

    for d in range(5):
        members = [a for a in sub.members if depth(a) == d]
        moves = [depth(n) - d for a in members for n in sub.parent.neighbours(sub.to_parent(a))]
        kids = [depth(sub.mutate(a, rng)) - d for a in members for _ in range(40)]
        assert abs(np.mean(kids) - np.mean(moves)) < 0.3, (d, np.mean(kids), np.mean(moves))
        if d == 4:
            assert np.mean(np.array(kids) < 0) < np.mean(np.array(moves) < 0) + 0.2


def test_errors_unchanged():
    parent = CellSpace()
    rng = np.random.default_rng(1)
    one = SubsetSpace(parent, [parent.sample(rng)])
    with pytest.raises(InvalidArchitectureError, match="no other architecture"):
        one.mutate(one.members[0], rng)
    assert one.neighbours(one.members[0]) == []
    sub = DigitsTable().space
    outside = next(a for a in (parent.sample(rng) for _ in range(1000)) if a.id not in sub.ids)
    with pytest.raises(InvalidArchitectureError, match="parent space"):
        sub.mutate(outside, rng)
    with pytest.raises(InvalidArchitectureError, match="parent space"):
        sub.neighbours(outside)
