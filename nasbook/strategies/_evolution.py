from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, ClassVar

from nasbook._errors import InvalidParameterError, check_int
from nasbook.strategies._base import BaseStrategy, Proposal

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial


class RegularizedEvolution(BaseStrategy):
    """Regularized (aging) evolution, Real et al. 2019.

    The first ``population_size`` proposals are uniform samples (none when the search was
    warm-started: the population starts from the architectures enqueued, see ``enqueue``). After that each proposal is a
    mutation of the best of ``sample_size`` members drawn at random from the population; the
    population holds the ``population_size`` most recently *finished* trials, so old members age
    out whatever their score.

    Parameters
    ----------
    population_size : int
        Members kept (>= 2). Default 30, NASLib's default for tabular benchmarks.
    sample_size : int
        Tournament size (1 <= sample_size <= population_size): larger is greedier. Default 10
        (NASLib's).
    seed, allow_duplicates
        See :class:`BaseStrategy`.
    """

    alias: ClassVar[str] = "evolution"

    def __init__(self, population_size: int = 30, sample_size: int = 10, seed: int | None = None, allow_duplicates: bool = False):
        super().__init__(seed=seed, allow_duplicates=allow_duplicates)
        self.population_size = population_size
        self.sample_size = sample_size

    def _validate_params(self) -> None:
        super()._validate_params()
        self.population_size = check_int("RegularizedEvolution", "population_size", self.population_size, minimum=2)  # np.int64 -> int:
        self.sample_size = check_int("RegularizedEvolution", "sample_size", self.sample_size, minimum=1)  # deque(maxlen=) refuses numpy
        if self.sample_size > self.population_size:
            raise InvalidParameterError(
                f"RegularizedEvolution(sample_size=...) must be <= population_size ({self.population_size}); "
                f"got {self.sample_size}."
            )

    def _setup(self) -> None:
        self.population_: deque[tuple[float, Architecture, int]] = deque(maxlen=self.population_size)  # (score, arch, trial number)
        self.n_asked_ = 0

    def _ask(self) -> Architecture | Proposal:
        self.n_asked_ += 1
        n_random = 0 if self.n_enqueued_ else self.population_size  # warm-started: the seeds are the population
        if self.n_asked_ <= n_random or not self.population_:
            return self._sample_new()
        pop = self.population_
        idx = self.rng_.choice(len(pop), size=min(self.sample_size, len(pop)), replace=False)
        _, parent, parent_number = max((pop[int(i)] for i in idx), key=lambda m: m[0])
        space, rng = self.space_, self.rng_
        state = {"arch": parent}

        def propose() -> Architecture:
            # a random walk from the parent: repeated mutation escapes a fully explored neighbourhood
            child = space.mutate(state["arch"], rng)
            state["arch"] = child
            return child

        # the child trains from scratch; its lineage records the parent it was mutated from
        return Proposal(self._sample_new(propose), lineage=(parent_number,))

    def _tell(self, trial: Trial) -> None:
        if trial.value is not None:
            self.population_.append((self._score(trial), trial.arch, trial.number))
