"""OptunaSampler on a table (SubsetSpace): a non-member proposal is projected onto the nearest UNSEEN
members at whatever distance (``project_unseen=True``), not only onto the nearest members
(docs/benchmarks.md 1m, 1o); and ``SubsetSpace.nearest_to(arch, exclude=...)``, which it uses."""

import json
import sqlite3
import warnings

import numpy as np
import pytest
from optuna_helpers import fixed_sampler
from strategy_helpers import cut_and_full

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.search import Search, load_search
from nasbook.strategies import OptunaSampler
from nasbook.testing._contract import _drive
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState


def _optuna():
    return pytest.importorskip("optuna")


def _space(name):
    from nasbook.tasks import DigitsTable, MNIST1DTable

    return {"digits": DigitsTable, "mnist1d": MNIST1DTable}[name]().space


def _jaccard(space, a):
    parent = space.parent
    codes = parent.encode_many([space.to_parent(m) for m in space.members], "adjacency") > 0.5
    x = parent.encode_many([a], "adjacency")[0] > 0.5
    return 1.0 - (codes & x).sum(axis=1) / (codes | x).sum(axis=1)


def _non_member(space, rng):
    a = space.parent.sample(rng)
    while a.id in space.ids:
        a = space.parent.sample(rng)
    return a


# -- SubsetSpace.nearest_to(arch, exclude=...) ------------------------------------------------------------
@pytest.mark.parametrize("table", ["digits", "mnist1d"])
def test_nearest_to_with_exclude_gives_the_nearest_of_the_other_members_at_any_distance(table):
    space = _space(table)
    rng = np.random.default_rng(100)
    for _ in range(4):
        a = _non_member(space, rng)
        jac = _jaccard(space, a)
        assert space.nearest_to(a, exclude=()) == space.nearest_to(a)  # nothing excluded: the contract as before
        order = np.argsort(jac, kind="stable")
        excluded = {space.members[j].id for j in order[:25]}  # the 25 nearest, so some rings are all gone
        rest = np.array([j for j in range(len(space.members)) if space.members[j].id not in excluded])
        want = [int(j) for j in rest[np.isclose(jac[rest], jac[rest].min())]]
        assert space.nearest_to(a, exclude=excluded) == want
        assert jac[want[0]] > min(jac)  # farther than the nearest ring


def test_nearest_to_an_excluded_member_leaves_it_out_and_all_excluded_gives_none():
    space = _space("digits")
    member = space.to_parent(space.members[7])
    assert space.nearest_to(member, exclude={"not-an-id"}) == [7]
    jac = _jaccard(space, member)
    jac[7] = np.inf
    assert space.nearest_to(member, exclude={space.members[7].id}) == [int(j) for j in np.flatnonzero(np.isclose(jac, jac.min()))]
    assert space.nearest_to(member, exclude=set(space.ids)) == []
    with pytest.raises(InvalidParameterError, match="collection of member ids"):
        space.nearest_to(member, exclude=space.members[7].id)  # a bare id string: a likely slip, refused


# -- OptunaSampler(project_unseen=...) ---------------------------------------------------------------------
def test_a_proposal_whose_nearest_members_are_seen_is_projected_further_out_not_retried():
    """A sampler that proposes the same non-member every time: each ask is answered by the nearest
    member not yet seen, ring after ring; none ends in the fallback. With ``project_unseen=False`` (1m)
    the asks after the nearest ring is used up are fallbacks."""
    optuna = _optuna()
    space = _space("mnist1d")
    proposal = _non_member(space, np.random.default_rng(101))
    params = {k: v for k, (_, v) in space.parent.parameters_of(proposal).items()}
    jac = _jaccard(space, proposal)
    n = 8
    rings = np.unique(jac)
    assert (jac <= rings[0] + 1e-9).sum() < n  # the nearest ring alone cannot answer n asks
    for unseen in (True, False):
        strategy = OptunaSampler(fixed_sampler(optuna, lambda name, choices: params[name]), max_retries=2,
                                 project_unseen=unseen)
        strategy.setup(space, seed=0)
        got = []
        for number in range(n):
            arch = strategy.ask()
            got.append(arch.id)
            strategy.tell(Trial(number, arch, TrialState.COMPLETE, 0.5))
        assert len(set(got)) == n
        if unseen:
            assert strategy.n_fallbacks_ == 0 and strategy.n_projected_ == n
            d = [jac[space.index(i)] for i in got]
            assert d == sorted(d) and np.isclose(d[-1], np.sort(jac)[n - 1])  # nearest first, ring after ring
            # every proposal told FAIL under its own parameters; the members added under theirs
            assert all(t.state == optuna.trial.TrialState.FAIL for t in strategy.study_.trials if t.params == params)
        else:
            assert strategy.n_fallbacks_ == n - int((jac <= rings[0] + 1e-9).sum()) > 0


