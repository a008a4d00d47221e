"""Argument checks of :class:`~nasbook.Search` that need no I/O."""

from __future__ import annotations

import dataclasses
import inspect
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from nasbook._errors import (
    InvalidArchitectureError,
    InvalidParameterError,
    InvalidParameterTypeError,
    check_int,
    class_given,
    unknown_choice,
)
from nasbook.space import SearchSpace, SubsetSpace
from nasbook.strategies import BaseStrategy, available_strategies, get_strategy
from nasbook.tasks import CurveTableTask, Task, TrainingTask
from nasbook.trial import Decision, Proposal


def not_a_class(param: str, value: Any, base: type, names: Callable[[], dict[str, Any]] | None = None,
                owner: str = "Search", *, none_ok: bool = False) -> None:
    """Refuse a ``base`` subclass given where an instance is expected (``Search(strategy=HillClimb)``), saying
    to pass ``HillClimb(...)`` or its registered name (:func:`~nasbook._errors.class_given`); ``owner`` is the
    function the parameter belongs to (``"load_search"``), ``none_ok`` adds None to what it takes."""
    if isinstance(value, type) and issubclass(value, base):
        named = " or a registered name" if names else ""
        raise InvalidParameterTypeError(f"{owner}({param}=...) must be a {base.__name__} instance{named}"
                                        f"{' or None' if none_ok else ''}; got {value!r}{class_given(value, base, names)}.")


def strategy_instance(strategy: Any, owner: str = "Search") -> BaseStrategy:
    """``Search(strategy=...)``: an instance, or a name :func:`~nasbook.strategies.get_strategy` resolves; a class
    refused, the error naming ``owner``'s parameter (``"load_search"``)."""
    not_a_class("strategy", strategy, BaseStrategy, available_strategies, owner)
    return get_strategy(strategy)


def space_and_task(space: Any, task: Any) -> tuple[SearchSpace, Task]:
    """Accept ``Search(space, task)`` and ``Search(task)`` for a task that fixes its space."""
    not_a_class("task", task, Task)
    not_a_class("task" if task is None else "space", space, Task)  # Search(ToyTask): the task, given first
    not_a_class("space", space, SearchSpace)
    if isinstance(space, Task) and task is None:
        space, task = None, space
    if task is None:
        hint = ""
        if isinstance(space, str):
            hint = f" For a NAS-Bench-Graph table: Search(NasBenchGraph({space!r}), ...) with from nasbook.tasks import NasBenchGraph."
        raise InvalidParameterTypeError(
            "Search needs a task: Search(space, task, ...), or Search(task, ...) for a task that fixes its space; "
            f"got {space!r:.80} of type {type(space).__name__} and no task.{hint}"
        )
    if not isinstance(task, Task):
        raise InvalidParameterTypeError(f"Search(task=...) must be a nasbook Task; got {task!r:.80} of type {type(task).__name__}.")
    if space is None:
        space = task.space
        if space is None:
            raise InvalidParameterError(f"{task!r} does not fix a search space; pass one: Search(space, task, ...).")
    if not isinstance(space, SearchSpace):
        raise InvalidParameterTypeError(f"Search(space=...) must be a SearchSpace; got {space!r:.80} of type {type(space).__name__}.")
    _check_objective(task)
    if isinstance(task, TrainingTask) and not _can_build(space):
        raise InvalidParameterError(
            f"{type(task).__name__} trains networks that the space builds, but Search(space=...) got "
            f"{type(space).__name__}, a tabular benchmark space whose architectures cannot be built. Search a "
            "CellSpace or ChainSpace with a training task."
        )
    return space, task


def _check_objective(task: Task) -> None:
    """A custom task's ``metric`` and ``mode`` (class attributes, so no constructor checks them)."""
    name = type(task).__name__
    if not isinstance(task.metric, str) or not task.metric:
        raise InvalidParameterError(f"{name}.metric must be the objective's name (a non-empty str); got {task.metric!r}.")
    if task.mode not in ("max", "min"):
        raise unknown_choice(f"{name}.mode (whether {task.metric!r} is maximised or minimised)", task.mode, ("max", "min"))


def _can_build(space: SearchSpace) -> bool:
    while isinstance(space, SubsetSpace):
        space = space.parent
    return type(space).build is not SearchSpace.build


#: longest search name (the storage's ``name`` column is VARCHAR(255) on every database)
MAX_NAME = 255


