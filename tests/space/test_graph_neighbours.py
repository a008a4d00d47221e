"""GraphSpace's neighbourhood: by default one edit of the canonical (link, ops), as mutate draws; with
``GraphSpace.edits = "every_form"`` one edit of any raw form of a cell, so the relation is symmetric.

Before ``edits`` existed b in neighbours(a) did not imply a in neighbours(b) (7% of sampled pairs with all nine
ops, 20-24% with the proteins ops) and no setting gave the symmetric relation.
"""

import itertools
from collections import defaultdict

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.space import PROTEINS_OPS, GraphSpace
from nasbook.space._graph import _N_NODES, RAW_LINKS


def edit_graph(ops: tuple[str, ...]) -> dict[int, set[int]]:
    """Independent oracle: every raw (link, ops), grouped by benchmark key; two keys are neighbours when
    some raw form of one is one op change or one link change from some raw form of the other."""
    from nas_bench_graph.architecture import Arch

    key = {}
    for link in RAW_LINKS:
        for combo in itertools.product(ops, repeat=_N_NODES):
            if set(combo) != {"skip"}:
                key[link, combo] = int(Arch(list(link), list(combo)).valid_hash())
    nbrs: dict[int, set[int]] = defaultdict(set)
    for (link, combo), k in key.items():
        edits = [(lk, combo) for lk in RAW_LINKS if lk != link]
        edits += [(link, combo[:i] + (o,) + combo[i + 1 :]) for i in range(_N_NODES) for o in ops if o != combo[i]]
        for e in edits:
            if e in key and key[e] != k:
                nbrs[k].add(key[e])
    return nbrs


@pytest.fixture(scope="module")
def proteins_graph():
    return edit_graph(PROTEINS_OPS)


@pytest.fixture
def every_form(monkeypatch):
    monkeypatch.setattr(GraphSpace, "edits", "every_form")


def test_the_default_edits_the_canonical_form_only():
    # the default is the canonical form's edits (measured: the symmetric relation made local search no better)
    s = GraphSpace()
    a = s.make(link=[0, 0, 1, 1], ops=["fc", "sage", "gat", "sage"])
    b = s.make(link=[0, 0, 0, 0], ops=["gat", "sage", "sage", "fc"])
    assert GraphSpace.edits == "canonical"
    assert b in s.neighbours(a) and a not in s.neighbours(b)


def test_the_reported_pair_is_symmetric(every_form):
    s = GraphSpace()
    a = s.make(link=[0, 0, 1, 1], ops=["fc", "sage", "gat", "sage"])
    b = s.make(link=[0, 0, 0, 0], ops=["gat", "sage", "sage", "fc"])
    assert b in s.neighbours(a)
    assert a in s.neighbours(b)  # failed: b's canonical form has no edit giving a


def test_neighbours_are_the_edits_of_every_raw_form(proteins_graph, every_form):
    s = GraphSpace(ops=PROTEINS_OPS)
    rng = np.random.default_rng(3)
    for _ in range(40):
        a = s.sample(rng)
        nbrs = s.neighbours(a)
        assert {int(b.id) for b in nbrs} == proteins_graph[int(a.id)]
        assert len(nbrs) == len({b.id for b in nbrs}) and a not in nbrs


@pytest.mark.parametrize("ops", [None, PROTEINS_OPS], ids=["all-ops", "proteins-ops"])
def test_neighbours_are_symmetric(ops, every_form):
    s = GraphSpace() if ops is None else GraphSpace(ops=ops)
    rng = np.random.default_rng(7)
    for _ in range(3 if ops is None else 6):  # ~70 / ~45 neighbours each
        a = s.sample(rng)
        for b in s.neighbours(a):
            assert a in s.neighbours(b), (a.spec, b.spec)


def test_canonical_edits_come_first_and_mutate_stays_inside(every_form):
    # the canonical form's edits (what neighbours held before) lead, in their old order; mutate edits the canonical
    # form only, as before, so evolution draws what it drew: its children are neighbours
    s = GraphSpace()
    rng = np.random.default_rng(11)
    for _ in range(20):
        a = s.sample(rng)
        link, ops = tuple(a["link"]), tuple(a["ops"])
        canonical = []
        for lk, op in [(link, ops[:i] + (o,) + ops[i + 1 :]) for i in range(_N_NODES) for o in s._ops if o != ops[i]] + [
            (lk, ops) for lk in RAW_LINKS if lk != link
        ]:
            if set(op) != {"skip"}:
                b = s.make(link=list(lk), ops=list(op))
                if b != a and b not in canonical:
                    canonical.append(b)
        nbrs = s.neighbours(a)
        assert nbrs[: len(canonical)] == canonical
        assert all(s.mutate(a, rng) in nbrs for _ in range(20))


def test_space_ids_unchanged():
    # stored searches keep loading: the default spaces' ids do not depend on the neighbourhood
    assert GraphSpace().space_id == "graph-70c5b6f2"
    assert GraphSpace(ops=PROTEINS_OPS).space_id == "graph-069c2190"


@pytest.mark.slow
def test_every_proteins_cell_has_the_oracle_neighbourhood(proteins_graph, every_form):
    s = GraphSpace(ops=PROTEINS_OPS)
    for a in s.enumerate():
        assert {int(b.id) for b in s.neighbours(a)} == proteins_graph[int(a.id)]


@pytest.mark.parametrize("edits", ["canonical", "every_form"])
def test_a_stored_local_search_resumes_exactly(tmp_path, monkeypatch, edits):
    monkeypatch.setattr(GraphSpace, "edits", edits)
    # replaying the stored history rebuilds local search's neighbour queues: the same proposals, no warning
    import warnings

    import nasbook
    from nasbook.tasks import NasBenchGraph

    task, path = NasBenchGraph("proteins"), tmp_path / "l.db"
    nasbook.Search(task, strategy="local", budget=30, seed=4, storage=path, name="l").run(progress="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = nasbook.load_search("l", path, budget=60).run(progress="none")
    full = nasbook.Search(task, strategy="local", budget=60, seed=4, storage=":memory:").run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


def test_edits_canonical_gives_the_old_neighbourhood_for_exact_resumes(monkeypatch):
    # GraphSpace.edits = "canonical": the canonical form's edits only, as before (a stored local search continues
    # exactly); the id and the architectures do not change with it
    s = GraphSpace()
    a = s.make(link=[0, 0, 1, 1], ops=["fc", "sage", "gat", "sage"])
    b = s.make(link=[0, 0, 0, 0], ops=["gat", "sage", "sage", "fc"])
    monkeypatch.setattr(GraphSpace, "edits", "every_form")
    every = s.neighbours(b)
    monkeypatch.setattr(GraphSpace, "edits", "canonical")
    old = s.neighbours(b)
    assert a in every and a not in old and every[: len(old)] == old and len(old) < len(every)
    assert s.space_id == "graph-70c5b6f2"
    monkeypatch.setattr(GraphSpace, "edits", "raw")
    with pytest.raises(InvalidParameterError, match="GraphSpace.edits must be 'every_form' or 'canonical'.*'raw'"):
        s.neighbours(b)
