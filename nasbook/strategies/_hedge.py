"""``Portfolio(bandit="hedge")``: GP-Hedge over strategies (Hoffman, Brochu & de Freitas, 2011).

Every ask, every arm nominates an architecture; one nominee is chosen with the Hedge probabilities
``p_i ~ exp(eta * G_i)``; the other nominees are withdrawn from their arms (they may nominate them
again). At the next ask, the shared surrogate, fitted on every trial told, scores every nominee of
the previous round, and EVERY arm's gain ``G_i`` grows by the rank of its nominee's predicted
value among the values told (in [0, 1]): the bandit learns from all arms at every step, not
from one pull per step.
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
    for name, mean in zip(names, means.tolist()):
        i = pf._arm_names.index(name)
        r = _rank_reward(float(mean), pf._values) if math.isfinite(mean) else 0.0
        pf.wins_[i] += r
        pf.pulls_[i] += 1.0
        pf.rewards_.append((round_, name, r))


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
    names = list(nominees)
    idx = [pf._arm_names.index(n) for n in names]
    probs = hedge_probabilities((pf.wins_ + pf.prior_wins_)[idx], pf.eta)
    k = min(int(np.searchsorted(np.cumsum(probs), pf.rng_.random() * probs.sum(), side="right")), len(names) - 1)
    name = names[k]
    chosen = _arch_of(nominees[name])
    for other, asked in nominees.items():
        arch = _arch_of(asked)
        if other != name and arch.id != chosen.id:
            pf.arms_[other]._withdraw(arch)
    pf._hedge_last = {n: _arch_of(a) for n, a in nominees.items()}
    return name, nominees[name]
