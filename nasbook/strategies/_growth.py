"""Evolution whose mutations grow a trained parent instead of training every child from zero."""

from __future__ import annotations

from collections import Counter, deque
from typing import TYPE_CHECKING, Any, ClassVar

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    check_int,
    unknown_choice,
)
from nasbook.growth import CYCLE_KEYS, KINDS, AlphaSchedule, check_cycle, growth_moves, settle_epochs, widen_all
from nasbook.space import CellSpace, ChainSpace
from nasbook.strategies._evolution import RegularizedEvolution
from nasbook.trial import Proposal

if TYPE_CHECKING:
    from nasbook.growth import GrowthMove
    from nasbook.space import Architecture
    from nasbook.trial import Trial

STARTS: tuple[str, ...] = ("small", "random")
#: how a move is chosen once the parent is: ``"capacity"`` widens a narrow chain (to the widest width) before
#: deepening it; ``"widen_all"`` the same, but widening every narrower layer in one move; ``"uniform"`` draws a
#: move kind uniformly, then a move of it
CHOICES: tuple[str, ...] = ("capacity", "uniform", "widen_all")
#: which op a ``deepen`` of the ``"capacity"``/``"widen_all"`` rules inserts: any (``"random"``) or one with the most
#: weights at the new layer's place (``"largest"``)
DEEPEN_OPS: tuple[str, ...] = ("random", "largest")
#: weights of a CNN layer per (input channels x width), by op; sepconv3x3 (depthwise 3 + pointwise 1) is computed
_OP_WEIGHTS: dict[str, float] = {"conv1x1": 1.0, "conv3x3": 9.0, "dilconv3x3": 9.0, "conv5x5": 25.0, "maxpool_conv3x3": 9.0}
#: when the population's best member is the parent instead of a tournament's winner (``train_more=True``)
EXPLOITS: tuple[str, ...] = ("off", "full", "always")


