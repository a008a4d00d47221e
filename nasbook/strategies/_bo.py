"""Predictor-guided search (Bayesian optimisation in the spirit of BANANAS): :class:`BO`, alias ``"bo"``.

This module holds its parameters, their checks and stored configuration, and the ask/tell state
that a resume replays. Its parts: the candidates an ask scores (:mod:`._bo_candidates`), the
surrogate's fit and the acquisition (:mod:`._bo_acquisition`), the initial design and default
predictor (:mod:`._bo_design`), the basin regions (:mod:`._bo_regions`), the warps (:mod:`._bo_warp`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, class_given, unknown_choice
from nasbook.strategies._base import BaseStrategy
from nasbook.strategies._bo_acquisition import Acquisition
from nasbook.strategies._bo_candidates import MAX_ENUMERATED, N_PARENTS, Candidates
from nasbook.strategies._bo_design import (
    INITS,
    default_predictor,
    predictor_config,
    predictor_from_config,
)
from nasbook.strategies._bo_warp import WARPS

if TYPE_CHECKING:
    from nasbook.predictors import BasePredictor
    from nasbook.space import Architecture
    from nasbook.trial import Trial

ACQUISITIONS: tuple[str, ...] = ("ei", "ucb", "ts")
LIARS: tuple[str, ...] = ("mean", "min", "max")
CANDIDATES: tuple[str, ...] = ("auto", "space", "pool", "local")


class BO(Acquisition, Candidates, BaseStrategy):
    """Predictor-guided search: fit a surrogate on the trials told, propose the candidate that
    maximises an acquisition function (White et al., BANANAS, 2021).

    Every ask after the initial design fits ``predictor`` (a :class:`~nasbook.Predictor` model) on
    the scores told, predicts the mean and spread of every candidate in the model's latent units
    (normal and monotone in the score, ``predict_latent``), and proposes the unseen candidate with
    the highest acquisition.

    **Batches.** Architectures asked but not told yet (running in a parallel executor) join the fit
    with a lie for a score: the model's own prediction (``liar="mean"``, the Kriging believer) or
    the worst / best score told (``"min"`` / ``"max"``, a constant liar), so a batch spreads out;
    they are never proposed again.

    **Cost.** ``timings_`` keeps ``(n_told, fit_s, acquisition_s)`` per model-based ask; ``repr``
    shows the number of fits and the mean milliseconds per ask. The default forest runs on one
    thread; a forest of your own with ``n_jobs`` (``RandomForest(n_estimators=50,
    calibration="none", features=("graf", "adjacency"), n_jobs=2)`` is the default on
    NAS-Bench-Graph, threaded) fits and predicts on that many threads and proposes the same
    architectures (docs/benchmarks.md, section 1r).

    **Resume.** All randomness of one ask comes from one integer drawn from the strategy's
    generator, and the model is fitted afresh at each ask, so on resume the stored history is
    replayed without fitting (:meth:`_replay_ask`) and the strategy ends in the state an
    uninterrupted run had.

    Parameters
    ----------
    predictor : "auto", str or BasePredictor
        The surrogate: ``"auto"`` (:func:`default_predictor`: a random forest of 50 trees on the
        graph features plus the one-hot adjacency, uncalibrated; on NAS-Bench-Graph it found
        better architectures than the forest on graph features alone, Thompson sampling, or a
        pool instead of the whole space, at a fraction of an ensemble's cost), a registered
        predictor name (``"gp"``, ``"extra-trees"``, ``"ensemble"``, ...) or an instance (cloned
        at each fit; an unseeded one is seeded from the ask's draw).
    acquisition : {"ei", "ucb", "ts"}
        Expected improvement over the best predicted mean among the trials told (default), the
        upper confidence bound ``mean + kappa * std``, or Thompson sampling (one independent normal
        draw per candidate). Where the acquisition is flat (every candidate equal: a surrogate that
        tells them apart not at all), the candidate is drawn at random from the ask's seeded
        generator, not the first listed (:func:`~nasbook.strategies._bo_acquisition.best_candidate`).
    kappa : float
        Weight of the spread in ``"ucb"``. Default 2.
    n_initial : int
        Random proposals before the first fit (>= 1; the model needs two scores). Default 10.
    candidates : {"auto", "space", "pool", "local"}
        Where the acquisition is maximised: ``"space"`` every unseen architecture
        (``space.enumerate()``; features encoded once), ``"pool"`` ``n_candidates`` mutations of the
        best trials told (one to three edits) and uniform samples, half each. ``"auto"``: the space
        when it has at most 50,000 architectures, else the pool. ``"local"``: every unseen
        architecture within ``radius`` edits of the ``n_parents`` best trials told (breadth-first
        through ``space.neighbours``; a trust region around the incumbents, as BANANAS's
        mutation-based acquisition optimiser but exhaustive), the space or the pool when all of
        them are seen. On NAS-Bench-Graph (radius 2, 10 parents: about 30% of the space) it chose
        the same architectures as ``"space"`` in the probes at about half the acquisition cost.
    n_candidates : int
        Size of the pool. Default 1,000.
    init : {"random", "kmeans"}
        The initial design: ``n_initial`` uniform samples (default), or ``"kmeans"``: the member
        nearest the centre of each of ``n_initial`` k-means clusters of the standardized encodings of
        the space (of ``n_candidates`` samples where it is not enumerated), a design that covers the
        space's regions. On NAS-Bench-Graph it did not lower the regret at 100 queries in the probes
        (docs/benchmarks.md, section 1f), so it is not the default.
    explore_every : int
        Every ``explore_every``-th ask (0: never, the default) maximises the acquisition only over
        the candidates far from everything told (beyond the ``explore_quantile`` of the candidates'
        distances to their nearest told architecture), so regions the surrogate has not seen get
        queries (every 5th: no gain in section 1f's probes).
    explore_quantile : float
        See ``explore_every`` (in [0, 1); default 0.5: the far half).
    radius : int
        Edits from the best trials that ``candidates="local"`` reaches (>= 1). Default 2.
    n_parents : int
        How many of the best trials told the pool's mutations and the local region start from
        (>= 1). Default 10.
    regions : int
        Candidate regions the model-based asks cycle through (TuRBO-style multiple trust regions on
        a discrete space; default 1: off). Ask ``i`` uses region ``i % regions``: region 0 is
        ``candidates`` as above; region ``j >= 1`` is every unseen architecture within ``radius``
        edits of the ``j``-th best told architecture of a distinct basin (greedily, best first, each
        more than ``radius`` edits from the earlier ones), so the best architectures of basins
        other than the incumbent's are exploited too; region 0's candidates when there is no such
        basin yet or its ball is all seen. On NAS-Bench-Graph 2 and 3 regions raised the regret at
        100 queries (0.58 / 0.61 pp against 0.37 on 36 probe searches, docs/benchmarks.md 1g).
    warp : {"none", "log", "boxcox"}
        Output warping of the surrogate's target: ``"none"`` (default) fits the told scores as they
        are (the default forest learns their ranks' normal scores); ``"log"`` fits the log-regret
        ``-log(max - y + delta)`` and ``"boxcox"`` a Box-Cox transform of the regret with a fitted
        exponent, meant to resolve the top rather than the bottom (``delta``: the 10%
        quantile of the positive regrets told; the predictor's ``target`` becomes ``"standard"``;
        expected improvement is taken in the warped units; ``nasbook/strategies/_bo_warp.py``). On
        NAS-Bench-Graph both raised the regret at 100 queries (0.59 / 0.56 pp against 0.37, docs 1j).
    liar : {"mean", "min", "max"}
        The score lent to pending trials in the fit. Default ``"mean"`` (Kriging believer).
    prior : object with ``predict(archs)``, optional
        What is known before any trial, e.g. :class:`nasbook.knowledge.TransferPrior` (past tasks):
        the surrogate becomes a :class:`~nasbook.predictors.PriorPredictor` over ``predictor``, which
        learns how far to trust it. A prior of your own is not stored with the search: pass
        ``strategy=BO(prior=...)`` to ``load_search`` to resume. The prior ``Search(kb=kb)`` gives is
        stored as where it came from (which past searches, how many of their trials, the task
        weights), and ``load_search(..., kb=kb)`` rebuilds the same prior from the knowledge base.
    seed, allow_duplicates
        See :class:`BaseStrategy` (with ``allow_duplicates=True`` a pending architecture may
        still be proposed again).

    Attributes
    ----------
    n_fits_ : int
        Surrogate fits so far (two per ask with pending trials and ``liar="mean"``).
    timings_ : list of (int, float, float)
        ``(n_told, fit seconds, acquisition seconds)`` of each model-based ask.
    predictor_ : BasePredictor
        The last fitted surrogate (None before the first fit).
    """

    alias: ClassVar[str] = "bo"

    def __init__(self, predictor: str | BasePredictor = "auto", acquisition: str = "ei", kappa: float = 2.0,
                 n_initial: int = 10, candidates: str = "auto", n_candidates: int = 1000, liar: str = "mean",
                 seed: int | None = None, allow_duplicates: bool = False, prior: Any = None, radius: int = 2,
                 n_parents: int = N_PARENTS, init: str = "random", explore_every: int = 0,
                 explore_quantile: float = 0.5, regions: int = 1, warp: str = "none"):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.warp = warp
        self.init = init
        self.explore_every = explore_every
        self.explore_quantile = explore_quantile
        self.regions = regions
        self.radius = radius
        self.n_parents = n_parents
        self.predictor = predictor
        self.acquisition = acquisition
        self.kappa = kappa
        self.n_initial = n_initial
        self.candidates = candidates
        self.n_candidates = n_candidates
        self.liar = liar
        self.prior = prior

    # -- configuration ---------------------------------------------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        if self.acquisition not in ACQUISITIONS:
            raise unknown_choice("BO(acquisition=...)", self.acquisition, ACQUISITIONS)
        if self.liar not in LIARS:
            raise unknown_choice("BO(liar=...)", self.liar, LIARS)
        if self.candidates not in CANDIDATES:
            raise unknown_choice("BO(candidates=...)", self.candidates, CANDIDATES)
        self.n_initial = check_int("BO", "n_initial", self.n_initial, minimum=1)
        self.n_candidates = check_int("BO", "n_candidates", self.n_candidates, minimum=1)
        self.radius = check_int("BO", "radius", self.radius, minimum=1)
        self.n_parents = check_int("BO", "n_parents", self.n_parents, minimum=1)
        self.explore_every = check_int("BO", "explore_every", self.explore_every, minimum=0)
        self.regions = check_int("BO", "regions", self.regions, minimum=1)
        if self.init not in INITS:
            raise unknown_choice("BO(init=...)", self.init, INITS)
        if self.warp not in WARPS:
            raise unknown_choice("BO(warp=...)", self.warp, WARPS)
        q = self.explore_quantile
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q < 1:
            raise InvalidParameterError(f"BO(explore_quantile=...) must be a number in [0, 1); got {q!r}.")
        k = self.kappa
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not (math.isfinite(k) and k >= 0):
            raise InvalidParameterError(f"BO(kappa=...) must be a finite number >= 0; got {k!r}.")
        self._template = self._build_predictor()
        prior = self.prior
        if isinstance(prior, dict) and "kb" in prior:  # a kb's transfer prior, stored by provenance
            raise InvalidParameterError(
                "this BO searched with a transfer prior from a knowledge base; pass the same kb=... to load_search "
                "to rebuild it (or strategy=BO(...) to continue without it).")
        if isinstance(prior, dict) and "unstored_prior" in prior:  # rebuilt from a stored configuration
            raise InvalidParameterError(
                f"this BO searched with a prior ({prior['unstored_prior']}) that is not stored with the search; "
                "pass strategy=BO(prior=..., ...) to load_search to resume it.")
        if prior is not None and not (callable(getattr(prior, "predict", None)) or callable(prior)):
            raise InvalidParameterTypeError(
                f"BO(prior=...) must be an object with predict(archs) (e.g. nasbook.knowledge.TransferPrior), a callable "
                f"archs -> scores, or None; got {prior!r:.60} of type {type(prior).__name__}.")

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        cfg["params"]["predictor"] = predictor_config(self.predictor)
        provenance = getattr(self.prior, "kb_provenance", None)
        if isinstance(provenance, dict):
            cfg["params"]["prior"] = {"kb": provenance}
        elif self.prior is not None:
            cfg["params"]["prior"] = {"unstored_prior": repr(self.prior)[:200]}
        return cfg

    def _build_predictor(self) -> BasePredictor:
        from nasbook.predictors import BasePredictor, available_predictors, get_predictor

        spec = self.predictor
        if isinstance(spec, dict) and "predictor" in spec:  # rebuilt from a stored configuration
            spec = predictor_from_config(spec)
        if isinstance(spec, BasePredictor):
            built = spec.clone()
        elif spec == "auto":
            built = default_predictor()
        elif isinstance(spec, str):
            if spec not in available_predictors():
                raise unknown_choice("BO(predictor=...)", spec, ("auto", *available_predictors()),
                                     "Pass a registered predictor name or a BasePredictor instance.")
            built = get_predictor(spec)
        else:
            raise InvalidParameterTypeError(
                f"BO(predictor=...) must be 'auto', a predictor name such as 'gp' or a BasePredictor instance; "
                f"got {spec!r:.60} of type {type(spec).__name__}{class_given(spec, BasePredictor, available_predictors)}."
            )
        built._validate_params()
        return built

    def _repr_params(self) -> dict[str, Any]:
        params = super()._repr_params()
        if hasattr(self, "n_fits_"):
            params["n_fits"] = self.n_fits_
            if self.timings_:
                params["ms_per_ask"] = round(self.ms_per_ask, 1)
        return params

    @property
    def ms_per_ask(self) -> float:
        """Mean fit + acquisition milliseconds of the model-based asks so far (nan before the first)."""
        t = getattr(self, "timings_", [])
        return 1e3 * sum(f + a for _, f, a in t) / len(t) if t else float("nan")

    # -- lifecycle ---------------------------------------------------------------------------------
    def _setup(self) -> None:
        self.n_asked_ = 0
        self.n_fits_ = 0
        self.timings_: list[tuple[int, float, float]] = []
        self.predictor_: BasePredictor | None = None
        self._told: list[tuple[Architecture, float]] = []  # (arch, score: higher is better), in tell order
        self._pending: dict[str, Architecture] = {}
        if self.predictor == "auto":  # the default's features depend on the space
            self._template = default_predictor(self.space_)
        if self.warp != "none":  # a rank target would undo the warp
            self._template.target = "standard"
        if self.prior is not None:  # the surrogate corrects the prior
            from nasbook.predictors import PriorPredictor

            t = self._template
            self._template = PriorPredictor(self.prior, model=t, features=t.features, target=t.target,
                                            calibration=t.calibration, seed=t.seed)
        card = self.space_.cardinality
        self._use_space = self.candidates == "space" or (self.candidates in ("auto", "local") and card <= MAX_ENUMERATED)
        self._all: list[Architecture] | None = None
        self._row: dict[str, int] | None = None
        self._X_all: dict[tuple[str, ...], np.ndarray] = {}
        self._X_exact: set[tuple[str, ...]] = set()  # features whose float32 rows in _X_all are the encoding exactly
        self._design_seed: int | None = None  # the first ask's draw: the initial design is a function of it
        self._design: list[Architecture] | None = None

    def _next_rng(self) -> np.random.Generator:
        """The generator of one ask: seeded by one draw from ``rng_``, so a replay needs only the draw."""
        self.n_asked_ += 1
        draw = int(self.rng_.integers(2**62))
        if self._design_seed is None:
            self._design_seed = draw
        return np.random.default_rng(draw)

    def _ask(self) -> Architecture:
        rng = self._next_rng()
        told = self._told
        if len({s for _, s in told}) < 2 or (self.n_asked_ <= self.n_initial and len(told) < self.n_initial):
            arch = self._design_new() or self._random_new(rng)
        else:
            arch = self._model_ask(rng)
        self._pending[arch.id] = arch
        return arch

    def _replay_ask(self, arch: Architecture) -> Architecture:
        """Replaying a stored history: advance as ``ask`` would have (one draw) and take the stored
        ``arch`` as proposed, without fitting; the model is refitted from scratch at the next ask."""
        self._next_rng()
        self.seen_.add(arch.id)
        self._pending[arch.id] = arch
        return arch

    def _withdraw(self, arch: Architecture) -> None:
        super()._withdraw(arch)
        self._pending.pop(arch.id, None)

    def _tell(self, trial: Trial) -> None:
        self._pending.pop(trial.arch.id, None)
        score = self._score(trial)
        if math.isfinite(score) and trial.arch.space_id == self.space_.space_id:  # another space's: not encodable here
            self._told.append((trial.arch, score))

    # proposing: the candidates are Candidates' (_bo_candidates.py), the surrogate's fit, the
    # acquisition and recommend are Acquisition's (_bo_acquisition.py)
