"""Multi-fidelity scheduling over epochs: ASHA, successive halving and Hyperband.

Each wraps a *proposing* strategy (``base``: "random", "evolution", any BaseStrategy) that picks
new architectures; the wrapper decides how many epochs each gets. A promotion is a new trial of
the same architecture with more epochs and ``parent`` = the trial it continues from, so a
training task resumes from that trial's checkpoint instead of retraining from scratch.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING, ClassVar

from nasbook._errors import InvalidParameterError, SpaceExhausted, check_int, unknown_choice
from nasbook.strategies._base import BaseStrategy, Proposal
from nasbook.strategies._wraps import WrapsBase, refuse_base_class
from nasbook.trial import WAIT, Wait

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial

#: what a rung ranks its trials by (see ASHA's ``rank_by``)
RANK_BY = ("value", "prediction", "blend")


def rung_epochs(min_epochs: int, max_epochs: int, eta: int) -> list[int]:
    """``[min, min*eta, min*eta^2, ..., max]``: the epochs at which trials are compared.

    Parameters
    ----------
    min_epochs : int
        Epochs of the lowest rung.
    max_epochs : int
        Epochs of the highest rung, always the last entry (even when not a power of ``eta`` away).
    eta : int
        Factor between successive rungs.

    Returns
    -------
    list of int
        Increasing epoch counts, e.g. ``rung_epochs(1, 27, 3) == [1, 3, 9, 27]``.
    """
    fn = "rung_epochs"
    min_epochs, eta = check_int(fn, "min_epochs", min_epochs, minimum=1), check_int(fn, "eta", eta, minimum=2)
    max_epochs = check_int(fn, "max_epochs", max_epochs, minimum=min_epochs)  # eta=1 looped for ever
    rungs = [min_epochs]
    while rungs[-1] * eta < max_epochs:
        rungs.append(rungs[-1] * eta)
    if rungs[-1] != max_epochs:
        rungs.append(max_epochs)
    return rungs


class _MultiFidelity(WrapsBase):
    """Shared parameters, validation and base-strategy plumbing."""

    continues_trials: ClassVar[bool] = True  # a promotion continues its parent's checkpoint
    # ... kept on disk next to a SQLite store or in Search(checkpoints=...) (found again by a resumed search), else
    # in a temporary folder of the search's own (search/_tempckpt.py), and
    # only while the trial may still be promoted (checkpoints_needed): in memory, a search of thousands of trials
    # held ~1 MB per trial
    keeps_checkpoints: ClassVar[bool] = True
    needs_epochs: ClassVar[str] = "trains trials for a few epochs and continues the best ones for more"

    def __init__(
        self,
        base: str | BaseStrategy = "random",
        min_epochs: int = 1,
        max_epochs: int = 27,
        eta: int = 3,
        seed: int | None = None,
        allow_duplicates: bool = False,
        rank_by: str = "value",
    ):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        refuse_base_class(self, base)  # at once, as Search(strategy=RandomSearch) is refused
        self.base = base
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.eta = eta
        self.rank_by = rank_by

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        self.min_epochs = check_int(name, "min_epochs", self.min_epochs, minimum=1)
        self.max_epochs = check_int(name, "max_epochs", self.max_epochs, minimum=1)
        self.eta = check_int(name, "eta", self.eta, minimum=2)
        if self.max_epochs < self.min_epochs:
            raise InvalidParameterError(
                f"{name}(max_epochs=...) must be >= min_epochs ({self.min_epochs}); got {self.max_epochs}."
            )
        if self.rank_by not in RANK_BY:
            raise unknown_choice(f"{name}(rank_by=...)", self.rank_by, RANK_BY)
        self._check_base()

    def _rung_score(self, trial: Trial) -> float:
        """How a rung ranks ``trial`` (higher is better): its value, or with ``rank_by="prediction"`` the
        final value a wrapping :class:`~nasbook.strategies.CurveStopping` predicted from the trial's whole
        curve at this rung (its ``predicted_final`` attr, made at ``predicted_at_epoch == trial.epochs``),
        the value when there is no such prediction."""
        if self.rank_by in ("prediction", "blend") and trial.value is not None:
            attrs = trial.attrs or {}
            mean, at = attrs.get("predicted_final"), attrs.get("predicted_at_epoch")
            if isinstance(mean, (int, float)) and math.isfinite(mean) and at is not None and at == trial.epochs:
                return float(mean) if self.mode_ == "max" else -float(mean)
        return self._score(trial)

    def _value_weight(self, trial: Trial) -> float | None:
        """With ``rank_by="blend"``: the weight of the observed value at this rung (the trial's
        ``predicted_value_weight`` attr, recorded with its prediction at ``trial.epochs``), else None."""
        if self.rank_by != "blend" or trial.value is None:
            return None
        attrs = trial.attrs or {}
        w, at = attrs.get("predicted_value_weight"), attrs.get("predicted_at_epoch")
        if isinstance(w, (int, float)) and math.isfinite(w) and at is not None and at == trial.epochs:
            return float(w)
        return None

    def _ranked(self, results: dict[str, tuple[float, int, Architecture]]) -> list[tuple[str, tuple[float, int, Architecture]]]:
        """A rung's results, best first: by score (ties: the earlier trial); with ``rank_by="blend"``
        by ``(1 - w) * rank(prediction) + w * rank(value)`` over the rung (ranks average ties)."""
        items = list(results.items())
        blend = self.blend_
        if self.rank_by != "blend" or not any(v[1] in blend for _, v in items):
            return sorted(items, key=lambda kv: (-kv[1][0], kv[1][1]))
        import numpy as np
        from scipy.stats import rankdata

        pred = rankdata([v[0] for _, v in items])
        value = rankdata([blend.get(v[1], (v[0], 0.0))[0] for _, v in items])
        w = np.array([blend.get(v[1], (0.0, 0.0))[1] for _, v in items])
        score = (1 - w) * pred + w * value
        order = sorted(range(len(items)), key=lambda i: (-score[i], items[i][1][1]))
        return [items[i] for i in order]

    def _record(self, results: dict[str, tuple[float, int, Architecture]], trial: Trial) -> None:
        if trial.arch.id in results:  # a result replaced (allow_duplicates): another's rank may rise, none is lost
            self.ranks_final_ = False
        results[trial.arch.id] = (self._rung_score(trial), trial.number, trial.arch)
        w = self._value_weight(trial)
        if w is not None:
            self.blend_[trial.number] = (self._score(trial), w)

    def _setup(self) -> None:
        self.base_ = self._setup_base()
        self.rungs_ = rung_epochs(self.min_epochs, self.max_epochs, self.eta)
        self.blend_: dict[int, tuple[float, float]] = {}  # rank_by="blend": trial number -> (value score, its weight)
        # a rung's result only falls in its ranking as results arrive (ties: the earlier trial first), so one ranked
        # out of what its rung can ever promote is let go for good; not with rank_by="blend" (its ranks move with
        # every result), nor where one may be replaced (its architecture again) or placed above rung 0 by a warm start
        self.ranks_final_ = self.rank_by != "blend" and not getattr(self.base_, "allow_duplicates", True)

    def _new_arch(self) -> Architecture:
        asked = self.base_.ask()
        if isinstance(asked, Wait):  # a proposing strategy never waits (wrappers are refused as base)
            raise TypeError(f"{type(self).__name__}: base {self.base_!r} returned WAIT; it must propose.")
        return asked.arch if isinstance(asked, Proposal) else asked


class ASHA(_MultiFidelity):
    """Asynchronous successive halving (Li et al., 2020).

    New architectures (from ``base``) start at ``min_epochs``. Whenever a worker is free, the
    best not-yet-promoted trial among the top ``1/eta`` of the highest possible rung is promoted
    to the next rung (``eta`` times the epochs); otherwise a new architecture starts. No rung
    waits for stragglers, which keeps every worker busy.

    Parameters
    ----------
    base : str or BaseStrategy, default "random"
        Proposes new architectures (a proposing strategy: not a scheduler or another wrapper); it
        is told the results of the first rung.
    min_epochs, max_epochs : int, default 1 and 27
        Epochs of the first and the last rung; the rungs are ``min_epochs * eta ** k`` below
        ``max_epochs``, then ``max_epochs`` (:func:`rung_epochs`).
    eta : int >= 2, default 3
        Reduction factor.
    seed : int, optional
        Overrides the search's seed; ``base`` is set up with a seed drawn from it.
    allow_duplicates : bool, default False
        Unused by the scheduler (it proposes what ``base`` proposes: give ``base`` an instance with
        its own ``allow_duplicates``); kept for the common strategy signature.
    rank_by : {"value", "prediction", "blend"}, default "value"
        What a rung ranks by: the value reached at the rung's epochs (default), or the final value
        predicted from the curve so far by a wrapping :class:`~nasbook.strategies.CurveStopping`
        (``CurveStopping(base=ASHA(rank_by="prediction"), predictor=...)``; the observed value where
        it made no prediction). A rung of one or two epochs ranks by how fast a network learns, which
        favours networks that learn fast and end poorly (MLPs against CNNs on MNIST-1D); a
        curve predictor with the architecture's features ranks by where it is heading.
        ``"blend"``: by ``(1 - w) * rank(predicted final) + w * rank(value)`` over the rung, w the
        weight CurveStopping gives the observed value at that epoch (``predicted_value_weight``:
        from how well the value and the prediction rank its prior's curves there; 0 where the value
        ranks them no better than chance). Without a prior's weight it ranks as ``"prediction"``.
    """

    alias: ClassVar[str] = "asha"

    def _setup(self) -> None:
        super()._setup()
        n = len(self.rungs_)
        self.results_: list[dict[str, tuple[float, int, Architecture]]] = [{} for _ in range(n)]
        self.promoted_: list[set[str]] = [set() for _ in range(n)]
        self.pending_: dict[str, int] = {}
        # each rung's order kept as results arrive (``_ranked``'s order, unless rank_by="blend", whose ranks
        # move with every result): the keys of all its results, and of those not promoted yet, sorted. An ask
        # then costs a bisect instead of sorting every rung (which made a search quadratic in its trials).
        self.order_: list[list[tuple[float, int, str]]] = [[] for _ in range(n)]
        self.open_: list[list[tuple[float, int, str]]] = [[] for _ in range(n)]
        # trials whose checkpoint a promotion may still continue (checkpoints_needed), kept as results arrive
        self.needed_: set[int] = set()
        self.lost_at_: list[tuple[float, int, str] | None] = [None] * n  # rung k's results from this key on: lost
        try:  # the most architectures rung 0 can ever hold (a table's rows); None: unbounded or unknown
            self.n_archs_: int | None = int(self.space_.cardinality)
        except Exception:  # noqa: BLE001  (a space that cannot tell: nothing is ever let go by rank)
            self.n_archs_ = None

    def _index(self, k: int, arch_id: str, stale: tuple[float, int, Architecture] | None) -> None:
        """Put rung ``k``'s new result of ``arch_id`` in its sorted keys (``stale``: the result it replaces)."""
        score, number, _ = self.results_[k][arch_id]
        for keys in (self.order_[k], self.open_[k]):
            if stale is not None:  # the same architecture again (allow_duplicates): its newer result counts
                old = (-stale[0], stale[1], arch_id)
                i = bisect.bisect_left(keys, old)
                if i < len(keys) and keys[i] == old:
                    del keys[i]
            if keys is self.order_[k] or arch_id not in self.promoted_[k]:
                bisect.insort(keys, (-score, number, arch_id))

    def _promote(self, k: int, arch_id: str, number: int, arch: Architecture) -> Proposal:
        self.promoted_[k].add(arch_id)
        self.pending_[arch_id] = k + 1
        return Proposal(arch, epochs=self.rungs_[k + 1], parent=number)

    def _ask(self) -> Proposal | Wait:
        for k in range(len(self.rungs_) - 2, -1, -1):
            results = self.results_[k]
            n_top = len(results) // self.eta
            if n_top == 0:
                continue
            if self.rank_by != "blend":
                # the best-ranked result not promoted and not running: promoted if it is in the top 1/eta
                for i, key in enumerate(self.open_[k]):
                    if key[2] in self.pending_:
                        continue
                    if bisect.bisect_left(self.order_[k], key) < n_top:
                        del self.open_[k][i]
                        _, number, arch = results[key[2]]
                        return self._promote(k, key[2], number, arch)
                    break
                continue
            top = self._ranked(results)[:n_top]
            for arch_id, (_, number, arch) in top:
                if arch_id not in self.promoted_[k] and arch_id not in self.pending_:
                    return self._promote(k, arch_id, number, arch)
        try:
            arch = self._new_arch()
        except SpaceExhausted:
            if self.pending_:  # trials still running (a parallel executor) may yet earn a promotion
                return WAIT
            raise
        self.pending_[arch.id] = 0
        return Proposal(arch, epochs=self.rungs_[0])

    def _tell(self, trial: Trial) -> None:
        k = self.pending_.pop(trial.arch.id, None)
        if k is None:  # a trial this scheduler did not ask for (a warm start): place it by epochs
            if trial.epochs not in self.rungs_:
                return
            k = self.rungs_.index(trial.epochs)
            self.ranks_final_ = self.ranks_final_ and k == 0  # (above rung 0: an architecture no promotion brought)
        if trial.parent is not None:  # a promotion told: its parent's checkpoint is continued (or lost)
            self.needed_.discard(trial.parent)
        if trial.value is not None:
            stale = self.results_[k].get(trial.arch.id)
            self._record(self.results_[k], trial)
            if self.rank_by != "blend":
                self._index(k, trial.arch.id, stale)
            if k + 1 < len(self.rungs_) and trial.arch.id not in self.promoted_[k]:
                if stale is not None:  # the same architecture again (allow_duplicates): its newer result counts
                    self.needed_.discard(stale[1])
                self.needed_.add(trial.number)
        if k == 0:
            self.base_.tell(trial)
        if self.ranks_final_ and self.n_archs_ is not None:
            entry = self.results_[k].get(trial.arch.id)
            told = (-entry[0], entry[1], trial.arch.id) if entry is not None and entry[1] == trial.number else None
            self._let_lost_go(self.n_archs_, k, told)

    def _let_lost_go(self, n_max: int, told_rung: int, told: tuple[float, int, str] | None) -> None:
        """Let go the results no promotion can ever continue: rung ``k`` holds at most ``n_k`` architectures
        (``n_0``: the space's, a table's rows), so one ranked ``n_k // eta`` or lower among its results now is never
        in its top ``1/eta`` (ranks only fall); ``n_{k+1}`` is ``n_k`` less rung ``k``'s unpromoted ones lost so.
        A rung's bound only falls, so each lost result is met once: amortised ``O(rungs * log n)`` a tell."""
        for k in range(len(self.rungs_) - 1):
            order, open_, old = self.order_[k], self.open_[k], self.lost_at_[k]
            cut = n_max // self.eta
            if cut < len(order) and (old is None or order[cut] < old):
                start = bisect.bisect_left(open_, order[cut])
                stop = len(open_) if old is None else bisect.bisect_left(open_, old)
                self.needed_.difference_update(key[1] for key in open_[start:stop])
                old = self.lost_at_[k] = order[cut]
            if old is None:
                continue
            if k == told_rung and told is not None and told >= old:  # the result told now, ranked among the lost
                self.needed_.discard(told[1])
            n_max -= len(open_) - bisect.bisect_left(open_, old)

    def checkpoints_needed(self) -> set[int]:
        """The trials a promotion may still continue: each result below the top rung not promoted yet (as
        results arrive, any of them may rise into the top ``1/eta``), and the parents of promotions not told
        yet. The top rung's trials, the promoted ones and the failed ones are let go, and so is a result ranked
        out of its rung's top ``1/eta`` for good: in a space of ``n`` architectures (a table), one ranked
        ``n // eta`` or lower at rung 0 can never rise into it, even after an ``extend`` (not with
        ``rank_by="blend"``, whose ranks move with every result, nor once an architecture was run twice).

        Returns
        -------
        set of int
            Trial numbers (the strategy's own set, kept as results arrive: read it, do not change it).
        """
        return self.needed_


