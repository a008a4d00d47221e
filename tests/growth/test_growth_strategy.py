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
        value += 0.01 * (p.epochs or 6)  # training longer helps a little
        strategy.tell(Trial(number, p.arch, TrialState.COMPLETE, value, metrics, epochs=p.epochs or 6, parent=p.parent,
                            lineage=p.lineage))
    return asked


def test_the_small_start_is_the_smallest_chains_and_both_moves_are_used():
    st = Growth(population_size=5, sample_size=3, choice="uniform", train_more=False)
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
    grown = _run(Growth(population_size=5, sample_size=3, start_epochs=2, child_epochs=2, patience=1), 12)
    scratch = _run(Growth(population_size=5, sample_size=3, inherit=False), 12)
    assert [p.arch for p in grown[:5]] == [p.arch for p in scratch[:5]]
    assert all(p.epochs == 2 for p in grown) and all(p.epochs is None for p in scratch)
    assert all(p.grow is None and p.lineage for p in scratch[5:])  # growth moves, trained from scratch
    for p in scratch[5:]:  # each child is one growth move of its parent
        parent = scratch[p.lineage[0]].arch
        assert len(p.arch["layers"]) - len(parent["layers"]) in (0, 1)


def test_capacity_choice_widens_a_narrow_chain_to_the_widest_width_before_deepening_it():
    st = Growth(population_size=5, sample_size=3, train_more=False)  # choice="capacity" is the default
    asked = _run(st, 30)
    grown = [p for p in asked if p.grow]
    assert Counter(p.grow["move"]["kind"] for p in grown).keys() == {"deepen", "widen"}
    seen, checked = set(), 0
    for p in asked:
        before = set(seen)
        seen.add(p.arch)
        if not p.grow:
            continue
        parent = asked[p.grow["from"]].arch
        widths = [w for _, w in parent["layers"]]
        move = p.grow["move"]
        preferred = [SPACE.make(layers=[[o, 32 if k == j else w] for k, (o, w) in enumerate(parent["layers"])])
                     for j, w in enumerate(widths) if w == min(widths) < 32]
        if preferred and all(c in before for c in preferred):
            continue  # seen already: the next move in the order (checked below)
        checked += 1
        if move["kind"] == "widen":  # straight to the widest width, the narrowest layer first
            assert move["width"] == 32 and widths[move["layer"]] == min(widths), (widths, move)
        else:  # deepens only a chain that is wide everywhere: the new layer is wide too
            assert min(widths) == 32, (widths, move)
            assert p.arch["layers"][move["position"]][1] == 32
    assert checked >= 15
    # the uniform rule deepens narrow chains as well: 8-channel layers added by deepen
    uniform = _run(Growth(population_size=5, sample_size=3, choice="uniform"), 30)
    assert any(p.grow["move"]["kind"] == "deepen" and min(w for _, w in uniform[p.grow["from"]].arch["layers"]) < 32
               for p in uniform if p.grow)


def test_capacity_choice_falls_to_the_next_move_when_the_preferred_child_was_seen():
    st = Growth(population_size=2, sample_size=2)
    st.setup(SPACE, seed=0)
    parent = SPACE.make(layers=[["conv3x3", 8], ["conv1x1", 16]])
    from nasbook.growth import growth_moves

    moves = growth_moves(SPACE, parent)
    assert st._choose(parent, moves).params == {"layer": 0, "width": 32}
    no_narrowest = [m for m in moves if m.params != {"layer": 0, "width": 32}]
    assert st._choose(parent, no_narrowest).params == {"layer": 1, "width": 32}
    only_small = [m for m in moves if m.kind == "deepen" or m.params.get("width") == 16]
    assert st._choose(parent, only_small).params == {"layer": 0, "width": 16}  # no layer is widest: widen first
    assert st._choose(parent, [m for m in only_small if m.kind == "deepen"]).kind == "deepen"
    wide_last = SPACE.make(layers=[["conv3x3", 8], ["conv1x1", 32]])
    moves = [m for m in growth_moves(SPACE, wide_last) if m.params != {"layer": 0, "width": 32}]
    for _ in range(10):  # the narrow layer's widening was seen: a deepen after the wide layer, which is wide too
        move = st._choose(wide_last, moves)
        assert move.kind == "deepen" and move.params["position"] == 2 and move.child["layers"][2][1] == 32
    with pytest.raises(Exception, match="choice"):
        Growth(choice="biggest").setup(SPACE)