def test_on_mnist1d_tpe_asks_seldom_end_in_the_fallback():
    """With projection onto the nearest members only (1m), 3 of 4 of TPE's asks on MNIST-1D ended in
    the fallback (their nearest members all seen); projected onto the nearest unseen, few do."""
    optuna = _optuna()
    space = _space("mnist1d")
    task = ToyTask(space, seed=3)
    n = 40
    on = OptunaSampler(optuna.samplers.TPESampler(seed=100), max_retries=5, project_unseen=True)
    ids = [a for a, _ in _drive(on, space, task, n, seed=100)]
    assert len(set(ids)) == n and all(i in space.ids for i in ids)
    assert on.n_fallbacks_ <= n // 10 and on.n_projected_ >= n // 2
    off = OptunaSampler(optuna.samplers.TPESampler(seed=100), max_retries=5, project_unseen=False)
    _drive(off, space, task, n, seed=100)
    assert off.n_fallbacks_ >= n // 3
    assert _drive(on.clone(), space, task, n, seed=100) == [(i, None) for i in ids]  # seeded: deterministic


def test_project_unseen_is_a_bool_and_is_stored():
    _optuna()
    with pytest.raises(InvalidParameterTypeError, match=r"project_unseen=...\) must be True or False"):
        OptunaSampler(project_unseen="yes").setup(_space("digits"), seed=0)
    assert OptunaSampler().to_config()["params"]["project_unseen"] is False  # the default: 1m's projection
    assert OptunaSampler(project_unseen=True).to_config()["params"]["project_unseen"] is True


def test_a_search_projecting_onto_unseen_members_resumes_exactly(tmp_path):
    _optuna()
    full, path, task = cut_and_full(tmp_path, OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}, max_retries=3,
                                                             project_unseen=True), _space("mnist1d"), budget=40)
    off = Search(task.space, task, strategy=OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}, max_retries=3,
                                                          project_unseen=False),
                 budget=40, seed=4, storage=":memory:").run(progress="none")
    assert [t.arch.id for t in off.trials] != [t.arch.id for t in full.trials]  # the option matters on this search
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = load_search("cut", path, task=task)
        assert resumed.strategy.project_unseen is True
        resumed.run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert (resumed.strategy.n_projected_, resumed.strategy.n_fallbacks_) == (full.strategy.n_projected_,
                                                                              full.strategy.n_fallbacks_)


def test_a_search_stored_before_project_unseen_resumes_as_it_ran(tmp_path):
    """A configuration stored by 1m's nasbook holds ``project: True`` and no ``project_unseen``:
    ``load_search`` rebuilds it with ``project_unseen=False`` (``OptunaSampler.stored_defaults``, so it
    holds should the default change), and it goes on projecting onto the nearest members only, exactly
    as it would have."""
    _optuna()
    old = OptunaSampler("tpe", sampler_params={"n_startup_trials": 5}, max_retries=3, project_unseen=False)
    full, path, task = cut_and_full(tmp_path, old, _space("mnist1d"), budget=40)
    with sqlite3.connect(path) as conn:  # what 1m's nasbook stored: project, no project_unseen
        (raw,) = conn.execute("SELECT config FROM nasbook_searches WHERE name = 'cut'").fetchone()
        config = json.loads(raw)
        assert config["strategy"]["params"]["project"] is True
        del config["strategy"]["params"]["project_unseen"]
        conn.execute("UPDATE nasbook_searches SET config = ? WHERE name = 'cut'", (json.dumps(config),))
    assert OptunaSampler.stored_defaults["project_unseen"] is False  # not the current default: the stored one
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ReproducibilityWarning fails the test
        resumed = load_search("cut", path, task=task)
        assert resumed.strategy.project is True and resumed.strategy.project_unseen is False
        resumed.run(progress="none")
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
    assert resumed.strategy.n_fallbacks_ == full.strategy.n_fallbacks_ > 0
