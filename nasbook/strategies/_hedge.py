"""``Portfolio(bandit="hedge")``: GP-Hedge over strategies (Hoffman, Brochu & de Freitas, 2011).

Every ask, every arm nominates an architecture; one nominee is chosen with the Hedge probabilities
``p_i ~ exp(eta * G_i)``; the other nominees are withdrawn from their arms (they may nominate them
again). At the next ask, the shared surrogate, fitted on every trial told, scores every nominee of
the previous round, and EVERY arm's gain ``G_i`` grows by the rank of its nominee's predicted
value among the values told (in [0, 1]): the bandit learns from all arms at every step, not
from one pull per step.

``hedge_reward="round"`` ranks each nominee's prediction among the round's distinct nominees'
predictions instead (the surrogate's favourite earns 1, its last 0). ``hedge_distinct=True`` makes
arms that nominate the same architecture one option: its probability is that of the highest gain
among them, not their sum, and the arm with that gain is credited with the proposal.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbook._errors import SpaceExhausted
from nasbook.strategies._base import Proposal
from nasbook.trial import WAIT, Wait

if TYPE_CHECKING:
    from nasbook.predictors import BasePredictor
    from nasbook.space import Architecture
    from nasbook.strategies._portfolio import Portfolio


def hedge_probabilities(gains: np.ndarray, eta: float) -> np.ndarray:
    """``exp(eta * gains)`` normalised, computed stably."""
    z = float(eta) * np.asarray(gains, dtype=float)
    z = np.exp(z - z.max())
    return z / z.sum()  # type: ignore[no-any-return]


def _arch_of(asked: Any) -> Architecture:
    return asked.arch if isinstance(asked, Proposal) else asked


def _shared_model(pf: Portfolio, fitted: BasePredictor | None) -> BasePredictor | None:
    """The surrogate that judges the nominees: an arm's model fitted at this ask (a ``bo`` arm's),
    else the Portfolio's own (``strategies.BO``'s default forest) fitted on every trial told."""
    if fitted is not None:
        return fitted
    told = pf._hedge_told
    if len({s for _, s in told}) < 2:
        return None
    from nasbook.strategies._bo import default_predictor

    model = default_predictor(pf.space_)
    model.seed = int(pf.rng_.integers(2**31))
    return model.fit([a for a, _ in told], [s for _, s in told], space=pf.space_)


def reward_nominees(pf: Portfolio, fitted: BasePredictor | None) -> None:
    """Score last round's nominees with the shared surrogate and add every arm's reward to its gain."""
    from nasbook.strategies._portfolio import _rank_reward

    last = pf._hedge_last
    pf._hedge_last = {}
    if not last:
        return
    model = _shared_model(pf, fitted)
    if model is None:
        return
    names = list(last)
    means, _ = model.predict_mean_std([last[n] for n in names])
    pf.wins_ *= pf.discount
    pf.pulls_ *= pf.discount
    round_ = len(pf.history_)
    others = _round_means(names, [last[n] for n in names], means.tolist())
    for name, mean in zip(names, means.tolist()):
        i = pf._arm_names.index(name)
        ranks_against = others[name] if getattr(pf, "hedge_reward", "told") == "round" else pf._values
        r = _rank_reward(float(mean), ranks_against) if math.isfinite(mean) else 0.0
        pf.wins_[i] += r
        pf.pulls_[i] += 1.0
        pf.rewards_.append((round_, name, r))


def _round_means(names: list[str], archs: list[Architecture], means: list[float]) -> dict[str, list[float]]:
    """For each arm, the sorted finite predictions of the round's OTHER distinct nominees (``"round"``
    rewards rank against them; none: ``_rank_reward`` gives 0.5)."""
    distinct = {a.id: m for a, m in zip(archs, means) if math.isfinite(m)}
    return {n: sorted(m for aid, m in distinct.items() if aid != a.id) for n, a in zip(names, archs)}


def _choose(pf: Portfolio, names: list[str], nominees: dict[str, Any]) -> str:
    """The Hedge draw (one uniform from the bandit's stream): over the arms, or with ``hedge_distinct``
    over the distinct nominees, each weighted by the highest gain among the arms that nominated it."""
    idx = [pf._arm_names.index(n) for n in names]
    gains = (pf.wins_ + pf.prior_wins_)[idx]
    options = [[k] for k in range(len(names))]
    if getattr(pf, "hedge_distinct", False):
        by_arch: dict[str, list[int]] = {}
        for k, n in enumerate(names):
            by_arch.setdefault(_arch_of(nominees[n]).id, []).append(k)
        options = list(by_arch.values())
    best = [max(ks, key=lambda k: (gains[k], -k)) for ks in options]  # the credited arm of each option
    probs = hedge_probabilities(gains[best], pf.eta)
    k = min(int(np.searchsorted(np.cumsum(probs), pf.rng_.random() * probs.sum(), side="right")), len(best) - 1)
    return names[best[k]]


def hedge_propose(pf: Portfolio) -> tuple[str, Any] | Wait:
    """One GP-Hedge round: every arm nominates, the nominees of the last round are rewarded, one
    nominee is chosen (returned with its arm's name); the others are withdrawn from their arms."""
    nominees: dict[str, Any] = {}
    fitted: BasePredictor | None = None
    waited = False
    for name, arm in pf.arms_.items():
        if name in pf.exhausted_:
            continue
        fits = getattr(arm, "n_fits_", None)
        try:
            asked = arm.ask()
        except SpaceExhausted:
            pf.exhausted_.add(name)
            continue
        if asked is WAIT:
            waited = True
            continue
        nominees[name] = asked
        if fitted is None and fits is not None and getattr(arm, "n_fits_", fits) > fits:
            fitted = getattr(arm, "predictor_", None)  # fitted on every trial told, at this ask
    if not nominees:
        if waited:
            return WAIT
        raise SpaceExhausted(f"every arm of {pf!r} has exhausted the space")
    if len(pf.arms_) > 1:  # one arm: nothing to choose, so no surrogate to fit for the gains
        reward_nominees(pf, fitted)
    name = _choose(pf, list(nominees), nominees)
    chosen = _arch_of(nominees[name])
    for other, asked in nominees.items():
        arch = _arch_of(asked)
        if other != name and arch.id != chosen.id:
            pf.arms_[other]._withdraw(arch)
    pf._hedge_last = {n: _arch_of(a) for n, a in nominees.items()}
    return name, nominees[name]
