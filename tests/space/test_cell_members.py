"""Many CellSpace architectures validated together (``_cell_members.proven_members``, ``CellSpace._validate_many``,
what ``encode_many`` calls): the same members pass as through ``validate`` one by one, a non-member in a batch raises
the error ``validate`` raises for it (naming it), and the first one in order raises."""

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError
from nasbook.space import Architecture, CellSpace, ChainSpace
from nasbook.space import _cell_graph as graph
from nasbook.space._base import stable_hash
from nasbook.space._cell_members import proven_members

NO, SK, C1, C3, C5, AP, MP = "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_5x5", "avg_pool_3x3", "max_pool_3x3"
SPACES = [
    {},  # NAS-Bench-201's: 4 nodes, 5 ops
    {"n_nodes": 2},
    {"n_nodes": 3},
    {"n_nodes": 5},
    {"n_nodes": 6, "ops": [NO, SK, C1, C3, C5, AP, MP]},
    {"n_nodes": 5, "ops": [SK, C3, AP]},  # no "none": every edge is live
    {"n_nodes": 4, "ops": [C3, NO]},  # a single op, "none" listed last (its rank is not its position)
]


def claimed(space, edges, **extra):
    """An Architecture of ``space`` with these edges and the id a canonical cell with these edges would have,
    made without the space (as a store's row or a user's hand-built object would be)."""
    return Architecture(space.space_id, stable_hash({"edges": list(edges)}), {"edges": list(edges), **extra})


def batch(space, seed):
    """Members (copies the space did not make) and near-members of every kind validate tells apart."""
    rng = np.random.default_rng(seed)
    ops, n_edges = space._ops, space.n_edges
    out = []
    for _ in range(60):
        a = space.sample(rng)
        out.append(Architecture(a.space_id, a.id, a.spec))  # a member
        key = tuple(a["edges"])
        live = [k for k, op in enumerate(key) if op != NO]
        for emap in space._relabellings:  # its other labellings: same network, not canonical
            other = graph.relabel(key, emap, live)
            if other is not None:
                out.append(claimed(space, other))
        out.append(Architecture(a.space_id, "0" * 12, a.spec))  # a canonical spec under another id
        out.append(claimed(space, key, note=1))  # an extra field: validate reads "edges" only, and passes it
        out.append(Architecture(a.space_id, a.id, {"note": 1, "edges": list(key)}))  # "edges" not first
    for _ in range(300):  # raw specs: unpruned edges, no path, other labellings, and some canonical by chance
        out.append(claimed(space, [ops[i] for i in rng.integers(0, len(ops), n_edges)]))
    good = space.sample(rng)
    out += [
        claimed(space, [NO] * n_edges),  # no path at all
        claimed(space, [C5 if C5 not in ops else "sep_conv_3x3"] * n_edges),  # an op the space does not have
        claimed(space, list(good["edges"])[:-1]),  # one edge short
        claimed(space, [*good["edges"], NO]),  # one edge too many
        Architecture(good.space_id, good.id, {"edges": "|".join(good["edges"])}),  # a string
        Architecture(good.space_id, good.id, {"ops": list(good["edges"])}),  # no edges field
        Architecture(good.space_id, good.id, {"edges": [[op] for op in good["edges"]]}),  # nested
        Architecture(good.space_id, good.id, {"edges": [{op} for op in good["edges"]]}),  # unhashable items
        Architecture("cell-00000000", good.id, good.spec),  # another space's id
        Architecture(CellSpace(n_nodes=space.n_nodes, ops=[SK, C1]).space_id, good.id, good.spec),
        good.spec,  # not an Architecture at all
        None,
    ]
    return out


def passes(space, arch):
    try:
        space.validate(arch)
    except InvalidArchitectureError:
        return False
    return True


@pytest.mark.parametrize("kw", SPACES)
def test_proven_members_are_exactly_what_validate_passes(kw):
    space = CellSpace(**kw)
    archs = batch(space, 7)
    proven = proven_members(CellSpace(**kw), archs)  # a fresh space: nothing cached, nothing made yet
    expected = np.array([passes(CellSpace(**kw), a) for a in archs])
    assert proven.dtype == bool and proven.shape == (len(archs),)
    np.testing.assert_array_equal(proven, expected)
    np.testing.assert_array_equal(proven_members(space, archs), expected)  # the space that made the members
    made = [space.sample(np.random.default_rng(70)) for _ in range(5)]  # the very objects it made
    assert proven_members(space, made).all()
    assert expected.sum() >= 3 * 60 and (~expected).sum() >= 12  # both kinds are there


