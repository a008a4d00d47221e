"""The strategy plug-in point: :class:`BaseStrategy` with ``ask`` and ``tell``."""

from __future__ import annotations

import abc
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, SpaceExhausted, check_int, unknown_choice

if TYPE_CHECKING:
    from nasbook.space import SearchSpace
    from nasbook.trial import Trial

from nasbook._params import Params, check_base_init
from nasbook.space import Architecture
from nasbook.trial import WAIT, Decision, Proposal, Wait

__all__ = ["WAIT", "BaseStrategy", "Proposal", "clone"]


class BaseStrategy(Params, abc.ABC):
    """Proposes architectures (``ask``) and learns from finished trials (``tell``).

    Lifecycle, driven by :class:`~nasbook.Search`:

    1. ``setup(space, seed=..., mode=...)`` once, before anything else (and again on resume, on
       a fresh instance, followed by a replay of the stored history);
    2. ``ask()`` whenever the search has room for another trial;
    3. ``tell(trial)`` once per finished trial, in completion order, *after* the trial is
       committed to storage. ``trial.value`` is None for failed trials; ``trial.attrs`` (test
       scores and other held-out numbers) is always empty here.

    Subclasses implement ``_ask`` and may override ``_setup`` (reset everything learned there, not
    in ``__init__``: a rerun sets the same instance up again) and ``_tell``. After ``setup`` the base
    class holds ``space_``, ``mode_``, ``metric_``, ``rng_`` (draw every random choice from it),
    ``n_told_`` (tells so far, counted here) and ``seen_`` (ids proposed or told, so that strategies
    never propose an architecture twice unless ``allow_duplicates=True``); ``_score(trial)`` is the
    value with higher always better.
    docs/search-loop.md, "Writing a strategy", has an example and how to register one by name.

    Parameters
    ----------
    seed : int, optional
        Overrides the search's seed (a Python or numpy integer, stored as a plain int); None: the
        search's seed is used.
    allow_duplicates : bool, default False
        Allow proposing an architecture that was already proposed or told.

    Attributes
    ----------
    needs_epochs : str
        Class attribute: empty, or what the strategy does with epochs (e.g. ``"stops running trials from their
        per-epoch reports"``) when that is its method: ``Search`` then refuses it, before anything is stored,
        on a task that does not train for epochs (``task.has_epochs`` False), where it would do nothing of it.
    tell_order_independent : bool
        Class attribute: True when the proposals after a batch of tells do not depend on the order of those tells.
    continues_trials : bool
        Class attribute: True when proposals may continue a finished trial (``Proposal(parent=...)``): the search
        then keeps each trial's checkpoint (in memory, or on disk with ``keeps_checkpoints``); otherwise it drops
        them at once.
    keeps_checkpoints : bool
        Class attribute: True (with ``continues_trials``) when checkpoints must outlive the process: a resumed
        search continues from them (the multi-fidelity schedulers' promotions, ``Proposal(grow=...)``). The search
        keeps them on disk in ``<folder>/search-<id>/`` for ``Search(..., checkpoints=<folder>)``, else next to a
        SQLite file (``<file>.checkpoints/search-<id>/``); elsewhere (``":memory:"``, a database URL) in a
        temporary folder of the search's own, deleted by ``Search.close()`` (in memory if it cannot be written).
        Either way it drops those :meth:`checkpoints_needed` no longer lists.
    """

    tell_order_independent: ClassVar[bool] = False
    needs_epochs: ClassVar[str] = ""
    continues_trials: ClassVar[bool] = False
    keeps_checkpoints: ClassVar[bool] = False
    #: name under which the strategy is registered ("random", "evolution", ...): stored with a search,
    #: so ``load_search`` rebuilds this class by it. Not inherited: a subclass without its own is
    #: stored, shown and rebuilt under its class name (never as the built-in it extends)
    alias: ClassVar[str] = ""
    #: parameters added after searches were already stored, with the value that reproduces what such
    #: a search did, for a stored configuration that lacks them (``load_search`` rebuilds with these)
    stored_defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "alias" not in cls.__dict__:
            cls.alias = ""

    def __init__(self, seed: int | None = None, allow_duplicates: bool = False):
        self.seed = seed
        self.allow_duplicates = allow_duplicates

    # -- configuration ------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """JSON description of the strategy, stored with every search.

        Returns
        -------
        dict
            ``{"class": <class name>, "alias": <registered name>, "params": get_params()}``; what
            :meth:`from_stored` rebuilds the strategy from.
        """
        return {"class": type(self).__name__, "alias": self.alias, "params": self.get_params()}

    def _repr_params(self) -> dict[str, Any]:
        params = self.get_params()
        seed = getattr(self, "seed_", None)
        if params.get("seed") is None and seed is not None:  # set up: show the seed in effect
            params["seed"] = seed
        return params

    @classmethod
    def from_stored(cls, params: Mapping[str, Any]) -> BaseStrategy:
        """This strategy built from the ``params`` of a stored configuration (``to_config()``).

        A parameter added after it was stored takes its :attr:`stored_defaults` value, the one that
        behaves as that search did. ``load_search``, a stored Portfolio's arms and a stored wrapper's
        ``base`` are all rebuilt through this.

        Parameters
        ----------
        params : Mapping
            ``to_config()["params"]``: constructor arguments by name.

        Returns
        -------
        BaseStrategy
            A new, not yet set-up instance of ``cls``.
        """
        return cls(**{**cls.stored_defaults, **params})

    def _validate_params(self) -> None:
        """Check constructor arguments (called by ``setup``); raise InvalidParameterError."""
        check_base_init(self, BaseStrategy)
        self.seed = check_int(type(self).__name__, "seed", self.seed, minimum=0, allow_none=True)  # np.int64 -> int
        if not isinstance(getattr(self, "allow_duplicates", False), bool):  # 'no' would be truthy
            raise InvalidParameterTypeError(
                f"{type(self).__name__}(allow_duplicates=...) must be True or False; got {self.allow_duplicates!r}."
            )

    # -- lifecycle ------------------------------------------------------------------------------
    def setup(self, space: SearchSpace, *, seed: int | None = None, mode: str = "max",
              metric: str | None = None) -> BaseStrategy:
        """Bind to a space and reset all learned state. Returns self.

        Parameters
        ----------
        space : SearchSpace
            The space to propose from.
        seed : int, optional
            The search's seed; the strategy's own ``seed`` parameter, when set, wins. None draws
            fresh entropy.
        mode : {"max", "min"}, default "max"
            Whether a larger or a smaller ``trial.value`` is better.
        metric : str, optional
            The task's objective (the key of ``report``'s metrics and of ``trial.curves``), for
            strategies that watch running trials (:meth:`on_report`).

        Returns
        -------
        BaseStrategy
            ``self``, set up.
        """
        self._validate_params()
        from nasbook.space import SearchSpace

        name = type(self).__name__
        if not isinstance(space, SearchSpace):
            raise InvalidParameterTypeError(
                f"{name}.setup(space=...) must be a SearchSpace; got {space!r:.60} of type {type(space).__name__}."
            )
        if mode not in ("max", "min"):
            raise unknown_choice(f"{name}.setup(mode=...)", mode, ("max", "min"))
        seed = check_int(name + ".setup", "seed", seed, minimum=0, allow_none=True)
        self.space_ = space
        self.mode_ = mode
        self.metric_ = metric
        #: the seed in effect: the strategy's own, else the search's (shown by ``repr``)
        self.seed_ = self.seed if self.seed is not None else seed
        self.rng_ = np.random.default_rng(self.seed_)
        self.seen_: set[str] = set()
        self.n_told_ = 0
        self.enqueued_: deque[Architecture] = deque()
        self.n_enqueued_ = 0
        self._setup()
        return self

    def enqueue(self, archs: Sequence[Architecture]) -> BaseStrategy:
        """Propose ``archs`` first, in order, before anything the strategy would choose.

        Call it after ``setup`` (like Optuna's ``enqueue_trial``): how a search is warm-started. They
        count as the strategy's own proposals: evolution's population starts from them (no random
        initial population when some are given), BO's initial design is them. One already seen is
        skipped. A wrapper (multi-fidelity scheduler, early stopping) passes them to the strategy it
        wraps.

        Parameters
        ----------
        archs : sequence of Architecture
            Members of the space the strategy was set up on.

        Returns
        -------
        BaseStrategy
            ``self``.
        """
        self.enqueued_.extend(archs)
        return self

    def _replay_next(self, arch: Architecture) -> Architecture | Proposal | Wait:
        """Replay one stored ask: an enqueued architecture as :meth:`ask` serves it, else :meth:`_replay_ask`."""
        if self._pop_enqueued(peek=True) is not None:
            return self.ask()
        return self._replay_ask(arch)

    def _pop_enqueued(self, peek: bool = False) -> Architecture | None:
        queue = getattr(self, "enqueued_", None)
        while queue:
            if queue[0].id in self.seen_ and not self.allow_duplicates:
                queue.popleft()
                continue
            return queue[0] if peek else queue.popleft()
        return None

    def ask(self) -> Architecture | Proposal | Wait:
        """The next architecture to evaluate.

        Called by the search whenever it has room for another trial, after ``setup``. Raises
        :class:`~nasbook.SpaceExhausted` when every architecture was seen.

        Returns
        -------
        Architecture, Proposal or WAIT
            An architecture; a :class:`Proposal` (with a fidelity, a checkpoint to continue from, a
            lineage); or :data:`~nasbook.trial.WAIT` when nothing can be proposed until a running
            trial ends.
        """
        first = self._pop_enqueued()
        if first is not None:
            self.seen_.add(first.id)
            self.n_enqueued_ += 1
            return first
        asked = self._ask()
        if asked is WAIT:
            return asked
        if isinstance(asked, Proposal):
            self.seen_.add(asked.arch.id)
        elif isinstance(asked, Architecture):
            self.seen_.add(asked.id)
        else:  # a plug-in's bug: a nasbook error (and still a TypeError) that says what _ask may return
            raise InvalidParameterTypeError(
                f"{type(self).__name__}._ask() must return an Architecture, a Proposal or nasbook.trial.WAIT; "
                f"got {asked!r:.80} of type {type(asked).__name__}."
            )
        return asked

    def _replay_ask(self, arch: Architecture) -> Architecture | Proposal | Wait:
        """Hook for resume: ask again while a stored history is replayed, knowing that the stored
        trial was ``arch``; return what the strategy proposes (compared with ``arch``: a difference
        is a ReproducibilityWarning).

        Default: :meth:`ask`. A strategy whose ask is costly (a model fit) overrides it to advance
        its state exactly as ``ask`` would have, without the cost, record ``arch`` in ``seen_`` and
        return it (:class:`~nasbook.strategies.BO` does).
        """
        return self.ask()

    def tell(self, trial: Trial) -> None:
        """Learn from one finished trial (committed already).

        Parameters
        ----------
        trial : Trial
            The stored trial, any state: ``trial.value`` is None for a failed one, ``trial.attrs`` is
            empty (held-out numbers never reach a strategy).
        """
        self.seen_.add(trial.arch.id)
        self.n_told_ += 1
        self._tell(trial)

    def on_start(self, number: int, proposal: Proposal) -> None:
        """Trial ``number`` is about to run ``proposal`` (its architecture, epochs, parent).

        Called by the search once per submission (a trial re-run after an interruption is started
        again under its number), before any :meth:`on_report` for it: a strategy that watches
        running trials learns here which architecture a trial number trains. Default: nothing.

        Parameters
        ----------
        number : int
            The trial's number in the search.
        proposal : Proposal
            What the trial runs: ``arch``, ``fidelity`` (e.g. ``{"epochs": 3}``), ``parent``.
        """

    @property
    def stops_trials(self) -> bool:
        """Whether :meth:`on_report` may stop running trials early (a stopping rule: its class overrides it).

        A trial's epochs are then the most it trains, not what it is likely to: at the end of an epochs budget
        the search starts the next trial with only the epochs left (stopped there, PRUNED ``stopped_by="budget"``)
        rather than keeping it queued for ``extend``. A strategy whose ``on_report`` only watches may say False.
        """
        return type(self).on_report is not BaseStrategy.on_report

    def on_report(self, number: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        """A running trial's metrics after ``epoch`` (counted from 0); ``Decision.STOP`` prunes it.

        Called in the notebook process for every per-epoch report, whatever the executor; the
        trial then ends PRUNED with what it reached and is told like any other. Default: never
        stop. Decisions are not replayed on resume (the pruned trials are, as stored).

        Parameters
        ----------
        number : int
            The reporting trial's number.
        epoch : int
            The epoch just finished, 0-based.
        metrics : Mapping of str to float
            Everything the task reported for that epoch; the objective is under the ``metric`` given
            to :meth:`setup`.

        Returns
        -------
        Decision
            ``Decision.CONTINUE`` or ``Decision.STOP``.
        """
        return Decision.CONTINUE

    def trial_attrs(self, number: int) -> dict[str, Any]:
        """Attributes the strategy records on trial ``number`` (running, or finishing now).

        They are stored with the trial when it is committed and shown by the live monitor.
        Default: none.

        Parameters
        ----------
        number : int
            The trial's number.

        Returns
        -------
        dict
            JSON-able values by name (e.g. a rung, a stopping reason); empty by default.
        """
        return {}


    def checkpoints_needed(self) -> set[int] | None:
        """Numbers of the trials whose checkpoints the strategy may still use.

        Returns
        -------
        set of int or None
            Trial numbers whose checkpoints must be kept; None keeps them all (the default).
        """
        return None

    def _setup(self) -> None:
        """Hook: reset subclass state after ``setup``."""

    @abc.abstractmethod
    def _ask(self) -> Architecture | Proposal | Wait:
        """Hook: propose one architecture (or return ``WAIT``); see :meth:`ask`."""

    def _tell(self, trial: Trial) -> None:
        """Hook: learn from a finished trial. Default: nothing."""

    # -- helpers for subclasses ------------------------------------------------------------------------
    def _score(self, trial: Trial) -> float:
        """Higher is better, whatever the task's mode; -inf for a trial without a value."""
        if trial.value is None or trial.value != trial.value:
            return float("-inf")
        return trial.value if self.mode_ == "max" else -trial.value

    def _withdraw(self, arch: Architecture) -> None:
        """Forget the proposal of ``arch`` (asked, never evaluated): it may be proposed again.

        ``Portfolio(bandit="hedge")`` withdraws the nominees it does not choose. Default: drop it
        from ``seen_``; a strategy that keeps more state about its proposals extends this."""
        self.seen_.discard(arch.id)

    def _is_new(self, arch: Architecture) -> bool:
        return self.allow_duplicates or arch.id not in self.seen_

    def _sample_new(self, propose: Callable[[], Architecture] | None = None, max_tries: int = 100) -> Architecture:
        """Draw from ``propose`` (default: uniform sampling) until an unseen architecture comes up.

        Falls back to uniform sampling, then raises SpaceExhausted when every architecture of
        the space has been seen.
        """
        space, rng = self.space_, self.rng_
        if propose is not None:
            for _ in range(max_tries):
                arch = propose()
                if self._is_new(arch):
                    return arch
        for _ in range(max_tries):  # cheap first: most draws are new
            arch = space.sample(rng)
            if self._is_new(arch):
                return arch
        if not self.allow_duplicates and len(self.seen_) >= space.cardinality:
            raise SpaceExhausted(f"all {space.cardinality} architectures of {space!r} have been proposed")
        while True:  # expected tries = cardinality / unseen: finite, since something is unseen
            arch = space.sample(rng)
            if self._is_new(arch):
                return arch


def clone(strategy: BaseStrategy) -> BaseStrategy:
    """A fresh, un-set-up copy with the same constructor arguments (nested strategies cloned too).

    Parameters
    ----------
    strategy : BaseStrategy
        The strategy to copy; it is left unchanged.

    Returns
    -------
    BaseStrategy
        A new instance of the same class, without learned state.
    """
    return strategy.clone()


def validate_nested(param: str, strategy: BaseStrategy) -> None:
    """Validate a strategy held by another (a wrapper's ``base``, a Portfolio's arm) with its holder's.

    ``MedianStopping(base=RegularizedEvolution(population_size=0))`` passed ``Search()``'s checks (only
    the outer strategy was validated) and failed when the search set the base up, after the search had
    been stored; the error now names the parameter that holds it.

    Parameters
    ----------
    param : str
        The holder's parameter, e.g. ``"MedianStopping(base=...)"``.
    strategy : BaseStrategy
        The strategy it holds.
    """
    try:
        strategy._validate_params()
    except InvalidParameterError as exc:
        raise type(exc)(f"{param}: {exc}") from None
