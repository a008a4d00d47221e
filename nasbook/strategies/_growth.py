"""Evolution whose mutations grow a trained parent instead of training every child from zero."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, unknown_choice
from nasbook.growth import KINDS, AlphaSchedule, growth_moves
from nasbook.strategies._evolution import RegularizedEvolution
from nasbook.trial import Proposal

if TYPE_CHECKING:
    from nasbook.space import Architecture
    from nasbook.trial import Trial


class Growth(RegularizedEvolution):
    """Regularized evolution whose mutations are growth moves and whose children inherit weights.

    The first ``population_size`` proposals are uniform samples trained from scratch. After that a
    tournament picks a parent from the population and a random :func:`~nasbook.growth.growth_moves`
    move grows it (``ChainSpace``: insert a layer, widen a layer; ``CellSpace``: put an op on an
    unused edge). With ``inherit=True`` the child starts from the parent's trained checkpoint: the
    task copies the weights into the child network, the new capacity lands softly (a seed at
    ``alpha = 0`` that shadow-trains, blends in and becomes the child's own layer) and the child
    trains ``child_epochs`` epochs. With ``inherit=False`` the same children train from scratch for
    the task's full epochs (the ablation the benchmark compares with).

    When a parent cannot grow (its checkpoint is gone, its own seed never landed, the space has no
    growth moves, or every grown child was seen) the child is a plain mutation trained from scratch.
    Parents' checkpoints live in the run's storage area and are deleted once their trial has left
    the population.

    Parameters
    ----------
    population_size, sample_size
        See :class:`RegularizedEvolution` (defaults 10 and 3: growth searches train real networks).
    child_epochs : int or None, default None
        Epochs a grown child trains (None: the task's ``max_epochs``).
    inherit : bool, default True
    moves : sequence of str, default all
        Growth moves to use: ``"deepen"``, ``"widen"``, ``"add_edge"``.
    schedule : {"linear", "cosine"}, default "linear"
    blend_length : int, default 20
    blend_every : {"step", "epoch"}, default "step"
        Alpha ramps from 0 to exactly 1 in ``blend_length`` steps or epochs.
    gate_tolerance : float, default 0.25
        A seed blends in once its shadow loss is within this fraction of the trunk's training loss.
    patience : int, default 2
        Epochs a seed may shadow-train without passing the gate before it is culled.
    method : {"net2net", "zero"}, default "net2net"
        How ``widen`` initialises the new units.
    """

    alias: ClassVar[str] = "growth"
    continues_trials: ClassVar[bool] = True
    keeps_checkpoints: ClassVar[bool] = True

    def __init__(self, population_size: int = 10, sample_size: int = 3, child_epochs: int | None = None,
                 inherit: bool = True, moves: tuple[str, ...] = KINDS, schedule: str = "linear", blend_length: int = 20,
                 blend_every: str = "step", gate_tolerance: float = 0.25, patience: int = 2, method: str = "net2net",
                 seed: int | None = None, allow_duplicates: bool = False):
        super().__init__(population_size=population_size, sample_size=sample_size, seed=seed,
                         allow_duplicates=allow_duplicates)
        self.child_epochs = child_epochs
        self.inherit = inherit
        self.moves = moves
        self.schedule = schedule
        self.blend_length = blend_length
        self.blend_every = blend_every
        self.gate_tolerance = gate_tolerance
        self.patience = patience
        self.method = method

    def _validate_params(self) -> None:
        super()._validate_params()
        owner = type(self).__name__
        check_int(owner, "child_epochs", self.child_epochs, minimum=1, allow_none=True)
        check_int(owner, "patience", self.patience, minimum=1)
        if not isinstance(self.inherit, bool):
            raise InvalidParameterTypeError(f"{owner}(inherit=...) must be True or False; got {self.inherit!r}.")
        moves = self.moves
        if isinstance(moves, str) or not all(m in KINDS for m in moves) or not moves:
            raise InvalidParameterError(f"{owner}(moves=...) must be a non-empty list from {list(KINDS)!r}; got {moves!r}.")
        if self.method not in ("net2net", "zero"):
            raise unknown_choice(f"{owner}(method=...)", self.method, ("net2net", "zero"))
        if not isinstance(self.gate_tolerance, (int, float)) or not 0 <= self.gate_tolerance < float("inf"):
            raise InvalidParameterError(f"{owner}(gate_tolerance=...) must be a finite number >= 0; got {self.gate_tolerance!r}.")
        AlphaSchedule(self.schedule, self.blend_length, self.blend_every)  # raises on a bad schedule

    def _setup(self) -> None:
        super()._setup()
        # (score, arch, trial number, ready to grow from)
        self.population_: deque[tuple[float, Architecture, int, bool]] = deque(maxlen=self.population_size)  # type: ignore[assignment]
        self.n_grown_ = 0

    def _payload(self, parent: Architecture, number: int, move: dict[str, Any]) -> dict[str, Any]:
        return {"from": number, "parent": dict(parent.spec), "move": move, "method": self.method,
                "rng": int(self.rng_.integers(2**31)),
                "seed": {"shape": self.schedule, "length": self.blend_length, "every": self.blend_every,
                         "gate_tolerance": float(self.gate_tolerance), "patience": self.patience}}

    def _ask(self) -> Architecture | Proposal:
        self.n_asked_ += 1
        if self.n_asked_ <= self.population_size or not self.population_:
            return self._sample_new()
        pop = self.population_
        idx = self.rng_.choice(len(pop), size=min(self.sample_size, len(pop)), replace=False)
        _, parent, number, ready = max((pop[int(i)] for i in idx), key=lambda m: m[0])
        moves = [m for m in growth_moves(self.space_, parent) if m.kind in self.moves and self._is_new(m.child)]
        if moves:
            move = moves[int(self.rng_.integers(len(moves)))]
            self.n_grown_ += 1
            if self.inherit and ready:
                return Proposal(move.child, epochs=self.child_epochs, lineage=(number,),
                                grow=self._payload(parent, number, move.to_dict()))
            return Proposal(move.child, lineage=(number,))
        state = {"arch": parent}

        def propose() -> Architecture:
            child = self.space_.mutate(state["arch"], self.rng_)
            state["arch"] = child
            return child

        return Proposal(self._sample_new(propose), lineage=(number,))

    def _tell(self, trial: Trial) -> None:
        if trial.value is not None:
            ready = trial.metrics.get("growth_ready", 1.0) == 1.0
            self.population_.append((self._score(trial), trial.arch, trial.number, ready))  # type: ignore[arg-type]

    def checkpoints_needed(self) -> set[int]:
        """The population's trials: any of them may be picked as a parent."""
        return {m[2] for m in self.population_}