class Growth(RegularizedEvolution):
    """Regularized evolution whose mutations are growth moves and whose children inherit weights.

    The first ``population_size`` proposals are the initial population, trained from scratch
    (``start_epochs`` epochs). With ``start="small"`` (the default) they are the smallest networks
    of the space (``ChainSpace``: ``min_depth`` layers, or one more when those are used up, of the
    smallest width with random ops; ``CellSpace``: sparse cells of a few edges), so that the search
    grows them; ``start="random"`` samples uniformly. After that a tournament of ``sample_size``
    members picks a parent among the members that can grow (``inherit=True``: whose own seed
    landed, so the network in its checkpoint is exactly its architecture), then a move of it
    (``ChainSpace``: insert a layer, widen a layer; ``CellSpace``: put an op on an unused edge),
    chosen by ``choice``. With ``inherit=True`` the child starts from the parent's trained checkpoint: the
    task copies the weights into the child network, the new capacity lands softly (a seed at
    ``alpha = 0`` that shadow-trains, blends in and becomes the child's own layer) and the child
    trains ``child_epochs`` epochs. With ``inherit=False`` the same kind of children train from
    scratch for the task's full epochs (the comparison the benchmark makes).

    With ``train_more=True`` (the default) the tournament runs over every member that can be a
    parent; a winner that cannot grow (it is as large as the space allows, or its grown children
    were all seen) trains ``child_epochs`` more epochs from its own checkpoint (``inherit=True``:
    ``Proposal(parent=...)``, the continued trial takes its parent's place in the population) or
    is mutated (``inherit=False``: a plain mutation, trained from scratch). With
    ``train_more=False`` the tournament runs over the members that can grow only, and the child is
    a plain mutation, trained from scratch, only when no member can grow. Parents'
    checkpoints live in the run's storage area and are deleted once their trial has left the
    population and no queued child still grows from them.

    Parameters
    ----------
    population_size, sample_size
        See :class:`RegularizedEvolution` (defaults 10 and 3: growth searches train real networks).
    start : {"small", "random"}, default "small"
        The initial population: the smallest networks of the space, or uniform samples.
    start_epochs : int or None, default None
        Epochs each member of the initial population trains (None: the task's ``max_epochs``).
    child_epochs : int or None, default None
        Epochs a grown child trains (None: the task's ``max_epochs``). With a move that adds a seed
        (``deepen``, ``add_edge``) it must be at least :func:`nasbook.growth.settle_epochs`:
        ``patience + 1`` (``blend_every="step"``) or ``patience + blend_length``
        (``blend_every="epoch"``), so that every seed leaves ``alpha = 0`` or is culled within the
        child's training; a smaller value is refused here, and a task whose ``max_epochs`` is too
        small (``child_epochs=None``) when the child starts training. Why not shrink the stages to
        fit: ``patience`` and the ramp are the seed's quality test; a child trained shorter than
        that test is its parent trained further (alpha stays 0), recorded under an architecture it
        is not, and cannot grow (its seed never landed).
    inherit : bool, default True
        Children start from their parent's trained checkpoint (soft-landing seeds); False trains them from scratch.
    moves : sequence of str, default ("deepen", "widen", "add_edge")
        Growth moves to use (all three by default; a space offers those it has).
    schedule : {"linear", "cosine"}, default "linear"
        The shape of the alpha ramp of a seed while it blends in (:class:`nasbook.growth.AlphaSchedule`).
    blend_length : int, default 20
        Updates from alpha 0 to 1 (see ``blend_every``).
    blend_every : {"step", "epoch"}, default "step"
        Alpha ramps from 0 to exactly 1 in ``blend_length`` steps or epochs.
    gate_tolerance : float, default 0.25
        A seed blends in once its shadow loss is within this fraction of the trunk's training loss.
    patience : int, default 2
        Epochs a seed may shadow-train without passing the gate before it is culled.
    choice : {"capacity", "uniform"}, default "capacity"
        How the move is chosen. ``"capacity"`` (``ChainSpace``): while the parent has a layer
        narrower than the space's widest width, widen its narrowest layer straight to the widest
        width; only a chain that is wide everywhere deepens (the new layer keeps the width of the
        layer before it, so it is wide too), at a random position with a random op; a move whose
        child was seen falls to the next in that order (then: a deepen after a widest layer, any
        widen, any deepen). ``"uniform"``: a move kind drawn uniformly
        among those the parent allows, then a move of that kind (the earlier default). Why
        ``"capacity"``: a grown child follows its parent's trajectory, and lineages that deepened
        the 8-channel starts without widening them stayed narrow and slow (MNIST-1D, 16 trials: best
        0.48 and 0.67 against 0.90-0.96 from scratch; docs/benchmarks.md, "Growth"). Both arms of
        the comparison (``inherit`` True or False) use the same rule. ``CellSpace`` has one kind
        (``add_edge``): either rule draws one uniformly. ``"widen_all"``: as ``"capacity"``, but a
        chain with several layers below the widest width widens them all to it in one child (a path
        of exact widens, :func:`nasbook.growth.widen_all`), so a lineage reaches the space's widest
        chains in one move instead of one per layer.
    train_more : bool, default True
        See above. Why: with ``"capacity"`` a lineage reaches the space's largest chains within a
        few moves, and its best network (four 32-channel layers, 2 epochs per move: 0.65 on
        MNIST-1D) then needed more training on the same architecture, not a sibling grown from a
        weaker member (0.61-0.62) or a plain mutation trained from scratch (6 epochs each); the
        same winner-takes-the-tournament rule holds in both arms of the comparison.
        On a table of learning curves (``DigitsTable``), which cannot train past the epochs it recorded,
        ``Search`` refuses it with ``inherit=True`` (the continuations have no end): pass False there.
    lr_cycle : bool or dict, default True
        With ``inherit=True``: every grown child and every continued trial trains with one
        learning-rate cycle over its epochs, a linear warm-up from ``floor`` times the task's ``lr``
        to the ``lr`` over the first ``warmup`` fraction of its steps, then a cosine decay back to
        ``floor`` times it at its last step (a warm restart, Loshchilov & Hutter 2017); a dict sets
        ``warmup`` and ``floor`` (defaults 0.1 and 0.05, :data:`nasbook.growth.CYCLE_KEYS`). The
        cycle is kept in the child's checkpoint, so its continuations run their own. Children
        trained from scratch (``inherit=False``, the initial population) keep the task's constant
        ``lr``. Why: a continued network at a constant learning rate plateaus (MNIST-1D, four
        32-channel layers continued 3 epochs at a time: 0.87-0.94), while one that anneals at the end
        of every continuation reaches 0.97-0.99 (docs/benchmarks.md, "Growth, round 4").
    exploit : {"off", "full", "always"}, default "off"
        With ``train_more=True``, when the population's best member is the parent instead of the
        winner of a tournament: ``"off"`` never; ``"full"`` once the best cannot grow (it is as
        large as the space allows, or its grown children were all seen: it is then continued with
        ``inherit=True``, mutated without), so the best full-size network is not left behind by a
        tournament that did not sample it; ``"always"``: every child is the best member's (a greedy
        climb: the best grows while it can, then trains longer). ``benchmarks/growth.py`` runs both arms with
        ``"always"`` since round 5: with ``deepen_op="largest"`` and ``continue_epochs`` at the task's
        ``max_epochs`` it reached the space's largest chains at the earliest trial on every probe seed
        (docs/benchmarks.md, "Growth, round 5").
    continue_epochs : int or None, default None
        Epochs a continued trial (``train_more``, ``inherit=True``) trains beyond its parent's checkpoint
        (None: ``child_epochs``). A network that cannot grow any more gains nothing from short steps
        between which nothing changes but the learning-rate cycle's restart; with it set to the task's
        ``max_epochs`` each continuation is one full training run started from the trained weights.
    deepen_op : {"random", "largest"}, default "largest"
        With ``choice="capacity"`` or ``"widen_all"`` on a ``ChainSpace``, which op a ``deepen`` inserts: any op
        (``"random"``), or, among the deepens of the chosen tier, only those whose new layer has the most weights
        (``"largest"``: on CNN chains ``conv5x5`` > ``conv3x3`` = ``dilconv3x3`` > ``sepconv3x3`` > ``conv1x1``;
        MLP ops all tie), so the move adds the most capacity, as the rule's widens do. Why: a lineage deepened
        with 1x1 convolutions keeps a receptive field too small for the task however long it trains (MNIST-1D
        probe seed 103: four 32-channel layers, three of them ``conv1x1``, 0.55 to 0.80 over seven continuations
        while scratch reached 0.97; docs/benchmarks.md, "Growth, round 5"). Both arms use the same rule.
    method : {"zero", "net2net"}, default "zero"
        How ``widen`` initialises the new units: random, with zero weight in the next layer
        (``"zero"``), or copies of existing units (``"net2net"``, whose copies stay copies under
        Adam: see :mod:`nasbook.growth`). Both are exact at the moment of growth.
    seed : int, optional
        Overrides the search's seed.
    allow_duplicates : bool, default False
        See :class:`BaseStrategy`.
    """

    alias: ClassVar[str] = "growth"
    needs_epochs: ClassVar[str] = "grows children from their parents' trained weights and trains them for epochs"
    continues_trials: ClassVar[bool] = True
    keeps_checkpoints: ClassVar[bool] = True

    def __init__(self, population_size: int = 10, sample_size: int = 3, child_epochs: int | None = None,
                 inherit: bool = True, moves: tuple[str, ...] = KINDS, schedule: str = "linear", blend_length: int = 20,
                 blend_every: str = "step", gate_tolerance: float = 0.25, patience: int = 2, method: str = "zero",
                 start: str = "small", start_epochs: int | None = None, choice: str = "capacity",
                 train_more: bool = True, lr_cycle: bool | dict[str, float] = True, exploit: str = "off",
                 continue_epochs: int | None = None, deepen_op: str = "largest", seed: int | None = None, allow_duplicates: bool = False):
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
        self.start = start
        self.start_epochs = start_epochs
        self.choice = choice
        self.train_more = train_more
        self.lr_cycle = lr_cycle
        self.exploit = exploit
        self.continue_epochs = continue_epochs
        self.deepen_op = deepen_op

    def _validate_params(self) -> None:
        super()._validate_params()
        owner = type(self).__name__
        self.child_epochs = check_int(owner, "child_epochs", self.child_epochs, minimum=1, allow_none=True)  # np.int64 -> int
        self.start_epochs = check_int(owner, "start_epochs", self.start_epochs, minimum=1, allow_none=True)
        self.continue_epochs = check_int(owner, "continue_epochs", self.continue_epochs, minimum=1, allow_none=True)
        self.patience = check_int(owner, "patience", self.patience, minimum=1)
        self.blend_length = check_int(owner, "blend_length", self.blend_length, minimum=1)  # named as given, not AlphaSchedule's
        if self.blend_every not in ("step", "epoch"):
            raise unknown_choice(f"{owner}(blend_every=...)", self.blend_every, ("step", "epoch"))
        if not isinstance(self.train_more, bool):
            raise InvalidParameterTypeError(f"{owner}(train_more=...) must be True or False; got {self.train_more!r}.")
        if self.exploit not in EXPLOITS:
            raise unknown_choice(f"{owner}(exploit=...)", self.exploit, EXPLOITS)
        if not isinstance(self.inherit, bool):
            raise InvalidParameterTypeError(f"{owner}(inherit=...) must be True or False; got {self.inherit!r}.")
        moves = self.moves
        if isinstance(moves, str) or not all(m in KINDS for m in moves) or not moves:
            raise InvalidParameterError(f"{owner}(moves=...) must be a non-empty list from {list(KINDS)!r}; got {moves!r}.")
        if self.method not in ("zero", "net2net"):
            raise unknown_choice(f"{owner}(method=...)", self.method, ("zero", "net2net"))
        if self.deepen_op not in DEEPEN_OPS:
            raise unknown_choice(f"{owner}(deepen_op=...)", self.deepen_op, DEEPEN_OPS)
        if self.choice not in CHOICES:
            raise unknown_choice(f"{owner}(choice=...)", self.choice, CHOICES)
        if self.start not in STARTS:
            raise unknown_choice(f"{owner}(start=...)", self.start, STARTS)
        if not isinstance(self.gate_tolerance, (int, float)) or not 0 <= self.gate_tolerance < float("inf"):
            raise InvalidParameterError(f"{owner}(gate_tolerance=...) must be a finite number >= 0; got {self.gate_tolerance!r}.")
        schedule = AlphaSchedule(self.schedule, self.blend_length, self.blend_every)  # raises on a bad schedule
        need = settle_epochs(self.patience, schedule)
        seeded = sorted(set(self.moves) & {"deepen", "add_edge"})  # (a widen is exact: it adds no seed)
        if self.inherit and seeded and self.child_epochs is not None and self.child_epochs < need:
            tail = need - self.patience
            ramp = f"blend_length={tail} (blend_every='epoch')" if self.blend_every == "epoch" else "1 (blend_every='step')"
            fix = f"child_epochs>={need}" + (f" or patience<={self.child_epochs - tail}" if self.child_epochs > tail else "")
            raise InvalidParameterError(
                f"{owner}(child_epochs=...) must be at least patience + {ramp} = {need} epochs with moves {seeded!r}, so "
                f"that every grown child's seed leaves alpha=0 or is culled within its training; got child_epochs="
                f"{self.child_epochs} with patience={self.patience}. Shorter, a seed that passes its gate late ends at "
                "alpha=0: the child is its parent trained further, recorded as an architecture it is not, and never "
                f"grows. Pass {fix}.")
        if not isinstance(self.lr_cycle, (bool, dict)):
            raise InvalidParameterTypeError(f"{owner}(lr_cycle=...) must be True, False or a dict with keys from "
                                            f"{list(CYCLE_KEYS)!r}; got {self.lr_cycle!r}.")
        if isinstance(self.lr_cycle, dict):
            check_cycle(self.lr_cycle, f"{owner}(lr_cycle=...)")

    def check_epoch_limit(self, max_epochs: int, task: str) -> None:
        """Refuse settings that ask ``task`` (a table of ``max_epochs`` recorded epochs) for more epochs.

        Called by ``Search`` before anything is stored (``nasbook.search._checks.check_strategy_task``),
        for tables only: a training task may train past its ``max_epochs``. With ``train_more`` and
        ``inherit`` a member that cannot grow is trained further from its own checkpoint, each time past
        the epochs it holds, with no end, so no setting of the epochs keeps it within a table: such a
        search used to fail mid-run (``fidelity['epochs'] 18 > 9`` on ``DigitsTable``). Capping the
        continuation at the table's last epoch would train nothing (the table answers the same curve
        point again) and spend trials on copies of the member.

        Parameters
        ----------
        max_epochs : int
            The epochs the table recorded per architecture.
        task : str
            How the error names the table (its repr).

        Raises
        ------
        InvalidParameterError
            For ``start_epochs`` or ``child_epochs`` above ``max_epochs``, or ``train_more`` with ``inherit``.
        """
        owner = type(self).__name__
        asked = [("start_epochs", self.start_epochs)] + ([("child_epochs", self.child_epochs)] if self.inherit else [])
        for name, value in asked:
            if value is not None and value > max_epochs:
                raise InvalidParameterError(
                    f"{owner}({name}={value}) trains trials for {value} epochs, but {task} recorded {max_epochs} epochs "
                    f"per architecture; pass {name}<={max_epochs} (or None: the table's {max_epochs}).")
        if self.train_more and self.inherit:
            step = (f"continue_epochs={self.continue_epochs} more epochs" if self.continue_epochs is not None
                    else f"child_epochs={self.child_epochs} more epochs" if self.child_epochs is not None
                    else "as many epochs again as it holds")
            raise InvalidParameterError(
                f"{owner}(train_more=True, inherit=True) trains a member that cannot grow further from its own "
                f"checkpoint, each time {step}, with no end, but {task} recorded "
                f"{max_epochs} epochs per architecture and cannot train past them (lowering start_epochs, child_epochs "
                "or continue_epochs only delays the failure). On a table pass train_more=False (a member that cannot "
                "grow is then mutated) or inherit=False.")

    def _cycle(self) -> dict[str, float] | None:
        if self.lr_cycle is False or not self.inherit:
            return None
        return check_cycle(self.lr_cycle if isinstance(self.lr_cycle, dict) else {})

    def _setup(self) -> None:
        super()._setup()
        # (score, arch, trial number, ready to grow from)
        self.population_: deque[tuple[float, Architecture, int, bool]] = deque(maxlen=self.population_size)  # type: ignore[assignment]
        self.n_grown_ = 0
        self.moves_used_: Counter[str] = Counter()  # growth moves proposed, by kind ("mutation": plain ones)
        self.pending_: dict[str, int] = {}  # grown child's arch id -> parent's number, until told: checkpoints stay
        self.continuing_: dict[int, int] = {}  # member being trained longer (train_more) -> epochs asked, until told
        self.epochs_: dict[int, int] = {}  # trial number -> epochs its checkpoint holds

    # -- the initial population ------------------------------------------------------------------------
    def _small(self) -> Architecture:
        space, rng = self.space_, self.rng_
        if isinstance(space, ChainSpace):
            ops = list(dict.fromkeys(op for op, _ in space.layer_choices))
            width = min(int(w) for _, w in space.layer_choices)
            state = {"tries": 0}

            def chain() -> Architecture:
                state["tries"] += 1  # depth min_depth first, one more layer once those are used up
                depth = min(space.max_depth, space.min_depth + state["tries"] // 30)
                return space.make(layers=[[ops[int(rng.integers(len(ops)))], width] for _ in range(depth)])

            return self._sample_new(chain, max_tries=120)
        if isinstance(space, CellSpace) and "none" in space.ops:
            live = [op for op in space.ops if op != "none"]

            def cell() -> Architecture:
                while True:  # sparse cells: each edge carries an op with probability 1/3
                    edges = [live[int(rng.integers(len(live)))] if rng.random() < 1 / 3 else "none"
                             for _ in range(space.n_edges)]
                    try:
                        return space.make(edges=edges)
                    except InvalidArchitectureError:
                        continue

            return self._sample_new(cell)
        return self._sample_new()

    def _payload(self, parent: Architecture, number: int, move: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
        cycle = self._cycle()
        return {"from": number, "parent": dict(parent.spec), "move": move, "method": self.method,
                "rng": int(self.rng_.integers(2**31)),
                "seed": {"shape": self.schedule, "length": self.blend_length, "every": self.blend_every,
                         "gate_tolerance": float(self.gate_tolerance), "patience": self.patience,
                         **({"cycle": cycle} if cycle is not None else {})}}

    def _new_moves(self, parent: Architecture) -> list[GrowthMove]:
        return [m for m in growth_moves(self.space_, parent) if m.kind in self.moves and self._is_new(m.child)]

    def _path(self, parent: Architecture, moves: list[GrowthMove]) -> list[GrowthMove]:
        """One of ``moves`` (the parent's unseen ones, non-empty) by the ``choice`` rule, as a path of one move;
        ``"widen_all"``: first the path that widens every narrower layer to the widest width, when it is new."""
        if self.choice == "widen_all" and isinstance(self.space_, ChainSpace) and "widen" in self.moves:
            path = widen_all(self.space_, parent)
            if len(path) > 1 and self._is_new(path[-1].child):
                return path
        return [self._choose(parent, moves)]

    def _choose(self, parent: Architecture, moves: list[GrowthMove]) -> GrowthMove:
        """One of ``moves`` (the parent's unseen ones, non-empty) by the ``choice`` rule."""
        rng = self.rng_
        if self.choice in ("capacity", "widen_all") and isinstance(self.space_, ChainSpace):
            widest = max(int(w) for _, w in self.space_.layer_choices)
            narrow = min(int(w) for _, w in parent["layers"])
            tiers = [  # the first non-empty tier wins
                [m for m in moves if m.kind == "widen" and m.params["width"] == widest
                 and int(parent["layers"][m.params["layer"]][1]) == narrow],
                [m for m in moves if m.kind == "widen" and m.params["width"] == widest],
                [m for m in moves if m.kind == "deepen"  # the new layer is as wide as the one before it
                 and int(parent["layers"][m.params["position"] - 1][1]) == widest],
                [m for m in moves if m.kind == "widen"],
                [m for m in moves if m.kind == "deepen"],
            ]
            for tier in tiers:
                if tier and self.deepen_op == "largest" and tier[0].kind == "deepen":
                    weights = [self._weights(parent, m) for m in tier]
                    most = max(weights)
                    tier = [m for m, w in zip(tier, weights) if w >= most]
                if tier:
                    return tier[int(rng.integers(len(tier)))]
        kinds = sorted({m.kind for m in moves})
        kind = kinds[int(rng.integers(len(kinds)))]
        of_kind = [m for m in moves if m.kind == kind]
        return of_kind[int(rng.integers(len(of_kind)))]

    def _weights(self, parent: Architecture, move: GrowthMove) -> float:
        """The weights of a deepen's new layer (CNN: by op, from the widths around it; MLP: input x width)."""
        position, op = move.params["position"], move.params["op"]
        width = int(move.child["layers"][position][1])
        c_in = int(parent["layers"][position - 1][1]) if position > 0 else width
        if getattr(self.space_, "kind", "cnn") != "cnn":
            return float(c_in * width)
        if op == "sepconv3x3":
            return float(9 * c_in + c_in * width)
        return _OP_WEIGHTS.get(op, 1.0) * c_in * width

    def _ask(self) -> Architecture | Proposal:
        self.n_asked_ += 1
        if self.n_asked_ <= self.population_size or not self.population_:
            arch = self._small() if self.start == "small" else self._sample_new()
            return Proposal(arch, epochs=self.start_epochs) if self.start_epochs is not None else arch
        pop = list(self.population_)
        if self.train_more:
            # the tournament runs over every member that can be a parent (inheriting: its seed landed)
            pool = [m for m in pop if (m[3] or not self.inherit) and m[2] not in self.continuing_]
            if pool:
                best = max(pool, key=lambda m: m[0])
                if self.exploit == "always" or (self.exploit == "full" and not self._new_moves(best[1])):
                    _, parent, number, _ = best
                else:
                    idx = self.rng_.choice(len(pool), size=min(self.sample_size, len(pool)), replace=False)
                    _, parent, number, _ = max((pool[int(i)] for i in idx), key=lambda m: m[0])
                moves = self._new_moves(parent)
                if moves:
                    return self._grow(parent, number, moves)
                if self.inherit and number in self.epochs_:  # as large as the space allows: it trains longer
                    self.moves_used_["train"] += 1  # (a task without epochs records none: a mutation then)
                    before = self.epochs_[number]
                    self.continuing_[number] = before + (self.continue_epochs or self.child_epochs or before)
                    return Proposal(parent, epochs=self.continuing_[number], parent=number, lineage=(number,))
                return self._mutate(parent, number)
        else:
            # the members that can grow: they have unseen grown children (and, when inheriting, a landed seed)
            growable = [(m, mv) for m in pop if (m[3] or not self.inherit) for mv in [self._new_moves(m[1])] if mv]
            if growable:
                idx = self.rng_.choice(len(growable), size=min(self.sample_size, len(growable)), replace=False)
                (_, parent, number, _), moves = max((growable[int(i)] for i in idx), key=lambda g: g[0][0])
                return self._grow(parent, number, moves)
        idx = self.rng_.choice(len(pop), size=min(self.sample_size, len(pop)), replace=False)
        _, parent, number, _ = max((pop[int(i)] for i in idx), key=lambda m: m[0])
        return self._mutate(parent, number)

    def _grow(self, parent: Architecture, number: int, moves: list[GrowthMove]) -> Proposal:
        path = self._path(parent, moves)
        child = path[-1].child
        self.n_grown_ += 1
        self.moves_used_[path[-1].kind] += 1
        if self.inherit:
            self.pending_[child.id] = number
            move = path[0].to_dict() if len(path) == 1 else [m.to_dict() for m in path]
            return Proposal(child, epochs=self.child_epochs, lineage=(number,),
                            grow=self._payload(parent, number, move))
        return Proposal(child, lineage=(number,))

    def _mutate(self, parent: Architecture, number: int) -> Proposal:
        state = {"arch": parent}
        self.moves_used_["mutation"] += 1

        def propose() -> Architecture:
            child = self.space_.mutate(state["arch"], self.rng_)
            state["arch"] = child
            return child

        return Proposal(self._sample_new(propose), lineage=(number,))

    def _tell(self, trial: Trial) -> None:
        self.pending_.pop(trial.arch.id, None)
        if trial.epochs:
            self.epochs_[trial.number] = int(trial.epochs)
        if trial.parent is not None and trial.parent in self.continuing_:
            proposed = self.continuing_.pop(trial.parent)
            self.epochs_[trial.number] = max(self.epochs_.get(trial.number, 0), proposed)
            if trial.value is not None:  # the same network, trained longer, takes its parent's place
                self.population_ = deque((m for m in self.population_ if m[2] != trial.parent),
                                         maxlen=self.population_size)
        if trial.value is not None:
            ready = trial.metrics.get("growth_ready", 1.0) == 1.0
            self.population_.append((self._score(trial), trial.arch, trial.number, ready))  # type: ignore[arg-type]

    def checkpoints_needed(self) -> set[int]:
        """The population's trials (any may be picked as a parent), the parents of children not told yet and the
        members being trained longer (train_more) until their continuation is told."""
        return {m[2] for m in self.population_} | set(self.pending_.values()) | set(self.continuing_)
