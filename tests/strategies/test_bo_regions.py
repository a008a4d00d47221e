"""BO's multiple candidate regions (``regions=k``): contract, exact resume, behaviour, errors."""


import numpy as np
import pytest
from bo_helpers import cheap, cut_and_resume

from nasbook._errors import InvalidParameterError
from nasbook.space import PROTEINS_OPS, ChainSpace, GraphSpace
from nasbook.strategies import BO
from nasbook.strategies._bo_regions import ball, basin_centres
from nasbook.testing import StrategyContract
from nasbook.testing._toy import ToyTask
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=PROTEINS_OPS)


class TestBORegions(StrategyContract):
    n_trials = 30

    @pytest.fixture
    def strategy(self):
        return cheap(regions=3)


class TestBORegionsOnChains(StrategyContract):  # not enumerated: region 0 is the pool
    n_trials = 20

    @pytest.fixture
    def space(self):
        return ChainSpace(kind="mlp", max_depth=3)

    @pytest.fixture
    def strategy(self):
        return cheap(regions=2, candidates="pool", n_candidates=60)


def _run(strategy, n, task, seed=0):
    s = strategy.setup(SPACE, seed=seed)
    for i in range(n):
        a = s.ask()
        s.tell(Trial(i, a, TrialState.COMPLETE, task.evaluate(a).value))
    return s


def test_ball_is_everything_within_radius_edits():
    a = SPACE.sample(np.random.default_rng(0))
    one = ball(SPACE, [a], 1)
    assert set(one) == {a.id} | {b.id for b in SPACE.neighbours(a)}
    two = ball(SPACE, [a], 2)
    assert set(one) < set(two)
    assert set(two) == set(one) | {c.id for b in SPACE.neighbours(a) for c in SPACE.neighbours(b)}


def test_basin_centres_are_best_first_and_more_than_radius_apart():
    task = ToyTask(SPACE, seed=3)
    s = _run(cheap(n_initial=30), 30, task)  # 30 random architectures told
    ranked = [a for a, _ in sorted(s._told, key=lambda t: -t[1])]
    centres = basin_centres(SPACE, ranked, 3, 1)
    assert centres[0].id == ranked[0].id and len(centres) >= 2
    for i, c in enumerate(centres):
        assert all(c.id not in ball(SPACE, [e], 1) for e in centres[:i])
        # every better-ranked architecture is within 1 edit of an earlier centre
        better = ranked[: ranked.index(c)]
        assert all(any(b.id in ball(SPACE, [e], 1) for e in centres[:i]) for b in better)


def test_region_asks_come_from_the_ball_of_another_basin():
    task = ToyTask(SPACE, seed=3)
    s = _run(cheap(regions=2, radius=1), 15, task)
    s.n_asked_ = 16  # the next ask is the 17th: 17 % 2 = 1, region 1
    region = s._basin_region(1)
    ranked = [a for a, _ in sorted(s._told, key=lambda t: -t[1])]
    second = basin_centres(SPACE, ranked, 2, 1)[1]
    assert region and {a.id for a in region} == {i for i in ball(SPACE, [second], 1) if i not in s.seen_}
    assert s.ask().id in {a.id for a in region}


def test_regions_one_is_the_default_behaviour():
    task = ToyTask(SPACE, seed=3)
    a = _run(cheap(), 20, task)
    b = _run(cheap(regions=1), 20, task)
    assert [x.id for x, _ in a._told] == [x.id for x, _ in b._told]
    c = _run(cheap(regions=3), 20, task)
    assert [x.id for x, _ in c._told] != [x.id for x, _ in a._told]


def test_resume_with_regions_is_exact(tmp_path):
    full, resumed = cut_and_resume(tmp_path, SPACE, lambda: cheap(regions=3), budget=24, stop_at=13)  # after some region asks
    assert resumed.strategy.regions == 3
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_bad_regions_name_themselves(bad):
    with pytest.raises(InvalidParameterError, match=r"regions"):
        BO(regions=bad).setup(SPACE, seed=0)