def test_a_winner_that_cannot_grow_trains_longer_from_its_checkpoint_and_takes_its_place():
    st = Growth(population_size=5, sample_size=3, start_epochs=2, child_epochs=2, patience=1)  # train_more=True: the default
    asked = _run(st, 40)
    more = [(k, p) for k, p in enumerate(asked) if p.parent is not None]
    assert more and st.moves_used_["train"] == len(more) and st.moves_used_["mutation"] == 0
    for _, p in more:  # the same network, 2 epochs beyond what its parent's checkpoint holds
        parent = asked[p.parent]
        assert p.arch == parent.arch and p.grow is None and p.lineage == (p.parent,)
        assert len(p.arch["layers"]) == 4 and {w for _, w in p.arch["layers"]} == {32}  # as large as the space allows
        assert p.epochs == (parent.epochs or 0) + 2
    # a continued trial replaces its parent: no architecture twice in the population
    archs = [m[1] for m in st.population_]
    assert len(archs) == len(set(archs))
    assert any(p.epochs > 4 for _, p in more)  # continued more than once
    # checkpoints kept: the population's, and a member's while it is being trained longer
    st.continuing_[999] = 8
    assert 999 in st.checkpoints_needed()
    # scratch (inherit=False) mutates such a winner instead: every trial trains from scratch
    scratch = _run(Growth(population_size=5, sample_size=3, inherit=False), 40)
    assert all(p.parent is None and p.epochs is None for p in scratch)
    with pytest.raises(Exception, match="train_more"):
        Growth(train_more="yes").setup(SPACE)


def test_without_train_more_only_growable_members_enter_the_tournament():
    st = Growth(population_size=5, sample_size=3, start_epochs=2, child_epochs=2, patience=1, train_more=False)
    asked = _run(st, 40)
    assert all(p.parent is None for p in asked) and st.moves_used_["train"] == 0


def test_random_start_and_bad_start_values():
    asked = _run(Growth(population_size=8, sample_size=3, start="random"), 8)
    assert any(len(p.arch["layers"]) > 2 or {w for _, w in p.arch["layers"]} != {8} for p in asked)
    with pytest.raises(Exception, match="start"):
        Growth(start="tiny").setup(SPACE)


def test_a_parent_whose_seed_did_not_land_is_not_grown_from():
    st = Growth(population_size=3, sample_size=3, child_epochs=2, patience=1)
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
    st = Growth(population_size=2, sample_size=2, child_epochs=2, patience=1)
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

    st = Growth(population_size=2, sample_size=2, child_epochs=2, patience=1)
    st.setup(SPACE, seed=0)
    for number in range(2):
        st.tell(Trial(number, st.ask(), TrialState.COMPLETE, float(number)))
    child = st.ask()
    stored = running_trial(7, child, 2, TrialState.QUEUED)
    assert stored.attrs["grow"] == dict(child.grow)
    again = requeued_proposal(stored)
    assert again.grow == dict(child.grow) and again.epochs == 2 and again.lineage == child.lineage


@pytest.mark.slow
def test_an_interrupted_grown_trial_grows_from_its_parent_after_a_resume(tmp_path):
    pytest.importorskip("lightning")
    from nasbook.search import Search, load_search
    from nasbook.tasks import Digits

    # one width: the capacity rule has nothing to widen, so the child is a deepen with a soft-landing seed
    space = ChainSpace(kind="mlp", max_depth=3, widths=(32,), ops=("relu", "tanh"))

    class Interrupting(Digits):
        calls = 0

        def evaluate(self, arch, fidelity=None, **kw):
            if (fidelity or {}).get("grow") and not Interrupting.calls:
                Interrupting.calls += 1
                raise KeyboardInterrupt  # Ctrl-C while the first grown child trains
            return super().evaluate(arch, fidelity=fidelity, **kw)

    task = Interrupting(max_epochs=2, lr=1e-2)
    path = tmp_path / "g.db"
    strategy = dict(population_size=2, sample_size=2, child_epochs=2, patience=1, blend_length=4, gate_tolerance=0.5)
    with pytest.raises(KeyboardInterrupt):
        Search(space, task, strategy=Growth(**strategy), budget=3, seed=0, storage=path, name="g").run(progress="none")
    resumed = load_search("g", path, task=Digits(max_epochs=2, lr=1e-2), space=space, strategy=Growth(**strategy),
                          allow_changes=True)  # the same data, without the interruption
    resumed.run(progress="none")
    (child,) = [t for t in resumed.trials if t.number == 2]
    assert child.attrs["grow"]["from"] in (0, 1)
    assert "growth_ready" in child.metrics and child.epochs == 2  # grown from the parent's checkpoint, not from scratch
