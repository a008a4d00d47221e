"""The shipped Digits learning-curve table, SubsetSpace and DigitsTable (fast: table look-ups only)."""

from __future__ import annotations

import json
import pickle
from importlib import resources

import numpy as np
import pytest

from nasbook import Search
from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.search import Budget, TrialState
from nasbook.space import CellSpace
from nasbook.space._subset import SubsetSpace
from nasbook.strategies import ASHA, Hyperband, RegularizedEvolution
from nasbook.tasks import Decision
from nasbook.tasks._table import CURVE_NAMES, DigitsTable, load_digits_table


@pytest.fixture(scope="module")
def task() -> DigitsTable:
    return DigitsTable()


def _files():
    return resources.files("nasbook") / "_data"


# -- the shipped files ------------------------------------------------------------------------------
def test_table_files_load_without_pickle_and_are_consistent():
    doc = json.loads((_files() / "digits_cells.json").read_text())
    with (_files() / "digits_cells.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    n, k, e = len(doc["ids"]), len(doc["seeds"]), int(doc["epochs"])
    assert n >= 50 and k >= 1 and e >= 3
    assert len(doc["specs"]) == n == len(set(doc["ids"]))
    for name in CURVE_NAMES:
        assert arrays[name].shape == (n, k, e) and arrays[name].dtype == np.float32
        assert np.isfinite(arrays[name]).all()
    for name in ("test_accuracy", "train_time_s"):
        assert arrays[name].shape == (n, k) and np.isfinite(arrays[name]).all()
    assert arrays["n_params"].shape == arrays["flops"].shape == (n,)
    assert (arrays["n_params"] > 0).all() and (arrays["flops"] > 0).all()
    va = arrays["val_accuracy"]
    assert ((va >= 0) & (va <= 1)).all()
    assert len((_files() / "digits_cells.npz").read_bytes()) < 5_000_000


def test_every_spec_recanonicalizes_to_its_id_in_cellspace():
    doc = json.loads((_files() / "digits_cells.json").read_text())
    space = CellSpace()
    assert doc["space"]["space_id"] == space.space_id
    for arch_id, spec in zip(doc["ids"], doc["specs"]):
        arch = space.make(**spec)
        assert arch.id == arch_id
        assert arch.spec == spec  # stored in canonical form


# -- SubsetSpace ----------------------------------------------------------------------------------------
def test_subset_moves_stay_in_subset(task, rng):
    sub = task.space
    assert isinstance(sub, SubsetSpace) and sub.cardinality == task.table.n_archs
    ids = set(sub.ids)
    n_with_nbrs = 0
    for _ in range(40):
        a = sub.sample(rng)
        assert a in sub and a.id in ids and a.space_id == sub.space_id
        m = sub.mutate(a, rng)
        assert m in sub and m != a
        nbrs = sub.neighbours(a)
        n_with_nbrs += bool(nbrs)
        ids_n = {x.id for x in nbrs}
        assert all(x in sub for x in nbrs) and a.id not in ids_n and m.id in ids_n
        # the parent's neighbours that are members are kept; the others are projected onto members
        assert {x.id for x in sub.parent.neighbours(sub.to_parent(a))} & ids <= ids_n
    assert n_with_nbrs == 40
    assert sub.encode(a).shape == (sub.encoding_size(),)
    np.testing.assert_array_equal(sub.encode(a), sub.parent.encode(sub.to_parent(a)))


def test_subset_identity_membership_and_pickling(rng):
    parent = CellSpace()
    archs = []
    while len(archs) < 6:
        a = parent.sample(rng)
        if a not in archs:
            archs.append(a)
    sub = SubsetSpace(parent, archs)
    assert sub.space_id.startswith("subset-") and sub.space_id != parent.space_id
    assert SubsetSpace(parent, [a.to_dict() for a in reversed(archs)]) == sub  # order does not change identity
    assert archs[0] not in sub  # the parent's version is another space's architecture
    with pytest.raises(InvalidArchitectureError, match="from_parent"):
        sub.validate(archs[0])
    member = sub.from_parent(archs[0])
    assert member in sub and member.id == archs[0].id and sub.to_parent(member) == archs[0]
    assert sub.make(**archs[1].spec) == sub.members[1]
    outside = next(a for a in (parent.sample(rng) for _ in range(1000)) if a.id not in sub.ids)
    with pytest.raises(InvalidArchitectureError, match="not one of the 6"):
        sub.make(**outside.spec)
    back = pickle.loads(pickle.dumps(sub))
    assert back == sub and back.sample(rng) in sub
    assert pickle.loads(pickle.dumps(member)) in sub
    with pytest.raises(InvalidParameterError, match="twice"):
        SubsetSpace(parent, [archs[0], archs[0]])
    with pytest.raises(InvalidParameterError):
        SubsetSpace(parent, [])
    one = SubsetSpace(parent, archs[:1])
    with pytest.raises(InvalidArchitectureError):
        one.mutate(one.members[0], rng)
    # six cells of 8,764 share no parent move: every move is projected onto a member, never onto itself
    for a in sub.members:
        nbrs = {x.id for x in sub.neighbours(a)}
        assert nbrs and a.id not in nbrs
        for _ in range(5):
            m = sub.mutate(a, rng)
            assert m != a and m.id in nbrs


# -- DigitsTable -----------------------------------------------------------------------------------------
def test_evaluate_at_various_epochs(task):
    table = task.table
    E = task.max_epochs
    a = task.space.members[3]
    for e in (1, 2, E):
        res = task.evaluate(a, fidelity={"epochs": e})
        assert res.epochs == e and res.attrs["epochs_run"] == e
        for name in CURVE_NAMES:
            assert len(res.curves[name]) == e
            expect = table.curves[name][3, :, :e].astype(np.float64).mean(axis=0)
            np.testing.assert_allclose(res.curves[name], expect, rtol=1e-6)
        assert res.value == pytest.approx(res.curves["val_accuracy"][-1])
        assert res.attrs["test_accuracy"] == pytest.approx(float(table.test_accuracy[3].astype(np.float64).mean()))
        assert res.attrs["train_time_s"] == pytest.approx(float(table.train_time_s[3].astype(np.float64).mean()) * e / E)
        assert res.attrs["n_params"] == int(table.n_params[3])
    assert task.evaluate(a).epochs == E  # no fidelity: the whole table
    one = DigitsTable(seed=table.seeds[-1])
    assert one.evaluate(a).value == pytest.approx(float(table.curves["val_accuracy"][3, -1, -1]))
    best, v = task.optimum()
    assert v == pytest.approx(task.values().max()) and task.evaluate(best).value == pytest.approx(v)
    assert task.optimum(2)[1] == pytest.approx(task.values(2).max())


def test_continuation_runs_only_the_extra_epochs(task):
    a = task.space.members[0]
    E = task.max_epochs
    first = task.evaluate(a, fidelity={"epochs": 1})
    cont = task.evaluate(a, fidelity={"epochs": E, "checkpoint": first.checkpoint})
    whole = task.evaluate(a, fidelity={"epochs": E})
    assert cont.attrs["epochs_run"] == E - 1 and cont.epochs == E
    assert cont.curves == whole.curves and cont.value == whole.value
    assert cont.attrs["train_time_total_s"] == pytest.approx(whole.attrs["train_time_s"])
    with pytest.raises(InvalidParameterError, match="at least"):
        task.evaluate(a, fidelity={"epochs": 1, "checkpoint": cont.checkpoint})
    with pytest.raises(InvalidParameterError, match="written for architecture"):
        task.evaluate(task.space.members[1], fidelity={"epochs": E, "checkpoint": first.checkpoint})
    with pytest.raises(InvalidParameterError, match="not a checkpoint"):
        task.evaluate(a, fidelity={"epochs": E, "checkpoint": b"junk"})


def test_report_and_stop(task):
    a = task.space.members[2]
    seen = []

    def report(epoch, **metrics):
        seen.append((epoch, sorted(metrics)))
        return Decision.STOP if epoch == 1 else Decision.CONTINUE

    res = task.evaluate(a, fidelity={"epochs": task.max_epochs}, report=report)
    assert [e for e, _ in seen] == [0, 1] and seen[0][1] == sorted(CURVE_NAMES)
    assert res.epochs == 2 and len(res.curves["val_accuracy"]) == 2


def test_bad_epochs_and_params(task):
    a = task.space.members[0]
    E = task.max_epochs
    for bad in (0, E + 1, 2.5, True):
        with pytest.raises(InvalidParameterError, match=f"from 1 to {E}"):
            task.evaluate(a, fidelity={"epochs": bad})
    with pytest.raises(InvalidParameterError, match="unknown key"):
        task.evaluate(a, fidelity={"epoch": 2})
    with pytest.raises(InvalidParameterError, match="training seeds"):
        DigitsTable(seed=99).evaluate(a)
    with pytest.raises(InvalidParameterError, match="from 1 to"):
        task.values(E + 1)


def test_arch_not_in_table(task, rng):
    parent = CellSpace()
    outside = next(a for a in (parent.sample(rng) for _ in range(1000)) if a.id not in task.space.ids)
    with pytest.raises(InvalidArchitectureError, match="not in DigitsTable's table"):
        task.evaluate(outside)
    inside = task.space.to_parent(task.space.members[5])  # the parent's version of a tabulated arch works
    assert task.evaluate(inside).value == task.evaluate(task.space.members[5]).value
    other = SubsetSpace(parent, [outside])
    with pytest.raises(InvalidArchitectureError):
        task.evaluate(other.members[0])


def test_task_pickles_and_describes_itself(task):
    back = pickle.loads(pickle.dumps(DigitsTable(seed=0)))
    assert back.seed == 0 and back.space == task.space
    assert task.to_config()["class"] == "DigitsTable" and task.has_epochs
    assert load_digits_table() is load_digits_table()  # loaded once per process


# -- searches --------------------------------------------------------------------------------------------
def test_asha_search_with_epoch_budget(task):
    E = task.max_epochs
    search = Search(task, strategy=ASHA(min_epochs=1, max_epochs=E, eta=3), budget=Budget(epochs=60), seed=0,
                    storage=":memory:").run()
    assert 60 - E < search.epochs_spent <= 60  # never exceeded; short of it by less than the next trial's epochs
    assert sum(t.attrs["epochs_run"] for t in search.trials) == search.epochs_spent
    promoted = [t for t in search.trials if t.parent is not None]
    assert promoted and all(t.attrs["epochs_run"] == t.epochs - search.trials[t.parent].epochs for t in promoted)
    assert all(t.state is TrialState.COMPLETE and t.arch in task.space for t in search.trials)


def test_hyperband_and_evolution_search(task):
    E = task.max_epochs
    hb = Search(task, strategy=Hyperband(base=RegularizedEvolution(population_size=5, sample_size=2), max_epochs=E),
                budget=Budget(epochs=80), seed=1, storage=":memory:").run()
    assert 80 - E < hb.epochs_spent <= 80 and any(t.epochs == E for t in hb.trials)
    ev = Search(task, strategy=RegularizedEvolution(population_size=5, sample_size=2), budget=20, seed=2,
                storage=":memory:").run()
    assert len({t.arch.id for t in ev.trials}) == 20 and all(t.epochs == E for t in ev.trials)


@pytest.mark.parametrize("cls_name", ["DigitsTable", "MNIST1DTable"])
def test_the_constructor_refuses_bad_parameters_naming_them(cls_name, tmp_path):
    """A bad seed or path was accepted and failed only when a trial or Search checked the task."""
    from nasbook._errors import InvalidParameterTypeError
    from nasbook.tasks import MNIST1DTable

    cls = {"DigitsTable": DigitsTable, "MNIST1DTable": MNIST1DTable}[cls_name]
    seeds = cls().table.seeds
    with pytest.raises(InvalidParameterError, match=rf"^{cls_name}\(seed=\.\.\.\) must be 'mean' or one of the table's training seeds \[0, 1\]; got 7\.$"):
        cls(seed=7)
    with pytest.raises(InvalidParameterError, match=rf"{cls_name}\(seed=\.\.\.\) must be 'mean' or an int.*got 'Mean' \(did you mean 'mean'\?\)"):
        cls(seed="Mean")
    with pytest.raises(InvalidParameterError, match=r"training seeds; got 'avg'\.$"):
        cls(seed="avg")
    for bad in (1.0, True, None, [0]):
        with pytest.raises(InvalidParameterTypeError, match=rf"{cls_name}\(seed=\.\.\.\) must be 'mean' or an int.*got .* of type {type(bad).__name__}"):
            cls(seed=bad)
    with pytest.raises(InvalidParameterTypeError, match=rf"{cls_name}\(path=\.\.\.\) must be a str.*or None.*got 3 of type int"):
        cls(path=3)
    with pytest.raises(InvalidParameterError, match=rf"{cls_name}\(path=.*nothing'\) must be the prefix.*no such file: .*nothing\.npz"):
        cls(path=str(tmp_path / "nothing"))
    with pytest.raises(InvalidParameterTypeError, match=r"got an unexpected keyword argument 'sed' \(did you mean 'seed'\?\)"):
        cls(sed=0)
    task = cls(seed=np.int64(seeds[-1]))  # numpy ints are kept as plain ints: the config is the task's identity
    assert type(task.seed) is int and task.seed == seeds[-1] and cls(seed="mean").seed == "mean"
    task.seed = 99  # changed after construction: checked again
    with pytest.raises(InvalidParameterError, match="training seeds"):
        task.check()