@pytest.mark.parametrize("kw", SPACES)
def test_validate_many_returns_the_same_objects_in_order(kw):
    space = CellSpace(**kw)
    members = [a for a in batch(space, 8) if passes(CellSpace(**kw), a)]
    got = CellSpace(**kw)._validate_many(members)
    assert len(got) == len(members) and all(g is a for g, a in zip(got, members))
    assert CellSpace(**kw)._validate_many([]) == []


def _error(fn, *args):
    with pytest.raises(InvalidArchitectureError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize(("where", "size"), [(0, 100), (37, 100), (99, 100), (0, 1), (2, 3)])  # small: one by one
def test_a_non_member_in_a_batch_raises_validates_error_naming_it(where, size):
    space = CellSpace(n_nodes=5)
    rng = np.random.default_rng(3)
    archs = [Architecture(a.space_id, a.id, a.spec) for a in (space.sample(rng) for _ in range(size))]
    good = archs[where]
    other = space._relabellings[-1]
    key = tuple(good["edges"])
    flipped = graph.relabel(key, other, [k for k, op in enumerate(key) if op != NO])
    cases = [
        Architecture(good.space_id, "0" * 12, good.spec),  # another id
        claimed(space, [NO] * space.n_edges),  # no path
        claimed(space, ["sep_conv_3x3"] * space.n_edges),  # an op the space does not have
        Architecture(good.space_id, good.id, {"edges": [{op} for op in good["edges"]]}),  # unhashable items
        Architecture("cell-00000000", good.id, good.spec),  # another space
        good.spec,  # a dict, not an Architecture
    ]
    if flipped is not None and flipped != key:
        cases.append(claimed(space, flipped))  # not canonical
    for bad in cases:
        batch_ = [*archs[:where], bad, *archs[where + 1:]]
        expected = _error(CellSpace(n_nodes=5).validate, bad)
        assert _error(CellSpace(n_nodes=5)._validate_many, batch_) == expected
        assert _error(CellSpace(n_nodes=5).encode_many, batch_, "graf") == expected
        if isinstance(bad, Architecture):
            assert repr(bad.id) in expected  # the message names the architecture


def test_the_first_non_member_in_order_raises():
    space = CellSpace(n_nodes=5)
    rng = np.random.default_rng(4)
    archs = [Architecture(a.space_id, a.id, a.spec) for a in (space.sample(rng) for _ in range(50))]
    first = Architecture(space.space_id, "1" * 12, archs[10].spec)
    second = Architecture(space.space_id, "2" * 12, archs[20].spec)
    archs[10], archs[20] = first, second
    message = _error(CellSpace(n_nodes=5).encode_many, archs, "graf")
    assert "'111111111111'" in message and "'222222222222'" not in message


def test_another_space_keeps_one_validate_per_architecture():
    space = ChainSpace()
    rng = np.random.default_rng(5)
    archs = [space.sample(rng) for _ in range(20)]
    assert space._validate_many(archs) == archs
    bad = Architecture(space.space_id, "0" * 12, archs[3].spec)
    expected = _error(space.validate, bad)
    assert _error(space._validate_many, [*archs[:5], bad, *archs[5:]]) == expected
    assert _error(space.encode_many, [*archs[:5], bad], "adjacency") == expected


def test_encode_many_of_new_cells_is_not_the_cache():
    space = CellSpace(n_nodes=5)
    rng = np.random.default_rng(6)
    cells = {a.id: a for a in (space.sample(rng) for _ in range(300))}
    archs = [Architecture(a.space_id, a.id, a.spec) for a in cells.values()]
    fresh = CellSpace(n_nodes=5)
    x = fresh.encode_many(archs, "graf")  # every one new and distinct
    expected = np.stack([CellSpace(n_nodes=5).encode(a, "graf") for a in archs])
    assert x.tobytes() == expected.tobytes()
    x[:] = -7.0  # the caller's array: the cache keeps its own copy
    again = fresh.encode_many([*archs[::-1], archs[0]], "graf")  # all cached now, reversed, one repeated
    assert again.tobytes() == np.concatenate([expected[::-1], expected[:1]]).tobytes()
    again[:] = -8.0
    mixed = [*archs[:5], space.sample(np.random.default_rng(60)), archs[1], archs[2]]
    got = fresh.encode_many(mixed, "graf")
    assert got.tobytes() == np.stack([CellSpace(n_nodes=5).encode(a, "graf") for a in mixed]).tobytes()
    assert fresh.encode(archs[0], "graf").tobytes() == expected[0].tobytes()