def check_name(name: Any) -> None:
    """``Search(name=...)``: None, or a non-empty string a database column holds."""
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidParameterError(f"Search(name=...) must be a non-empty string; got {name!r}.")
    if name is not None and len(name) > MAX_NAME:
        raise InvalidParameterError(f"Search(name=...) must be at most {MAX_NAME} characters (a database column "
                                    f"holds it); got {len(name)}: {name[:40]!r}...")
    if name is not None and any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in name):  # split list's rows
        raise InvalidParameterError(f"Search(name=...) must hold no line breaks, tabs or other control characters "
                                    f"(it is shown in one-line listings); got {name!r:.80}.")


def check_timeout(value: Any, owner: str = "Search") -> float | None:
    """``trial_timeout_s``: seconds > 0, or None / ``math.inf`` for no limit (inf is kept as None: it is how
    ``load_search(trial_timeout_s=math.inf)`` removes a stored limit, None there keeping it)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:  # NaN is not > 0
        raise InvalidParameterError(f"{owner}(trial_timeout_s=...) must be a number of seconds > 0, math.inf (no limit) "
                                    f"or None; got {value!r:.80} of type {type(value).__name__}.")
    return None if value == float("inf") else float(value)


def check_callbacks(callbacks: Any, owner: str = "Search") -> list[Callable[..., Any]]:
    """A list of callables that can be called as ``fn(search, trial)``; an error names ``owner``'s
    parameter (``load_search(callbacks=...)`` passes its own through)."""
    if callbacks is not None and (isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence)):
        raise InvalidParameterTypeError(f"{owner}(callbacks=...) must be a list of callables fn(search, trial); "
                                        f"got {callbacks!r:.80} of type {type(callbacks).__name__}.")
    out = list(callbacks or [])
    for cb in out:
        if not callable(cb):
            raise InvalidParameterTypeError(f"{owner}(callbacks=...) must hold callables fn(search, trial); "
                                            f"got {cb!r:.80} of type {type(cb).__name__}.")
        _check_callback(cb, owner)
    return out


def _check_callback(cb: Callable[..., Any], owner: str) -> None:
    """Refuse a callback that cannot be called as ``fn(search, trial)`` (checked before anything runs)."""
    try:
        sig = inspect.signature(cb)
    except (TypeError, ValueError):  # a builtin without a signature: it is called and may raise then
        return
    try:
        sig.bind(None, None)
    except TypeError as exc:
        raise InvalidParameterTypeError(
            f"{owner}(callbacks=...): every callback is called as fn(search, trial), but {cb!r:.80} takes {sig} "
            f"({exc})."
        ) from None


def check_epochs_task(task: Task, what: str) -> None:
    """Refuse a budget in epochs for a task that does not train for epochs."""
    if not task.has_epochs:
        raise InvalidParameterError(f"{what} needs a task that trains for epochs; {task!r} looks answers up. "
                                    "Give the budget in trials or seconds.")


def check_strategy_epochs(strategy: Any, task: Task) -> None:
    """Refuse, before any trial runs, a schedule that goes past the epochs a table recorded.

    ``strategy="asha"`` on ``DigitsTable()`` (9 epochs) is ``ASHA(max_epochs=27)``: it used to run
    until its first promotion to 27 epochs and fail there, mid-search. A training task may train
    past its ``max_epochs``; a table cannot, so only tables are checked. Every part of the strategy
    is (:func:`_strategy_parts`): a wrapped one too, given as an instance, a name (its default
    ``max_epochs``) or a stored configuration.
    """
    if not isinstance(task, CurveTableTask):
        return
    for cls, part, _ in _strategy_parts(strategy, "", set()):
        top = getattr(_instance(cls, part), "max_epochs", None)
        if isinstance(top, int) and not isinstance(top, bool) and top > task.max_epochs:
            name = cls.__name__
            raise InvalidParameterError(
                f"{name}(max_epochs=...) schedules trials of up to {top} epochs, but {task!r} recorded "
                f"{task.max_epochs} epochs per architecture; pass strategy={name}(max_epochs={task.max_epochs}, ...) "
                "(the strategy's names use their default max_epochs).")


def _instance(cls: Any, part: Any) -> Any:
    """The strategy a part of :func:`_strategy_parts` stands for: itself, or the instance its name or
    stored configuration makes (None where that is refused: the strategy's own checks name it)."""
    from nasbook.strategies import BaseStrategy

    if isinstance(part, BaseStrategy):
        return part
    try:
        return cls(**((part.get("params") or {}) if isinstance(part, dict) else {}))
    except (InvalidParameterError, TypeError):
        return None


def _check_epoch_limits(strategy: Any, task: CurveTableTask) -> None:
    """Refuse a strategy, or one it holds, that would ask a table for more epochs than it recorded.

    A strategy with a ``check_epoch_limit(max_epochs, task)`` method checks itself (``Growth``: it
    continued its members past the table, ``fidelity['epochs'] 18 > 9`` on ``DigitsTable``, trials into
    the run). Only tables: a training task may train past its ``max_epochs``.
    """
    for cls, part, where in _strategy_parts(strategy, "", set()):
        if not callable(getattr(cls, "check_epoch_limit", None)):
            continue
        made = _instance(cls, part)
        if made is None:
            continue
        try:
            made.check_epoch_limit(task.max_epochs, repr(task))
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{where.strip(' ()')}: {exc}" if where else str(exc)) from None


#: what a strategy that needs epochs can run on, and what runs on a table of final scores instead
_EPOCH_TASKS = "a task that trains for epochs (Digits, MNIST1D, BreastCancer, a TrainingTask) or a table of learning curves (DigitsTable, MNIST1DTable)"
_FINAL_SCORE_STRATEGIES = "'random', 'evolution', 'local', 'bo', 'optuna' or 'portfolio'"


def check_strategy_task(strategy: Any, task: Task, what: str | None = None) -> None:
    """Refuse, before anything is stored, a strategy whose method needs epochs on a task without them.

    ``strategy="asha"`` on ``NasBenchGraph`` (final scores only) was stored and failed at its first
    trial; ``"growth"``, ``"median-stopping"`` and ``"curve-stopping"`` ran silently as the random
    search they wrap (growth leaving a ``.checkpoints`` directory next to the store). Every part of
    the strategy is checked: a wrapper's ``base``, a Portfolio's arms, by instance, name or stored
    configuration. The strategy's parameters must have been validated (names resolve). A scheduler that ranks its
    rungs by predictions (``ASHA(rank_by="prediction")``, ``"blend"``) without a ``CurveStopping`` around it, which
    makes them, is refused: it would rank by the observed values, silently. On a table of
    learning curves, a strategy that would ask for more epochs than it recorded is refused too
    (``Growth``'s ``check_epoch_limit``). ``load_search`` runs it only for a strategy or task given to
    it: a search stored before these checks still loads.

    Parameters
    ----------
    strategy : BaseStrategy
        The search's strategy.
    task : Task
        The search's task.
    what : str, optional
        How the caller names the strategy (the CLI: ``"--strategy 'asha'"``); default: the class.
    """
    if isinstance(task, CurveTableTask):
        _check_epoch_limits(strategy, task)
    if task.has_epochs:
        _check_rank_by(strategy, what)
        return
    for cls, _, where in _strategy_parts(strategy, "", set()):
        needs = getattr(cls, "needs_epochs", "")
        if not needs:
            continue
        name = cls.__name__
        said = what if what is not None and not where else name
        raise InvalidParameterError(
            f"{said}{where} {needs}, but {task!r} does not train for epochs: it looks final scores up, so "
            f"{name} has nothing to work with. {name} needs {_EPOCH_TASKS}; on this task use a strategy that "
            f"proposes architectures only: {_FINAL_SCORE_STRATEGIES}.")


def _strategy_parts(part: Any, where: str, seen: set[int]) -> Any:
    """``(class, part, where)`` of a strategy and of every strategy it holds (``base``, a Portfolio's
    ``strategies``): ``part`` as given (an instance, a name or a stored configuration)."""
    from nasbook.strategies import BaseStrategy, strategy_class

    if id(part) in seen:
        return
    seen.add(id(part))
    params: Any = {}
    if isinstance(part, BaseStrategy):
        cls: Any = type(part)
        params = {k: getattr(part, k) for k in ("base", "strategies") if hasattr(part, k)}
    elif isinstance(part, (str, dict)):
        name = part if isinstance(part, str) else part.get("alias") or part.get("class", "")
        try:
            cls = strategy_class(str(name))
        except InvalidParameterError:  # refused, named, by the strategy's own checks
            return
        if isinstance(part, dict):
            params = part.get("params", {}) or {}
    else:
        return
    yield cls, part, where
    owner = cls.__name__
    if params.get("base") is not None:
        yield from _strategy_parts(params["base"], f" (the base of {owner})", seen)
    arms = params.get("strategies")
    if isinstance(arms, Sequence) and not isinstance(arms, str):
        for i, arm in enumerate(arms):
            yield from _strategy_parts(arm, f" (arm {i} of {owner})", seen)


def _check_rank_by(strategy: Any, what: str | None) -> None:
    """Refuse a multi-fidelity scheduler ranking its rungs by predictions (``rank_by="prediction"`` or ``"blend"``)
    in a strategy without a CurveStopping: only CurveStopping predicts, so it would rank by the observed values
    without a word (``ASHA(rank_by="prediction")`` ran as ``ASHA()``). Any CurveStopping in the strategy will do
    (a wrapper between them may pass its predictions on)."""
    parts = list(_strategy_parts(strategy, "", set()))
    if any(cls.__name__ == "CurveStopping" for cls, _, _ in parts):
        return
    for cls, part, where in parts:
        rank_by = (part.get("params") or {}).get("rank_by") if isinstance(part, dict) else getattr(part, "rank_by", None)
        if rank_by in ("prediction", "blend"):
            name = cls.__name__
            said = what if what is not None and not where else name
            raise InvalidParameterError(
                f"{said}{where} has rank_by={rank_by!r}: its rungs rank by the final values a wrapping CurveStopping "
                f"predicts, but no CurveStopping wraps it, so it would rank by the observed values. Wrap it, "
                f"CurveStopping(base={name}(rank_by={rank_by!r}, ...), predictor=...), or use rank_by='value'.")


def check_proposal(search: Any, proposal: Proposal) -> Proposal:
    """A strategy's proposal as the loop runs it, or an error naming the strategy (outside probe 6a): a member of
    the search's space (a forged one, the space's id on a spec no member has, reached the task), epochs an int
    >= 1 (0, -1, 2.5 and '2' were passed on to the task; numpy ints made plain), a ``parent`` that is a finished
    trial of the same architecture (another number trained from scratch without a word)."""
    try:  # cached per id by the space: a look-up after the first time
        search.space.validate(proposal.arch)
    except InvalidArchitectureError as exc:
        name = type(search.strategy).__name__
        raise InvalidArchitectureError(f"{name} proposed an architecture that is not a member of the search's space: {exc}") from None
    if proposal.epochs is None and proposal.parent is None:  # an architecture alone (a table look-up's search)
        return proposal
    name = type(search.strategy).__name__
    if proposal.epochs is not None:
        epochs = check_int(f"{name}'s Proposal", "epochs", proposal.epochs, minimum=1)
        if epochs is not proposal.epochs:
            proposal = dataclasses.replace(proposal, epochs=epochs)
    if proposal.parent is not None:
        number = check_int(f"{name}'s Proposal", "parent", proposal.parent, minimum=0)
        if number is not proposal.parent:
            proposal = dataclasses.replace(proposal, parent=number)
        parent = search._trial_by_number(number)
        if parent is None or parent.arch.id != proposal.arch.id:
            what = "no finished trial of this search" if parent is None else f"a trial of another architecture ({parent.arch.id})"
            raise InvalidParameterError(
                f"{name} proposed Proposal(parent={proposal.parent!r}) for architecture {proposal.arch.id}, but that is "
                f"{what}; parent= continues a finished trial of the same architecture from its checkpoint.")
    return proposal


def decision_of(strategy: Any, answer: object) -> Decision:
    """A strategy's ``on_report`` answer as a Decision: None (a hook that returns nothing) continues, and the
    Decision's own values ``"stop"`` / ``"continue"`` are taken; anything else is refused naming the hook (outside
    probe 6a: ``"stop"`` and ``True`` let the trial run on without a word)."""
    if isinstance(answer, Decision):
        return answer
    if answer is None:
        return Decision.CONTINUE
    if isinstance(answer, str) and answer.lower() in ("stop", "continue"):
        return Decision(answer.lower())
    raise InvalidParameterTypeError(
        f"{type(strategy).__name__}.on_report() must return Decision.CONTINUE or Decision.STOP (from nasbook.trial; None "
        f"continues); got {answer!r:.60} of type {type(answer).__name__}.")
