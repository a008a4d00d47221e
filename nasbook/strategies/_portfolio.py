"""A bandit over strategies: :class:`Portfolio`, alias ``"portfolio"``, and :func:`portfolio_prior`."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, SpaceExhausted, unknown_choice
from nasbook.strategies._base import BaseStrategy, Proposal, clone, validate_nested
from nasbook.strategies._portfolio_prior import portfolio_prior as portfolio_prior  # its old home: re-exported
from nasbook.strategies._wraps import WrapsBase
from nasbook.trial import WAIT, Wait

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial

BANDITS: tuple[str, ...] = ("ts", "ucb", "hedge")
REWARDS: tuple[str, ...] = ("top", "rank")
HEDGE_REWARDS: tuple[str, ...] = ("told", "round")
#: ``reward="top"``: a trial earns 1 when it enters this fraction of the best values told before it
TOP_FRACTION = 0.1
DEFAULT_ARMS: tuple[str, ...] = ("random", "evolution", "local", "bo")


class Portfolio(BaseStrategy):
    """Choose among strategies online with a discounted bandit: each ask goes to one arm.

    **Rewards** are normalised and finite from the first trial: a finished trial proposed by an
    arm earns the rank of its value among all values told before it, in [0, 1] (the fraction of
    earlier values it beats, ties counting half; 0.5 for the very first trial, 0 for a trial
    without a value). A new best earns 1, a new worst 0, whatever the scale of the objective.

    **Discounting** (Garivier & Moulines, 2011): at every tell, every arm's accumulated reward and
    pull count are multiplied by ``discount``, so old evidence fades (its weight halves after
    ``log 0.5 / log discount`` tells) and the portfolio follows an arm that becomes the better one
    later in the search. ``discount=1`` is the stationary bandit.

    **Bandits.** ``"ts"``: discounted Thompson sampling (Raj & Kalyani, 2017) with a
    ``Beta(1 + wins, 1 + losses)`` posterior per arm, a reward ``r`` counting ``r`` wins and
    ``1 - r`` losses. ``"ucb"``: discounted UCB, ``mean + exploration * sqrt(2 log N / n)``.
    ``"hedge"``: GP-Hedge (Hoffman, Brochu & de Freitas, 2011): at every ask EVERY arm nominates
    an architecture and one nominee is chosen with probability ``~ exp(eta * G)``; the nominees not
    chosen are withdrawn from their arms. At the next ask a shared surrogate fitted on every trial
    told (a ``bo`` arm's model of that ask, else ``strategies.BO``'s default forest) predicts every
    last nominee's value, and every arm's gain ``G`` grows by the rank of its nominee's prediction
    among the values told (in [0, 1], discounted like the other bandits' evidence): the bandit
    learns from all arms at every step. Every arm proposes at every ask, so a search costs at
    least what its costliest arm costs alone, and resume re-runs the arms' asks (a ``bo`` arm
    fits again) to replay the same choices.

    **Shared history.** Every arm is told every finished trial, whichever arm proposed it, and
    learns of every architecture proposed (so no arm proposes one another arm is evaluating). An
    arm chosen late starts from everything the search knows (a surrogate fits all trials, evolution
    draws its parents from them, local search climbs from the best), instead of from the few
    trials it proposed itself: the bandit then judges what each method does *with the search's
    knowledge*, which is the choice it has to make at the next ask.

    **Priors**: ``prior={arm: pseudo-wins}``, e.g. how many similar past tasks each strategy won
    (:func:`portfolio_prior` computes it from a DataFrame of past trials). With ``K`` the sum of
    the pseudo-wins, arm ``a`` starts as if it had been played ``K`` times and won ``prior[a]``
    of them; the prior is discounted like any other evidence.

    Each trial records the arm that proposed it in ``trial.attrs["portfolio_arm"]``; ``history_``
    keeps the choice of every ask, ``arm_counts_`` / :attr:`shares_` the picks per arm, and ``repr``
    shows them. Resume replays the stored history exactly (the arms replay theirs: ``bo`` without
    fitting).

    Parameters
    ----------
    strategies : sequence of str or BaseStrategy, default ("random", "evolution", "local", "bo")
        The arms: registered names or instances (cloned at ``setup``). Proposing strategies only
        (no multi-fidelity scheduler or other wrapper). An arm's name is its alias (``"bo"``),
        numbered when repeated (``"evolution-2"``).
    bandit : {"hedge", "ts", "ucb"}, default "hedge"
        ``"hedge"`` by default: on NAS-Bench-Graph at 100 queries (docs/benchmarks.md, 11.6d-11.6e) it had
        the lower mean regret cold (0.531 against Thompson sampling's 0.623 pp on one seeding) and with the knowledge
        base's prior (0.459 against 0.561 pp, lower on 34 of 90 paired searches, higher on 17), for
        about 1.5 times the strategy's own cost per ask (every arm nominates at every ask).
    hedge_distinct : bool, default False
        ``"hedge"``: arms that nominate the same architecture are one option, chosen with the
        probability of the highest gain among them (and credited to that arm), instead of one option
        per arm (two arms drawing the same initial samples doubled their architecture's chance). Probed
        against the early lag (docs/benchmarks.md 1n), not adopted.
    hedge_reward : {"told", "round"}, default "told"
        ``"hedge"``: ``"told"`` rewards a nominee with the rank of its predicted value among the values
        told; ``"round"`` with its rank among the round's distinct nominees' predictions (1 for the
        surrogate's favourite, 0 for its last; 0.5 when all coincide), which does not compare the
        surrogate's shrunk predictions with observed values. Probed in 1n, not adopted (worse on NB-Graph at 50).
    discount : float in (0, 1], default 0.97
        About a third of a 100-query search is remembered at full weight (1 / (1 - 0.97) = 33 tells).
    exploration : float >= 0, default 0.5
        The weight of the confidence term of ``"ucb"`` (unused by the others).
    eta : float > 0, default 1
        The learning rate of ``"hedge"`` (unused by the others): a gain ahead by ``1 / eta`` makes
        an arm ``e`` times likelier.
    prior : mapping of arm name to pseudo-wins (finite, >= 0), optional
        ``Search(kb=kb)`` fills it from the knowledge base when it is not given (``repr``: ``(from kb)``).
    discount_prior : bool, default True
        True: the prior is discounted like any other evidence; False: it is kept apart and never fades.
    reward : {"rank", "top"}, default "rank"
        ``"rank"``: the rank reward above. ``"top"``: 1 when the trial enters the best tenth of the
        values told before it (beats the ``ceil(n / 10)``-th best; 0.5 on a tie with it; 1 for a new
        best early on), else 0: it rewards what improves the incumbent or the top of the search.
    seed : int, optional
        The seed in effect (this one, else the search's) is every arm's, so a one-arm Portfolio is
        exactly its arm: ``Search(..., strategy=Portfolio(["bo"]), seed=s)`` proposes the trials of
        ``strategy="bo", seed=s``, and an arm inside a Portfolio starts on the stream it has alone
        (it departs from it only through what the other arms add to the shared history). A class
        repeated among the arms (two ``BO`` configurations) gives its first arm the seed and its
        k-th repeat ``SeedSequence(seed, spawn_key=(k,))``'s first word, so repeats never
        duplicate each other; arms of different classes share the seed, so random, evolution and
        local draw the same initial samples (the shared history lets each architecture be
        evaluated once; the hedge's nominees may then coincide, and a nominee chosen from one arm
        stays proposed in every arm that nominated it). The bandit draws from a stream of its
        own (``spawn_key=(0,)``). An arm constructed with its own ``seed`` keeps it. Without any
        seed, every arm gets one drawn from the Portfolio's unseeded generator.
    """

    alias: ClassVar[str] = "portfolio"
    #: searches stored before the two hedge parameters existed resume as they ran
    stored_defaults: ClassVar[dict[str, Any]] = {"hedge_distinct": False, "hedge_reward": "told"}
    #: where ``prior`` came from when the caller did not give it (``"kb"``: ``Search(kb=...)``); shown by ``repr``
    prior_from_: str | None = None

    def __init__(self, strategies: Sequence[str | BaseStrategy] = DEFAULT_ARMS, bandit: str = "hedge",
                 discount: float = 0.97, exploration: float = 0.5, prior: Mapping[str, float] | None = None,
                 reward: str = "rank", discount_prior: bool = True, seed: int | None = None, eta: float = 1.0,
                 hedge_distinct: bool = False, hedge_reward: str = "told"):
        super().__init__(seed=seed)
        if isinstance(strategies, Sequence) and not isinstance(strategies, str):  # at once, as Search() refuses one
            from nasbook.strategies._registry import refuse_class

            for i, spec in enumerate(strategies):
                refuse_class(f"Portfolio(strategies=...) entry {i}", spec)
        self.strategies = strategies
        self.bandit = bandit
        self.discount = discount
        self.exploration = exploration
        self.prior = prior
        self.reward = reward
        self.discount_prior = discount_prior
        self.eta = eta
        self.hedge_distinct = hedge_distinct
        self.hedge_reward = hedge_reward

    # -- configuration ---------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        arms = self.strategies
        if isinstance(arms, np.ndarray) and arms.ndim == 1:  # np.array(['random', 'bo']): refused before
            self.strategies = arms = [str(a) if isinstance(a, str) else a for a in arms.tolist()]
        if isinstance(arms, (str, BaseStrategy)) or not isinstance(arms, Sequence):
            raise InvalidParameterTypeError(
                f"Portfolio(strategies=...) must be a list of strategy names or BaseStrategy instances; got "
                f"{arms!r:.80} of type {type(arms).__name__}. Example: Portfolio(['random', 'evolution', 'bo'])."
            )
        if len(arms) == 0:
            raise InvalidParameterError(
                "Portfolio(strategies=...) needs at least one strategy; got an empty list. Example: "
                "Portfolio(['random', 'evolution', 'local', 'bo'])."
            )
        self._arm_names = _arm_names(arms)
        if self.bandit not in BANDITS:
            raise unknown_choice("Portfolio(bandit=...)", self.bandit, BANDITS)
        if not isinstance(self.discount_prior, bool):
            raise InvalidParameterTypeError(f"Portfolio(discount_prior=...) must be True or False; got {self.discount_prior!r}.")
        if self.reward not in REWARDS:
            raise unknown_choice("Portfolio(reward=...)", self.reward, REWARDS)
        if not isinstance(self.hedge_distinct, bool):
            raise InvalidParameterTypeError(f"Portfolio(hedge_distinct=...) must be True or False; got {self.hedge_distinct!r}.")
        if self.hedge_reward not in HEDGE_REWARDS:
            raise unknown_choice("Portfolio(hedge_reward=...)", self.hedge_reward, HEDGE_REWARDS)
        for param, value, low, low_ok in (("discount", self.discount, 0.0, False),
                                           ("exploration", self.exploration, 0.0, True), ("eta", self.eta, 0.0, False)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < low or (value == low and not low_ok) or (param == "discount" and value > 1):
                allowed = {"discount": "a number in (0, 1]", "eta": "a finite number > 0"}.get(param, "a finite number >= 0")
                raise InvalidParameterError(f"Portfolio({param}=...) must be {allowed}; got {value!r}.")
        prior = self.prior
        if prior is not None:
            if not isinstance(prior, Mapping):
                raise InvalidParameterTypeError(
                    f"Portfolio(prior=...) must map arm names to pseudo-wins, e.g. {{'bo': 3, 'evolution': 1}} "
                    f"(portfolio_prior(trials) computes one); got {prior!r:.80} of type {type(prior).__name__}."
                )
            for name, wins in prior.items():
                if name not in self._arm_names:
                    raise unknown_choice("Portfolio(prior=...) arm", name, self._arm_names,
                                         "The prior's keys must be arm names.")
                if isinstance(wins, bool) or not isinstance(wins, (int, float)) or not (math.isfinite(wins) and wins >= 0):
                    raise InvalidParameterError(
                        f"Portfolio(prior=...) pseudo-wins must be finite numbers >= 0; got {wins!r} for arm {name!r}."
                    )

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        cfg["params"]["strategies"] = [s.to_config() if isinstance(s, BaseStrategy) else s for s in self.strategies]
        if self.prior is not None:
            cfg["params"]["prior"] = {str(k): float(v) for k, v in self.prior.items()}
            if getattr(self, "prior_from_", None):  # load_search restores it, so the repr still says "(from kb)"
                cfg["prior_from"] = self.prior_from_
        return cfg

    def _repr_params(self) -> dict[str, Any]:
        params = super()._repr_params()
        params["strategies"] = list(getattr(self, "_arm_names", None) or self.strategies)
        if getattr(self, "prior_from_", None):  # e.g. "kb": Search(kb=...) gave the prior
            # 4 significant digits, and the dict cut here rather than by the repr's cut, so "(from kb)" stays
            shown, said = repr({k: float(f"{v:.4g}") for k, v in (params["prior"] or {}).items()}), f" (from {self.prior_from_})"
            room = self._repr_max_value - len(said)
            params["prior"] = _Shown((shown if len(shown) <= room else shown[: room - 3] + "...") + said)
        if hasattr(self, "arm_counts_"):
            params["arm_counts"] = dict(self.arm_counts_)
        return params

    # -- lifecycle ---------------------------------------------------------------------------------------
    def _setup(self) -> None:
        from nasbook.strategies._registry import get_strategy, strategy_class

        built: list[BaseStrategy] = []
        for spec in self.strategies:
            if isinstance(spec, dict):  # rebuilt from a stored configuration, as load_search rebuilds a strategy
                spec = strategy_class(spec.get("alias") or spec["class"]).from_stored(spec.get("params", {}))
            built.append(clone(spec) if isinstance(spec, BaseStrategy) else get_strategy(spec))
        seeds = _arm_seeds(self.seed_, [type(a) for a in built], self.rng_)
        if self.seed_ is not None:  # the bandit's own draws: a stream no arm uses
            self.rng_ = np.random.default_rng(np.random.SeedSequence(self.seed_, spawn_key=(0,)))
        self.arms_: dict[str, BaseStrategy] = {}
        for name, arm, seed in zip(self._arm_names, built, seeds):
            arm.setup(self.space_, seed=seed, mode=self.mode_, metric=self.metric_)
            self.arms_[name] = arm
        n = len(self.arms_)
        #: discounted reward sums (wins) and pull counts per arm, in arm order
        self.wins_ = np.zeros(n)
        self.pulls_ = np.zeros(n)
        #: the prior's pseudo-wins and pseudo-pulls per arm (kept apart when ``discount_prior=False``)
        self.prior_wins_ = np.zeros(n)
        self.prior_pulls_ = np.zeros(n)
        if self.prior:
            total = float(sum(self.prior.values()))
            for i, name in enumerate(self._arm_names):
                self.prior_wins_[i] = float(self.prior.get(name, 0.0))
                self.prior_pulls_[i] = total
            if self.discount_prior:  # the prior is evidence like any other: it fades
                self.wins_ += self.prior_wins_
                self.pulls_ += self.prior_pulls_
                self.prior_wins_[:] = 0.0
                self.prior_pulls_[:] = 0.0
        self.arm_counts_: dict[str, int] = dict.fromkeys(self._arm_names, 0)
        #: the arm chosen at every ask, in ask order
        self.history_: list[str] = []
        #: (trial number, arm, reward) of every finished trial an arm proposed
        self.rewards_: list[tuple[int, str, float]] = []
        self.exhausted_: set[str] = set()
        self._arm_of: dict[str, str] = {}
        self._values: list[float] = []  # sorted scores told so far (higher is better)
        self._hedge_last: dict[str, Architecture] = {}  # "hedge": the last round's nominees, rewarded at the next ask
        self._hedge_told: list[tuple[Architecture, float]] = []  # "hedge": what its own surrogate fits

    @property
    def arm_names(self) -> list[str]:
        """The arms' names, in order (the keys a ``prior`` may use)."""
        if not hasattr(self, "_arm_names"):
            self._arm_names = _arm_names(self.strategies)
        return list(self._arm_names)

    @property
    def shares_(self) -> dict[str, float]:
        """The fraction of asks that went to each arm."""
        total = sum(self.arm_counts_.values())
        return {k: (v / total if total else 0.0) for k, v in self.arm_counts_.items()}

    def _index(self) -> np.ndarray:
        """The bandit's score of every arm for this ask (one draw per arm for Thompson sampling)."""
        wins, pulls = self.wins_ + self.prior_wins_, self.pulls_ + self.prior_pulls_
        if self.bandit == "ts":
            return self.rng_.beta(1.0 + wins, 1.0 + np.maximum(pulls - wins, 0.0))  # type: ignore[no-any-return]
        total = max(float(pulls.sum()), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(pulls > 0, wins / np.maximum(pulls, 1e-300), 0.0)
            bonus = float(self.exploration) * np.sqrt(2.0 * math.log(max(total, math.e)) / pulls)
        # never pulled (or evidence discounted to nothing): try it first
        return np.where(pulls > 1e-12, mean + bonus, np.inf)  # type: ignore[no-any-return]

    def _choose(self, skip: set[str]) -> str | None:
        index = self._index()
        order = sorted(range(len(index)), key=lambda i: (-float(index[i]), i))
        for i in order:
            name = self._arm_names[i]
            if name not in skip and name not in self.exhausted_:
                return name
        return None

    def _ask(self) -> Architecture | Proposal | Wait:
        return self._propose(None)

    def _replay_ask(self, arch: Architecture) -> Architecture | Proposal | Wait:
        asked = self._propose(arch)
        if asked is not WAIT:
            self.seen_.add(arch.id)
        return asked

    def _propose(self, replayed: Architecture | None) -> Architecture | Proposal | Wait:
        if self.bandit == "hedge":  # every arm asks, also on replay: the gains need every nominee
            from nasbook.strategies._hedge import hedge_propose

            got = hedge_propose(self)
            if got is WAIT:
                return WAIT
            name, asked = got  # type: ignore[misc]
        else:
            name, asked = self._propose_one(replayed)
            if asked is WAIT:
                return WAIT
        prop = asked if isinstance(asked, Proposal) else Proposal(asked)
        arch = replayed if replayed is not None else prop.arch
        for other in self.arms_.values():  # no arm proposes what another one is evaluating
            other.seen_.add(prop.arch.id)
            other.seen_.add(arch.id)
        self._arm_of[arch.id] = name
        self.arm_counts_[name] += 1
        self.history_.append(name)
        return Proposal(prop.arch, prop.epochs, prop.parent, prop.lineage, {**prop.attrs, "portfolio_arm": name})

    def _propose_one(self, replayed: Architecture | None) -> tuple[str, Any]:
        """The one-pull bandits: the chosen arm asks (the next best when it waits or is exhausted)."""
        waiting: set[str] = set()
        while True:
            name = self._choose(waiting)
            if name is None:
                if waiting:
                    return "", WAIT
                raise SpaceExhausted(f"every arm of {self!r} has exhausted the space")
            arm = self.arms_[name]
            try:
                asked = arm._replay_ask(replayed) if replayed is not None else arm.ask()
            except SpaceExhausted:
                self.exhausted_.add(name)
                continue
            if asked is WAIT:
                waiting.add(name)
                continue
            return name, asked

    def _tell(self, trial: Trial) -> None:
        for arm in self.arms_.values():  # shared history: every arm learns from every trial
            arm.tell(trial)
        score = self._score(trial)
        values = self._values
        name = self._arm_of.pop(trial.arch.id, None)
        if self.bandit == "hedge":  # rewarded at the next ask, through the shared surrogate
            if math.isfinite(score):
                bisect.insort(values, score)
                if trial.arch.space_id == self.space_.space_id:
                    self._hedge_told.append((trial.arch, score))
            return
        reward = _rank_reward(score, values) if self.reward == "rank" else _top_reward(score, values)
        if math.isfinite(score):
            bisect.insort(values, score)
        self.wins_ *= self.discount
        self.pulls_ *= self.discount
        if name is not None:
            i = self._arm_names.index(name)
            self.wins_[i] += reward
            self.pulls_[i] += 1.0
            self.rewards_.append((trial.number, name, reward))


class _Shown(str):
    """A string that ``repr`` shows without quotes."""

    def __repr__(self) -> str:
        return str(self)


def _rank_reward(score: float, values: list[float]) -> float:
    """The fraction of ``values`` (sorted) that ``score`` beats, ties counting half; 0.5 when there are none."""
    if not math.isfinite(score):
        return 0.0
    if not values:
        return 0.5
    below = bisect.bisect_left(values, score)
    ties = bisect.bisect_right(values, score) - below
    return (below + 0.5 * ties) / len(values)


def _top_reward(score: float, values: list[float]) -> float:
    """1 when ``score`` beats the ``k``-th best of ``values`` (sorted; ``k = ceil(TOP_FRACTION * n)``), 0.5 on a tie
    with it, else 0; 0.5 when there are no values yet."""
    if not math.isfinite(score):
        return 0.0
    if not values:
        return 0.5
    kth = values[-max(1, math.ceil(TOP_FRACTION * len(values)))]
    return 1.0 if score > kth else 0.5 if score == kth else 0.0


def _arm_seeds(seed: int | None, classes: Sequence[type], rng: np.random.Generator) -> list[int]:
    """The seed of every arm: ``seed`` for the first arm of each class, for the k-th repeat of a class
    (k = 1, 2, ...) the first word of ``SeedSequence(seed, spawn_key=(k,))``; without a seed, one
    draw from ``rng`` (the Portfolio's unseeded generator) per arm."""
    if seed is None:
        return [int(rng.integers(2**31)) for _ in classes]
    repeats: dict[type, int] = {}
    out = []
    for cls in classes:
        k = repeats[cls] = repeats.get(cls, -1) + 1
        out.append(seed if k == 0 else int(np.random.SeedSequence(seed, spawn_key=(k,)).generate_state(1)[0]))
    return out


def _arm_names(arms: Sequence[Any]) -> list[str]:
    from nasbook.strategies._registry import named_strategy, refuse_class, strategy_class

    names: list[str] = []
    for i, spec in enumerate(arms):
        refuse_class(f"Portfolio(strategies=...) entry {i}", spec)  # as Search(strategy=RandomSearch) is refused
        if isinstance(spec, dict) and ("alias" in spec or "class" in spec):
            cls = strategy_class(spec.get("alias") or spec["class"])
            base = spec.get("alias") or cls.alias or cls.__name__
        elif isinstance(spec, str):
            cls = named_strategy(f"Portfolio(strategies=...) entry {i}", spec, proposing=True)
            base = spec
        elif isinstance(spec, BaseStrategy):
            cls = type(spec)
            base = cls.alias or cls.__name__
            if not issubclass(cls, WrapsBase):  # a wrapper is refused below
                validate_nested(f"Portfolio(strategies=...) entry {i}", spec)
        else:
            raise InvalidParameterTypeError(
                f"Portfolio(strategies=...) entry {i} must be a strategy name such as 'evolution' or a BaseStrategy "
                f"instance; got {spec!r:.60} of type {type(spec).__name__}."
            )
        if issubclass(cls, WrapsBase):
            raise InvalidParameterError(
                f"Portfolio(strategies=...) entry {i} must be a proposing strategy, not a multi-fidelity scheduler "
                f"or another wrapper; got {spec!r:.60}. Wrap the Portfolio instead, e.g. MedianStopping(base=Portfolio(...))."
            )
        name, k = base, 2
        while name in names:
            name, k = f"{base}-{k}", k + 1
        names.append(name)
    return names
