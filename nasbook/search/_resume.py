"""Resume and replay: :func:`load_search`, and replaying a stored history into a fresh strategy."""

from __future__ import annotations

import inspect
import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    NasbookWarning,
    ReproducibilityWarning,
    SpaceExhausted,
    StorageError,
    checked_signature,
    stacklevel_outside_nasbook,
)
from nasbook.search import _checkpoints, _ckptlost, _kb
from nasbook.search._budget import Budget
from nasbook.search._checks import check_strategy_task, not_a_class
from nasbook.search._readonly import NotRebuilt, UnrebuiltTask, refusal, unrebuilt
from nasbook.search._warm import from_config, set_seeds
from nasbook.space import SearchSpace
from nasbook.strategies import BaseStrategy, Proposal
from nasbook.tasks import Task, constructor_params, split_config
from nasbook.trial import Trial, TrialState

if TYPE_CHECKING:
    from nasbook.knowledge import KnowledgeBase
    from nasbook.search._search import Callback, Search
    from nasbook.storage import Storage

_CONFIG_KEYS = {"space": dict, "task": dict, "strategy": dict, "budget": dict, "seed": int}


#: attrs a strategy recorded itself (a stopping rule's prediction, ``trial_attrs``): given back with the trial
OWN_ATTRS = ("predicted_",)


def blind(trial: Trial) -> Trial:
    """The trial as strategies see it: held-out ``attrs`` (a test score, where a warm start came from) removed;
    what the strategy itself recorded (``predicted_*``) kept, live and on replay alike."""
    if not trial.attrs:
        return trial
    own = {k: v for k, v in trial.attrs.items() if k.startswith(OWN_ATTRS)}
    return Trial(trial.number, trial.arch, trial.state, trial.value, trial.metrics, own, trial.epochs,
                 trial.started_at, trial.finished_at, trial.reason, trial.n_told_before, trial.curves, trial.parent,
                 trial.lineage)


def replay(s: Search) -> None:
    """Set the strategy up and replay the committed history into it, ask by ask and tell by tell in
    the order they happened, so a seeded strategy ends in the state an uninterrupted run had."""
    strategy = s.strategy
    strategy.setup(s.space, seed=s.seed, mode=s.task.mode, metric=s.task.metric)
    if s._warm:
        strategy.enqueue([arch for arch, _ in s._warm])  # served first, as in the uninterrupted run
    asks = sorted(s._trials + s._requeue, key=lambda t: t.number)
    told = [t for t in s._trials if t.state.is_finished]
    seq = s._tell_seq
    told.sort(key=lambda t: (seq.get(t.number, 1 << 62), t.finished_at or 0.0, t.number))
    tell_iter = iter(told)
    n_told = 0
    mismatches = 0
    for trial in asks:
        while n_told < trial.n_told_before:
            nxt = next(tell_iter, None)
            if nxt is None:
                break
            strategy.tell(blind(nxt))
            n_told += 1
        try:
            asked = strategy._replay_next(trial.arch)
        except SpaceExhausted:
            asked = None
        proposed = asked.arch if isinstance(asked, Proposal) else asked
        if proposed is None or getattr(proposed, "id", None) != trial.arch.id:
            mismatches += 1
            strategy.seen_.add(trial.arch.id)
    for rest in tell_iter:
        strategy.tell(blind(rest))
        n_told += 1
    s._n_told = n_told
    if mismatches:
        warnings.warn(
            f"Search {s.name!r}: {mismatches} of {len(asks)} stored trials differ from what "
            f"{strategy!r} proposes with seed {s.seed}; the strategy was told the stored "
            "history, but later proposals may differ from an uninterrupted run.",
            ReproducibilityWarning,
            stacklevel=stacklevel_outside_nasbook(),
        )
    _checkpoints.open_store(s)
    s._ready = True


