"""The Growth strategy's decisions, without training: a small start, both growth moves used, the same
initial population for the from-scratch comparison, parents kept while a child is pending, and a
grown trial re-queued after an interruption growing again from its parent."""

from __future__ import annotations

from collections import Counter

import pytest

from nasbook.space import CellSpace, ChainSpace
from nasbook.strategies import Growth, Proposal
from nasbook.trial import Trial, TrialState

SPACE = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32), ops=("conv3x3", "conv1x1", "sepconv3x3"))


def _run(strategy, n, space=SPACE, ready=lambda number: True):
    """Ask and tell ``n`` times; a child scores its depth + widths (bigger is better, as growth hopes)."""
    strategy.setup(space, seed=3)
    asked = []
    for number in range(n):
        p = strategy.ask()
        p = p if isinstance(p, Proposal) else Proposal(p)
        asked.append(p)
        layers = p.arch.spec.get("layers", [])
        value = float(len(layers) + sum(w for _, w in layers) / 100) if layers else float(number)
        metrics = {"growth_ready": 1.0 if ready(number) else 0.0} if p.grow else {}
        strategy.tell(Trial(number, p.arch, TrialState.COMPLETE, value, metrics, lineage=p.lineage))
    return asked


def test_the_small_start_is_the_smallest_chains_and_both_moves_are_used():
    st = Growth(population_size=5, sample_size=3)
    asked = _run(st, 30)
    start = asked[:5]
    assert all(len(p.arch["layers"]) <= 2 and {w for _, w in p.arch["layers"]} == {8} for p in start)
    grown = [p for p in asked[5:] if p.grow]
    kinds = Counter(p.grow["move"]["kind"] for p in grown)
    assert kinds["deepen"] >= 5 and kinds["widen"] >= 5, kinds
    # plain mutations only once nothing in the population can grow (here: all at the largest size, late)
    assert len(grown) >= 0.8 * 25 and st.moves_used_["mutation"] == 25 - len(grown)
    assert all(p.grow for p in asked[5:20])
    assert max(len(p.arch["layers"]) for p in asked) == 4


def test_scratch_gets_the_same_initial_population_and_children_chosen_the_same_way():
    grown = _run(Growth(population_size=5, sample_size=3, start_epochs=2, child_epochs=2), 12)
    scratch = _run(Growth(population_size=5, sample_size=3, inherit=False), 12)
    assert [p.arch for p in grown[:5]] == [p.arch for p in scratch[:5]]
    assert all(p.epochs == 2 for p in grown) and all(p.epochs is None for p in scratch)
    assert all(p.grow is None and p.lineage for p in scratch[5:])  # growth moves, trained from scratch
    for p in scratch[5:]:  # each child is one growth move of its parent
        parent = scratch[p.lineage[0]].arch
        assert len(p.arch["layers"]) - len(parent["layers"]) in (0, 1)


def test_random_start_and_bad_start_values():
    asked = _run(Growth(population_size=8, sample_size=3, start="random"), 8)
    assert any(len(p.arch["layers"]) > 2 or {w for _, w in p.arch["layers"]} != {8} for p in asked)
    with pytest.raises(Exception, match="start"):
        Growth(start="tiny").setup(SPACE)


def test_a_parent_whose_seed_did_not_land_is_not_grown_from():
    st = Growth(population_size=3, sample_size=3, child_epochs=1)
    asked = _run(st, 12, ready=lambda number: False)  # every grown child's seed was culled
    grown = [p for p in asked if p.grow]
    seeded = {k for k, p in enumerate(asked) if p.grow}
    assert grown and not any(p.grow["from"] in seeded for p in grown)  # only networks without a seed are parents


def test_sparse_cells_start_small():
    space = CellSpace()
    asked = _run(Growth(population_size=4, sample_size=2), 4, space=space)
    full = max(sum(op != "none" for op in space.sample(__import__("numpy").random.default_rng(k))["edges"])
               for k in range(20))
    assert sum(sum(op != "none" for op in p.arch["edges"]) for p in asked) / 4 < full


def test_a_pending_childs_parent_keeps_its_checkpoint():
    st = Growth(population_size=2, sample_size=2, child_epochs=1)
    st.setup(SPACE, seed=0)
    for number in range(2):
        st.tell(Trial(number, st.ask(), TrialState.COMPLETE, float(number)))
    child = st.ask()
    parent = child.grow["from"]
    for number in range(2, 5):  # the parent ages out of the population while its child is still running
        st.tell(Trial(number, st._small(), TrialState.COMPLETE, 0.0))
    assert parent in st.checkpoints_needed()
    st.tell(Trial(9, child.arch, TrialState.FAILED, None, lineage=child.lineage))
    assert parent not in st.checkpoints_needed()


def test_a_grown_trial_is_stored_with_what_it_grows_from_and_requeued_as_it_was():
    from nasbook.search._loop import requeued_proposal, running_trial

    st = Growth(population_size=2, sample_size=2, child_epochs=1)
    st.setup(SPACE, seed=0)
    for number in range(2):
        st.tell(Trial(number, st.ask(), TrialState.COMPLETE, float(number)))
    child = st.ask()
    stored = running_trial(7, child, 2, TrialState.QUEUED)
    assert stored.attrs["grow"] == dict(child.grow)
    again = requeued_proposal(stored)
    assert again.grow == dict(child.grow) and again.epochs == 1 and again.lineage == child.lineage


@pytest.mark.slow
def test_an_interrupted_grown_trial_grows_from_its_parent_after_a_resume(tmp_path):
    pytest.importorskip("lightning")
    from nasbook.search import Search, load_search
    from nasbook.tasks import Digits

    space = ChainSpace(kind="mlp", max_depth=3, widths=(16, 32), ops=("relu", "tanh"))

    class Interrupting(Digits):
        calls = 0

        def evaluate(self, arch, fidelity=None, **kw):
            if (fidelity or {}).get("grow") and not Interrupting.calls:
                Interrupting.calls += 1
                raise KeyboardInterrupt  # Ctrl-C while the first grown child trains
            return super().evaluate(arch, fidelity=fidelity, **kw)

    task = Interrupting(max_epochs=2, lr=1e-2)
    path = tmp_path / "g.db"
    strategy = dict(population_size=2, sample_size=2, child_epochs=2, blend_length=4, gate_tolerance=0.5)
    with pytest.raises(KeyboardInterrupt):
        Search(space, task, strategy=Growth(**strategy), budget=3, seed=0, storage=path, name="g").run(progress="none")
    resumed = load_search("g", path, task=Digits(max_epochs=2, lr=1e-2), space=space, strategy=Growth(**strategy),
                          allow_changes=True)  # the same data, without the interruption
    resumed.run(progress="none")
    (child,) = [t for t in resumed.trials if t.number == 2]
    assert child.attrs["grow"]["from"] in (0, 1)
    assert "growth_ready" in child.metrics and child.epochs == 2  # grown from the parent's checkpoint, not from scratch