class SuccessiveHalving(_MultiFidelity):
    """Synchronous successive halving (Jamieson & Talwalkar, 2016), bracket after bracket.

    A bracket starts ``n_initial`` architectures at ``min_epochs``, waits until all have
    finished, continues the best ``1/eta`` to ``eta`` times the epochs, and so on up to
    ``max_epochs``; then the next bracket starts. While a rung is unfinished and nothing can be
    promoted, ``ask`` returns ``WAIT`` and the search waits for running trials.

    Parameters
    ----------
    base, min_epochs, max_epochs, eta, seed, allow_duplicates, rank_by
        As for :class:`ASHA` (defaults ``"random"``, 1, 27, 3, None, False, ``"value"``).
    n_initial : int or None, default None
        Architectures per bracket (None: ``eta ** (number of rungs - 1)``).
    """

    alias: ClassVar[str] = "sh"

    def __init__(
        self,
        base: str | BaseStrategy = "random",
        min_epochs: int = 1,
        max_epochs: int = 27,
        eta: int = 3,
        n_initial: int | None = None,
        seed: int | None = None,
        allow_duplicates: bool = False,
        rank_by: str = "value",
    ):
        super().__init__(base, min_epochs, max_epochs, eta, seed, allow_duplicates, rank_by)
        self.n_initial = n_initial

    def _validate_params(self) -> None:
        super()._validate_params()
        self.n_initial = check_int(type(self).__name__, "n_initial", self.n_initial, minimum=1, allow_none=True)

    def _brackets(self) -> list[tuple[int, list[int]]]:
        """(architectures, rung epochs) of each bracket in the cycle."""
        rungs = self.rungs_
        n = self.n_initial if self.n_initial is not None else self.eta ** (len(rungs) - 1)
        return [(n, rungs)]

    def _setup(self) -> None:
        super()._setup()
        self.cycle_ = self._brackets()
        self.bracket_index_ = -1
        self._next_bracket()
        self.pending_: dict[str, int] = {}
        self.continuing_: set[int] = set()  # parents of promotions asked and not told yet

    def _next_bracket(self) -> None:
        self.bracket_index_ += 1
        n, rungs = self.cycle_[self.bracket_index_ % len(self.cycle_)]
        self.b_rungs_ = rungs
        self.b_sizes_ = [max(1, n // self.eta**k) for k in range(len(rungs))]
        self.b_results_: list[dict[str, tuple[float, int, Architecture]]] = [{} for _ in rungs]
        self.b_started_ = [0 for _ in rungs]
        self.b_queue_: list[tuple[Architecture, int]] = []  # promotions waiting: (arch, parent)
        self.b_rung_ = 0

    def _ask(self) -> Proposal | Wait:
        while True:
            k = self.b_rung_
            if k == 0 and self.b_started_[0] < self.b_sizes_[0]:
                try:
                    arch = self._new_arch()
                except SpaceExhausted:
                    if not self.b_started_[0]:
                        raise
                    # the space ran out mid-bracket: the bracket is the architectures it started, and its
                    # best still go up the rungs (they stopped at the first rung: a table's last ones were
                    # never trained beyond min_epochs)
                    n = self.b_started_[0]
                    self.b_sizes_ = [max(1, n // self.eta**j) for j in range(len(self.b_rungs_))]
                    continue
                self.b_started_[0] += 1
                self.pending_[arch.id] = 0
                return Proposal(arch, epochs=self.b_rungs_[0])
            if self.b_queue_:
                arch, parent = self.b_queue_.pop(0)
                self.continuing_.add(parent)
                self.b_started_[k] += 1
                self.pending_[arch.id] = k
                return Proposal(arch, epochs=self.b_rungs_[k], parent=parent)
            done = len(self.b_results_[k]) + self._lost(k)
            if done < self.b_started_[k]:
                return WAIT  # wait for this rung to finish
            if k + 1 < len(self.b_rungs_) and self.b_results_[k]:
                ranked = self._ranked(self.b_results_[k])
                keep = ranked[: self.b_sizes_[k + 1]]
                self.b_queue_ = [(a, number) for _, (_, number, a) in keep]
                self.b_rung_ = k + 1
                continue
            self._next_bracket()

    def _lost(self, k: int) -> int:
        return getattr(self, "_failed", {}).get((self.bracket_index_, k), 0)

    def checkpoints_needed(self) -> set[int]:
        """The trials a promotion may still continue: the results of the bracket's rung being filled (below
        its top rung), the promotions queued and those asked but not told yet. A rung's decision is final
        (the next bracket starts afresh), so a bracket holds at most its rung's architectures; and as the rung
        continues only its best ``b_sizes_[k + 1]`` and a result's rank only falls as results arrive, one ranked
        below them is let go at once, even while the rung is filled (not with ``rank_by="blend"``, whose ranks
        move with every result, nor where ``base`` may propose an architecture twice).

        Returns
        -------
        set of int
            Trial numbers.
        """
        k = self.b_rung_
        needed = set(self.continuing_)
        needed.update(parent for _, parent in self.b_queue_)
        if k + 1 < len(self.b_rungs_):
            results = self.b_results_[k]
            if self.ranks_final_ and len(results) > self.b_sizes_[k + 1]:  # the rung continues only its best
                results = dict(self._ranked(results)[: self.b_sizes_[k + 1]])
            needed.update(number for _, number, _ in results.values())
        return needed

    def _tell(self, trial: Trial) -> None:
        if trial.parent is not None:
            self.continuing_.discard(trial.parent)
        k = self.pending_.pop(trial.arch.id, None)
        if k is None:
            return  # not part of the current bracket (e.g. a warm start)
        if trial.value is None:  # failed: count it as finished so the rung can complete
            failed: dict[tuple[int, int], int] = self.__dict__.setdefault("_failed", {})
            failed[(self.bracket_index_, k)] = failed.get((self.bracket_index_, k), 0) + 1
        else:
            self._record(self.b_results_[k], trial)
        if k == 0:
            self.base_.tell(trial)


class Hyperband(SuccessiveHalving):
    """Hyperband (Li et al., 2018): successive-halving brackets that trade many short runs
    against few long ones, cycling from the most aggressive bracket to plain full training.

    With ``s_max + 1`` rungs, bracket ``s`` (from ``s_max`` down to 0) starts
    ``ceil((s_max + 1) / (s + 1) * eta ** s)`` architectures at rung ``s_max - s`` (counting from
    0) and continues the best ``1/eta`` of each rung to the next, up to ``max_epochs``; bracket 0
    trains its architectures to ``max_epochs`` directly.

    Parameters
    ----------
    base, min_epochs, max_epochs, eta, seed, allow_duplicates, rank_by
        As for :class:`ASHA` (defaults ``"random"``, 1, 27, 3, None, False, ``"value"``).
    n_initial : None
        Must stay None: the brackets set their own sizes (above); a number is refused.
    """

    alias: ClassVar[str] = "hyperband"

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.n_initial is not None:  # inherited from SuccessiveHalving, where it sizes the one bracket
            raise InvalidParameterError(
                f"Hyperband(n_initial=...) must be None: each bracket sets its own size from eta and the rungs "
                f"(SuccessiveHalving(n_initial=...) runs one bracket of a chosen size); got {self.n_initial!r}.")

    def _brackets(self) -> list[tuple[int, list[int]]]:
        rungs = self.rungs_
        s_max = len(rungs) - 1
        out = []
        for s in range(s_max, -1, -1):
            n = math.ceil((s_max + 1) / (s + 1) * self.eta**s)
            out.append((n, rungs[s_max - s:]))
        return out