def read_trials(s: Search) -> None:
    """(Re)load the committed trials from storage: finished ones into the history, the rest (running
    when a process died, or interrupted) into the queue to run first. Checkpoints this object holds
    in memory stay (``_checkpoints.keep_held``)."""
    held = getattr(s, "_checkpoints", {})
    s._reset_history()
    trials, tell_seq = s._storage.load_trials(s._search_id, s.space)
    top = -1
    for trial in trials:
        top = max(top, trial.number)
        if trial.state.is_finished:
            s._record(trial)
            if trial.number in tell_seq:
                s._tell_seq[trial.number] = int(tell_seq[trial.number])
        else:
            s._requeue.append(Trial(trial.number, trial.arch, TrialState.QUEUED, None, {}, dict(trial.attrs),
                                    epochs=trial.epochs, n_told_before=trial.n_told_before, parent=trial.parent,
                                    lineage=trial.lineage))
            s._epochs_spent += trial.lost_attempt_epochs  # its attempts lost before an interrupted run stored it QUEUED
    s._next_number = top + 1
    _checkpoints.keep_held(s, held)
    s._ready = False


def rebuild_space(config: dict[str, Any]) -> SearchSpace:
    from nasbook.space import space_class

    cls = space_class(str(config.get("class", "")))  # a built-in, a nasbook.space.register-ed class, or an installed one
    if cls is None:
        raise InvalidParameterError(
            f"the stored search uses space {config.get('class')!r}, which nasbook cannot rebuild; pass space=... to "
            f"load_search, or register the class first: nasbook.space.register({config.get('class')}) (a package "
            f"installs it under entry-point group 'nasbook.spaces')."
        )
    return cls.from_config({"class": cls.__name__, "params": _stored_params("space", cls, config)})


