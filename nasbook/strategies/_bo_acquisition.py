"""How :class:`~nasbook.strategies.BO` chooses among its candidates: the surrogate and the acquisition.

:class:`Acquisition` is a mixin of ``BO``: a model-based ask fits the surrogate on the scores told
(pending trials with a lie), predicts the candidates (:mod:`._bo_candidates`) in its latent
units and proposes the one with the highest expected improvement, upper confidence bound or
Thompson draw (:func:`best_candidate`: a random one where the acquisition is flat); :meth:`recommend` is the told architecture with the best fitted mean.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from nasbook.strategies._bo_warp import warp_scores

if TYPE_CHECKING:
    from nasbook.predictors import BasePredictor
    from nasbook.space import Architecture, SearchSpace


def best_candidate(acq: np.ndarray, rng: np.random.Generator) -> int:
    """The index of the highest acquisition (the first of tied maxima, as ``argmax``; NaN is never a maximum).

    A flat acquisition (every finite value equal, or none finite) says the surrogate tells the candidates
    apart not at all (e.g. one fitted on scores with no spread): ``argmax`` would then propose the first
    candidate listed, ask after ask, so the pick is a random one of them, drawn from the ask's own
    generator (seeded by one draw a resume replays), deterministic and exact on resume. An acquisition
    with a maximum draws nothing: its asks propose what they proposed before.
    """
    finite = np.isfinite(acq)
    if len(acq) < 2 or (finite.all() and acq.min() < acq.max()):
        return int(np.argmax(acq))
    valid = np.where(finite, acq, -np.inf)
    if finite.any() and (valid[finite] < valid.max()).any():
        return int(np.argmax(valid))
    pool = np.flatnonzero(finite) if finite.any() else np.arange(len(acq))
    return int(pool[rng.integers(len(pool))])


class Acquisition:
    """Mixin of :class:`~nasbook.strategies.BO`: fit the surrogate, score the candidates, recommend."""

    if TYPE_CHECKING:  # set by BO and BaseStrategy
        space_: SearchSpace
        acquisition: str
        kappa: float
        liar: str
        warp: str
        explore_every: int
        n_asked_: int
        n_fits_: int
        timings_: list[tuple[int, float, float]]
        predictor_: BasePredictor | None
        _template: BasePredictor
        _told: list[tuple[Architecture, float]]
        _pending: dict[str, Architecture]

        def _candidates(self, model: BasePredictor, rng: np.random.Generator) -> tuple[list[Architecture], np.ndarray]: ...

        def _far(self, cands: list[Architecture], X: np.ndarray, model: BasePredictor) -> tuple[list[Architecture], np.ndarray]: ...

        def _random_new(self, rng: np.random.Generator) -> Architecture: ...

        def _encoded(self, model: BasePredictor, archs: list[Architecture]) -> np.ndarray: ...

    def _fit(self, archs: list[Architecture], scores: list[float], rng: np.random.Generator) -> BasePredictor:
        model = self._template.clone()
        if model.seed is None:
            model.seed = int(rng.integers(2**31))
        model.fit(archs, scores, space=self.space_)
        self.n_fits_ += 1
        return model

    def _model_ask(self, rng: np.random.Generator) -> Architecture:
        t0 = time.perf_counter()
        archs = [a for a, _ in self._told]
        scores = warp_scores([s for _, s in self._told], self.warp).tolist()
        model = self._fit(archs, scores, rng)
        pending = list(self._pending.values())
        if pending:
            if self.liar == "mean":  # Kriging believer: the model's own predictions
                lies = model.predict_mean_std(pending)[0].tolist()
            else:
                lies = [min(scores) if self.liar == "min" else max(scores)] * len(pending)
            model = self._fit(archs + pending, scores + lies, rng)
        self.predictor_ = model
        t1 = time.perf_counter()
        cands, X = self._candidates(model, rng)
        if cands and self.explore_every and self.n_asked_ % self.explore_every == 0 and len(cands) > 1:
            cands, X = self._far(cands, X, model)
        if not cands:
            arch = self._random_new(rng)
        else:
            mean, std = model._predict_latent_features(X)
            arch = cands[best_candidate(self._acquire(mean, std, model, rng), rng)]
        self.timings_.append((len(self._told), t1 - t0, time.perf_counter() - t1))
        return arch

    def recommend(self) -> Architecture | None:
        """The told architecture with the best mean of a surrogate fitted on every score told (the
        "best posterior mean" recommendation of noisy Bayesian optimisation: one lucky evaluation
        does not win on its own). ``Search.best`` stays the best evaluated trial.

        Returns
        -------
        Architecture or None
            The told architecture whose predicted mean (a fresh clone of ``predictor``, seed 0 unless
            it has one, fitted on every score told after ``warp``) is highest; None before two distinct
            scores are told.
        """
        if len({s for _, s in self._told}) < 2:
            return None
        archs = [a for a, _ in self._told]
        model = self._template.clone()
        if model.seed is None:
            model.seed = 0
        model.fit(archs, warp_scores([s for _, s in self._told], self.warp).tolist(), space=self.space_)
        mean, _ = model.predict_mean_std(archs)
        return archs[int(np.argmax(mean))]

    def _acquire(self, mean: np.ndarray, std: np.ndarray, model: BasePredictor,
                 rng: np.random.Generator) -> np.ndarray:
        std = np.maximum(std, 1e-9)
        if self.acquisition == "ucb":
            return mean + float(self.kappa) * std  # type: ignore[no-any-return]
        if self.acquisition == "ts":
            return mean + std * rng.standard_normal(len(mean))  # type: ignore[no-any-return]
        from scipy.stats import norm

        told_mean, _ = model._predict_latent_features(self._encoded(model, [a for a, _ in self._told]))
        z = (mean - float(np.max(told_mean))) / std
        return (mean - float(np.max(told_mean))) * norm.cdf(z) + std * norm.pdf(z)  # type: ignore[no-any-return]
