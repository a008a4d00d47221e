"""A pickled GraphSpace (sent with every trial to a dask worker) leaves its per-architecture caches behind."""

from __future__ import annotations

import pickle

import numpy as np

from nasbook.space import GraphSpace


def test_pickled_space_stays_small_after_enumerating_and_works():
    space = GraphSpace()
    fresh = len(pickle.dumps(space))
    archs = space.enumerate()  # what BO does first: 26,206 architectures cached on the space
    rng = np.random.default_rng(100)
    space.sample(rng)
    space.neighbours(archs[5])
    space.encode_many(archs[:10], "graf")
    sent = pickle.dumps(space)
    # before: every architecture made so far travelled with the space (1.4 MB, ~1 s to pickle on a loaded core)
    assert len(sent) < 4 * fresh + 2000, len(sent)
    again = pickle.loads(sent)
    assert again == space
    assert [a.id for a in again.enumerate()] == [a.id for a in archs]
    assert again.sample(np.random.default_rng(100)) == space.sample(np.random.default_rng(100))
    assert {a.id for a in again.neighbours(archs[5])} == {a.id for a in space.neighbours(archs[5])}
    np.testing.assert_array_equal(again.encode_many(archs[:10], "graf"), space.encode_many(archs[:10], "graf"))
    assert again.make(**archs[7].spec) == archs[7]