def _stored_params(what: str, cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """The stored ``params`` of a configuration, checked against ``cls``'s constructor."""
    params = config.get("params", {})
    if not isinstance(params, dict):
        raise StorageError(f"the stored {what} configuration is damaged: its 'params' should be a mapping; found "
                           f"{params!r:.60}. Pass {what}=... to load_search.")
    try:
        inspect.signature(cls.__init__).bind(None, **params)  # type: ignore[misc]
    except TypeError as exc:
        raise StorageError(f"the stored {what} configuration does not fit {cls.__name__}: {exc} (params "
                           f"{sorted(params)!r:.80}). Pass {what}=... to load_search.") from None
    return params


def rebuild_task(config: dict[str, Any]) -> Task:
    task = task_or_why(config)
    if isinstance(task, NotRebuilt):
        raise InvalidParameterError(task.detail)
    return task


def task_or_why(config: dict[str, Any]) -> Task | NotRebuilt:
    """The stored task, rebuilt, or why nasbook cannot rebuild it (a class of the user's not registered here, a
    built-in holding data of the user's, or a constructor refusing the stored parameters); a damaged configuration
    raises StorageError."""
    import nasbook.tasks
    from nasbook.tasks import task_class

    name = str(config.get("class", ""))
    cls = task_class(name)  # a built-in holding no user data, a registered or installed one
    if cls is None:
        return NotRebuilt(name, hasattr(nasbook.tasks, name), (
            f"the stored search evaluates on {config.get('class')!r}, which nasbook cannot rebuild from storage "
            "(it may hold user data); pass task=... to load_search, or, for a task its stored parameters rebuild, "
            f"register the class first: nasbook.tasks.register({config.get('class')}) (a package installs it under "
            "entry-point group 'nasbook.tasks')."), "task")
    params = _stored_params("task", cls, {**config, "params": constructor_params(config)})
    try:
        return cls(**params)
    except InvalidParameterError as exc:
        return NotRebuilt(name, True, str(exc), "task")


def rebuild_strategy(config: dict[str, Any], restore: Callable[[BaseStrategy], None] | None = None) -> BaseStrategy:
    """The stored strategy, rebuilt and validated; ``restore`` gives it back what was given at run time
    (a BO's transfer prior from the knowledge base) before validation, which checks that it has it."""
    strategy = strategy_or_why(config, restore)
    if isinstance(strategy, NotRebuilt):
        # a class found (a built-in: OptunaSampler of a sampler instance, a Portfolio with an arm of the user's)
        # is not the one to register, and register() refuses a built-in's name; the inner message names the fix
        hint = "" if strategy.found else f", or register the class first: nasbook.strategies.register({strategy.cls})"
        raise InvalidParameterError(f"the stored search uses strategy {strategy.cls!r}, which nasbook cannot rebuild "
                                    f"({strategy.detail}); pass strategy=... to load_search{hint}.")
    return strategy


def strategy_or_why(config: dict[str, Any], restore: Callable[[BaseStrategy], None] | None = None) -> BaseStrategy | NotRebuilt:
    """:func:`rebuild_strategy`'s strategy, or why nasbook cannot rebuild it (a class of the user's not
    registered here, a sampler instance, a prior not stored); a damaged configuration raises StorageError."""
    from nasbook.strategies import strategy_class

    found = False
    try:
        cls = strategy_class(config.get("alias") or config["class"])
        found = True
        strategy = cls.from_stored(_stored_params("strategy", cls, config))
        if restore is not None:
            restore(strategy)
        strategy._validate_params()  # resolves what it holds by name: a Portfolio's arms, a wrapper's base
        return strategy
    except InvalidParameterError as exc:  # a class of the user's (or a predictor of it) nasbook cannot find
        return NotRebuilt(str(config.get("class", "")), found, str(exc))


@checked_signature
def load_search(
    name: str,
    storage: str | os.PathLike[str] | Storage | None = None,
    *,
    task: Task | None = None,
    space: SearchSpace | None = None,
    strategy: BaseStrategy | None = None,
    budget: int | dict[str, Any] | Budget | None = None,
    callbacks: Sequence[Callback] | None = None,
    executor: Any = None,
    trial_timeout_s: float | None = None,
    allow_changes: bool = False,
    kb: KnowledgeBase | None = None,
    checkpoints: str | os.PathLike[str] | None = None,
) -> Search:
    """Load a stored search to inspect, resume or extend it.

    The space, task and strategy are rebuilt from the stored configuration (built-in classes, those
    registered in this process with ``nasbook.strategies.register`` and the like, and those an
    installed package lists under the entry-point groups ``nasbook.strategies``, ``nasbook.predictors``,
    ``nasbook.spaces`` and ``nasbook.tasks``; pass your own instances otherwise). Committed trials are
    read back and, at the next ``run()``, replayed into a fresh strategy, so a seeded search goes on as
    if never interrupted.

    A search whose strategy cannot be rebuilt here (a class of your own not registered in this
    process, an ``OptunaSampler`` around a sampler instance, a ``Portfolio`` with such an arm, a BO
    whose transfer prior came from a knowledge base not given) still loads, read-only: everything
    that reads it works (``trials``, ``best``, ``to_dataframe``, ``to_xarray``, :mod:`nasbook.viz`,
    the reprs, which say it is read-only and why), its strategy is a :class:`~nasbook.search.UnrebuiltStrategy`
    named after the stored class, ``search.resumable`` is False, and ``run``,
    ``start``, ``extend`` (and a ``budget`` given here) raise
    :class:`~nasbook.search.SearchNotResumableError` saying how to resume it: load it again with
    ``strategy=...``, or register the class first. Loading it writes nothing to the store. A search whose
    task cannot be rebuilt (a class of your own not importable or registered here, a task holding data)
    loads read-only the same way, with a :class:`~nasbook.search.UnrebuiltTask` that keeps the
    stored name, metric and mode; ``task=...`` resumes it. ``checkpoints=...`` is refused for a search that
    loads read-only, and a refused ``load_search`` closes the store it opened.

    Parameters
    ----------
    name : str
        The search's name in ``storage``.
    storage : str, path or Storage, optional
        Where it is stored (default ``"nasbook.db"``, or the store of ``kb``). A path that does not
        exist is an error (no empty file is created).
    task, space, strategy : optional
        Instead of the stored ones (needed for custom classes not registered; without ``strategy`` such
        a search loads read-only). A task or space whose configuration
        differs from the stored one is refused unless ``allow_changes=True``. A strategy given here
        (or a task that replaces the stored one) is checked as :class:`~nasbook.Search` checks it, before
        anything is stored: e.g. ``ASHA`` on a task that does not train for epochs is refused.
    budget : optional
        A new *total* budget (e.g. larger, to extend a finished search); never less than what was spent.
        Refused for a search that would load read-only (it cannot run), before anything is stored.
    callbacks : list of callables, optional
        ``fn(search, trial)`` after each committed trial from now on (callbacks are not stored).
    executor : str or executor, optional
        Where the resumed trials run, as for :class:`~nasbook.Search`; default ``"local"``. The
        executor the search was created with is recorded in its configuration but not reused, so a
        search may resume on another machine or cluster; a training search that ran elsewhere and
        is loaded without ``executor`` warns that it will now train in this process. Without
        ``executor`` the recorded one is kept (a new ``budget`` does not change it); one passed
        here replaces it in the stored configuration.
    trial_timeout_s : float, optional
        A trial running longer is stopped and FAILS with a reason; with ``executor="local"`` it is stopped at
        its first epoch report past the limit (a trial that never reports is failed once it ends). Without it
        (None) the stored one is kept (``Search(trial_timeout_s=...)``); one passed here replaces it, and
        ``math.inf`` removes it: no limit from now on. Refused (before anything is stored) unless > 0.
    allow_changes : bool
        Accept a task or space other than the stored one; the change is recorded in the search's
        configuration (``config["changes"]``). Not needed for a task that differs only in run-only
        settings (``deterministic``, ``trainer={"benchmark": ...}``: its config's ``run_params``, out of its
        key): it is accepted, and the change recorded as ``{"what": "run_params", "from": ..., "to": ..., "at": ...}``.
    kb : KnowledgeBase, optional
        Record the search there from now on; a copy kept there is first caught up with every
        committed trial it lacks.
    checkpoints : str or path, optional
        A folder for the search's checkpoints (see :class:`~nasbook.Search`), e.g. the stored one as this machine
        reaches it; it replaces the stored folder. Without it the stored folder is used, or, missing here, memory
        (with a warning: promotions of trials finished before train from scratch).

    Returns
    -------
    Search
        The search, with its committed trials loaded; ``run()`` resumes it (unless it loaded read-only:
        ``search.resumable`` says which).
    """
    from nasbook.storage import Storage

    if not isinstance(name, str) or not name:
        raise InvalidParameterTypeError(f"load_search(name=...) must be a search's name (a non-empty str); got {name!r}.")
    if storage is not None and not isinstance(storage, (str, os.PathLike, Storage)):
        raise InvalidParameterTypeError(
            f"load_search(storage=...) must be a file path, a database URL or a Storage; got {storage!r} of type "
            f"{type(storage).__name__}.")
    for param, value, typ in (("task", task, Task), ("space", space, SearchSpace), ("strategy", strategy, BaseStrategy)):
        not_a_class(param, value, typ, None, "load_search", none_ok=True)  # a class: "pass RandomSearch(...)"
        if value is not None and not isinstance(value, typ):
            raise InvalidParameterTypeError(f"load_search({param}=...) must be a {typ.__name__} or None; got {value!r:.80} "
                                            f"of type {type(value).__name__}.")
    if not isinstance(allow_changes, bool):
        raise InvalidParameterTypeError(f"load_search(allow_changes=...) must be True or False; got {allow_changes!r}.")
    st = _kb.storage_for(storage, kb, "load_search", create=False)
    try:
        return _open(st, name, storage, task=task, space=space, strategy=strategy, budget=budget, callbacks=callbacks,
                     executor=executor, trial_timeout_s=trial_timeout_s, allow_changes=allow_changes, kb=kb,
                     checkpoints=checkpoints)
    except BaseException:  # refused: the store it opened is closed (no connection or file handle left open)
        if _kb.opened_for(st, storage, kb):
            st.close()
        raise


def _open(st: Storage, name: str, storage: Any, *, task: Task | None, space: SearchSpace | None,
          strategy: BaseStrategy | None, budget: Any, callbacks: Sequence[Callback] | None, executor: Any,
          trial_timeout_s: float | None, allow_changes: bool, kb: KnowledgeBase | None, checkpoints: Any) -> Search:
    """:func:`load_search` on the store it opened (``st``)."""
    from nasbook.search._search import Search, SearchState

    record = st.get_search(name)
    for key, kind in _CONFIG_KEYS.items():  # a StorageError naming the search if one is missing or damaged
        record.require(key, kind)
    config = record.config
    changes: list[dict[str, Any]] = []
    if space is None:
        space = task.space if task is not None and task.space is not None else rebuild_space(config["space"])
    if space.space_id != config.get("space_id"):
        if not allow_changes:
            raise InvalidParameterError(
                f"search {name!r} was run over space {config.get('space_id')!r} ({config['space'].get('class')}); the "
                f"space given is {space.space_id!r} ({space!r:.80}). Pass the stored space, or allow_changes=True "
                "to continue over another one (recorded)."
            )
        changes.append({"what": "space", "from": config.get("space_id"), "to": space.space_id})
    not_rebuilt = None
    if task is None:
        rebuilt_task = task_or_why(config["task"])
        if isinstance(rebuilt_task, NotRebuilt):  # loaded read-only (search._readonly) with a placeholder task
            not_rebuilt = rebuilt_task
            stored_budget = config["budget"]
            rebuilt_task = UnrebuiltTask(config["task"], rebuilt_task, name=config.get("task_name"),
                                         metric=config.get("metric"), mode=config.get("mode"),
                                         has_epochs=stored_budget.get("epochs") is not None)
        task = rebuilt_task
    elif (given := _as_stored(task.to_config())) != config["task"]:
        (stored_id, stored_run), (given_id, given_run) = split_config(config["task"]), split_config(given)
        if given_id == stored_id:  # only how trials run differs (deterministic...): the same task, resumed as asked
            if given_run != stored_run:  # (equal: a config stored in an older form, run-only options in the key)
                changes.append({"what": "run_params", "from": stored_run, "to": given_run})
        elif not allow_changes:
            raise InvalidParameterError(
                f"search {name!r} was run on {_describe(config['task'])}; the task given is {task!r:.120}. Pass the "
                "stored task, or allow_changes=True to continue on another one (recorded in the search's configuration)."
            )
        else:
            changes.append({"what": "task", "from": config["task"], "to": given})
    given_strategy = strategy is not None
    if strategy is None:
        rebuilt = strategy_or_why(config["strategy"], lambda st: _kb.restore_prior(st, config["strategy"], space, kb))
        if isinstance(rebuilt, NotRebuilt):  # loaded read-only (search._readonly): readable, not resumable
            not_rebuilt = not_rebuilt or rebuilt  # (a task not rebuilt is named first: give it, and this shows)
            rebuilt = unrebuilt(config["strategy"], rebuilt)
        strategy = rebuilt
    if not_rebuilt is not None:  # how trials would run: none will, so none is stored
        changes = [c for c in changes if c["what"] != "run_params"]
    if not_rebuilt is not None and (budget is not None or changes or checkpoints is not None):
        _checkpoints.check_folder("load_search", checkpoints)  # a bad value is named as such first
        # each is stored for a run it cannot make: refused, nothing written
        what = ("budget=..." if budget is not None else "checkpoints=..." if checkpoints is not None
                else f"allow_changes=True with another {changes[0]['what']}")
        raise refusal(not_rebuilt, f"load_search({name!r}, {what})", name, st.label)
    stored_executor = None
    if executor is None:
        executor = "local"
        if not_rebuilt is None:  # it will not train anything here
            _warn_if_moved_in_process(name, config, task)
        stored_executor = config.get("executor")
    self = Search.__new__(Search)
    self._configure(space, task, strategy=strategy,
                    budget=budget if budget is not None else config["budget"], seed=int(config["seed"]),
                    name=name, callbacks=callbacks, executor=executor, owner="load_search",
                    trial_timeout_s=trial_timeout_s if trial_timeout_s is not None else config.get("trial_timeout_s"))
    self.executor.check()  # as Search() does: a closed Client or cluster is refused here, not at run()
    _checkpoints.on_load(self, config, checkpoints)  # checked, before anything is stored
    self._budget_seen = Budget.coerce(config["budget"]).to_dict()  # what another object may change (_fresh)
    if given_strategy or any(c["what"] == "task" for c in changes):
        # a strategy or task given here is checked as Search() checks it, before it is stored: ASHA on a
        # NAS-Bench-Graph search was stored and failed at its first ask, and every later plain resume
        # failed too. A stored pair is not: a search stored before these checks still loads.
        check_strategy_task(self.strategy, self.task)
    if isinstance(stored_executor, str):  # a new budget (or a later extend()) keeps what it ran on
        self._executor_config = stored_executor
    self._environment = config.get("environment")  # where it was created, kept when the config is rewritten
    self._environment_history = list(config.get("environment_history") or [])  # sessions run elsewhere
    set_seeds(self, from_config(config, space, name))
    if record.state not in {state.value for state in SearchState}:
        raise StorageError(f"search {name!r} in {st.label!r} is damaged: its state {str(record.state)[:40]!r} is not one of "
                           f"{sorted(state.value for state in SearchState)}. Nothing was changed.")
    self._attach(st, record.id, record.state, record.elapsed_s)
    self._not_rebuilt = not_rebuilt
    self._owns_storage = _kb.opened_for(st, storage, kb)
    read_trials(self)
    if checkpoints is not None:  # another folder than the stored one, which holds the checkpoints: said
        _ckptlost.warn_relocated(self, config)
    if budget is not None:  # the stored budget may be overshot by the last trial (epochs, seconds): it ran under it
        check_budget_covers_spent(self)
    for change in changes:
        change["at"] = time.time()
    self._changes = [*config.get("changes", []), *changes]
    if changes or budget is not None or checkpoints is not None:
        st.update_search(record.id, config=self._config())
    self._kb = _kb.link(self, kb) if not_rebuilt is None else None  # a read-only search records nothing there
    return self


def _warn_if_moved_in_process(name: str, config: dict[str, Any], task: Task) -> None:
    """A training search that ran on workers (dask, dask-cuda, a cluster) and is loaded without
    ``executor=...`` would train its remaining trials one at a time in this process: say so."""
    from nasbook.tasks import TrainingTask

    ran_on = str(config.get("executor") or "")
    if ran_on and not ran_on.startswith("LocalExecutor") and isinstance(task, TrainingTask):
        warnings.warn(f"search {name!r} ran on {ran_on}; loaded without executor=..., its remaining trials train in "
                      "this process, one at a time. Pass load_search(..., executor='dask') (or your executor) to "
                      "train them on workers again.", NasbookWarning,
                      stacklevel=stacklevel_outside_nasbook())


def check_budget_covers_spent(self: Search) -> None:
    b, what = self.budget, None
    if b.trials is not None and b.trials < len(self._trials):
        what = f"trials={b.trials}, but {len(self._trials)} trials are done"
    elif b.epochs is not None and b.epochs < self._epochs_spent:
        what = f"epochs={b.epochs}, but {self._epochs_spent} epochs were trained"
    elif b.seconds is not None and b.seconds < self._elapsed_before:
        what = f"seconds={b.seconds:g}, but {self._elapsed_before:.0f} s were spent"
    if what:
        raise InvalidParameterError(f"budget must be at least what search {self.name!r} has spent: got {what}. "
                                    "A budget is a new total; give a larger one to extend the search.")


def _describe(task_config: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v!r}" for k, v in dict(task_config.get("params", {})).items())
    return f"{task_config.get('class')}({params})"[:160]


def _as_stored(config: dict[str, Any]) -> Any:
    """A configuration as it reads back from storage (tuples become lists, keys strings)."""
    return json.loads(json.dumps(config, default=repr))
