from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from nasbook._errors import check_int, unknown_choice
from nasbook.strategies._base import BaseStrategy

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial


class LocalSearch(BaseStrategy):
    """Hill climbing over the space's neighbourhood (White et al., 2021).

    Starts from the best of ``n_initial`` random architectures, then evaluates the neighbours
    of the current architecture in random order. With ``improvement="first"`` it moves as soon
    as a neighbour beats the current one; with ``"best"`` it moves to the best neighbour once
    the whole neighbourhood is evaluated. At a local optimum it restarts from a random
    architecture.

    Parameters
    ----------
    n_initial : int
        Random architectures before climbing (>= 1).
    improvement : {"first", "best"}
        Move to the first neighbour that beats the current architecture, or to the best neighbour once all are evaluated.
    seed, allow_duplicates
        See :class:`BaseStrategy`.
    """

    alias: ClassVar[str] = "local"

    def __init__(self, n_initial: int = 10, improvement: str = "first", seed: int | None = None, allow_duplicates: bool = False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.n_initial = n_initial
        self.improvement = improvement

    def _validate_params(self) -> None:
        super()._validate_params()
        self.n_initial = check_int("LocalSearch", "n_initial", self.n_initial, minimum=1)
        if self.improvement not in ("first", "best"):
            raise unknown_choice("LocalSearch(improvement=...) value", self.improvement, ("first", "best"))

    def _setup(self) -> None:
        self.current_: tuple[float, Architecture] | None = None
        self.best_neighbour_: tuple[float, Architecture] | None = None
        self.queue_: list[Architecture] = []
        self.n_asked_ = 0
        self.n_initial_told_ = 0

    def _refill(self) -> None:
        assert self.current_ is not None
        nbrs = self.space_.neighbours(self.current_[1])
        order = self.rng_.permutation(len(nbrs))
        self.queue_ = [nbrs[int(i)] for i in order]

    def _ask(self) -> Architecture:
        self.n_asked_ += 1
        if self.current_ is None or self.n_asked_ <= self.n_initial:
            return self._sample_new()
        while self.queue_:
            arch = self.queue_.pop()
            if self._is_new(arch):
                return arch
        # neighbourhood exhausted: move to the best neighbour if it improved ("best"), else restart
        if self.best_neighbour_ is not None and self.best_neighbour_[0] > self.current_[0]:
            self.current_, self.best_neighbour_ = self.best_neighbour_, None
            self._refill()
            return self._ask_from_queue_or_random()
        self.current_, self.best_neighbour_ = None, None
        self.n_asked_ = 0  # a restart is a fresh climb: n_initial random archs again
        return self._ask()

    def _ask_from_queue_or_random(self) -> Architecture:
        while self.queue_:
            arch = self.queue_.pop()
            if self._is_new(arch):
                return arch
        return self._sample_new()

    def _withdraw(self, arch: Architecture) -> None:
        """Forget the proposal, and put ``arch`` back on top of the neighbours to try (it was the next one)."""
        super()._withdraw(arch)
        if self.current_ is not None and arch.id != self.current_[1].id:
            self.queue_.append(arch)

    def _tell(self, trial: Trial) -> None:
        if trial.value is None:
            return
        member = (self._score(trial), trial.arch)
        if self.current_ is None:
            self.current_ = member
            self._refill()
            return
        if self.improvement == "first" or self.n_asked_ <= self.n_initial:
            if member[0] > self.current_[0]:
                self.current_ = member
                self._refill()
        elif self.best_neighbour_ is None or member[0] > self.best_neighbour_[0]:
            self.best_neighbour_ = member
