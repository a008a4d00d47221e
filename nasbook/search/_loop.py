"""The loop: ask -> submit -> (reports) -> commit -> tell, the same for every executor.

One function drives every :class:`~nasbook.executors.BaseExecutor` through the calls its docstring
lists; the in-process ``LocalExecutor`` is an ordinary executor whose ``submit`` runs the trial to
its end (``in_process = True``, so the trial is stored once, when it has finished).
"""

from __future__ import annotations

import bisect
import sys
import time
import warnings
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasbook._errors import (
    InvalidParameterError,
    NasbookWarning,
    SearchInterrupted,
    SpaceExhausted,
    StorageError,
    interrupt_in_one_line,
    stacklevel_outside_nasbook,
)
from nasbook.executors import LocalExecutor
from nasbook.search import _budget, _checkpoints, _checks, _failfast, _fresh, _provenance, _resume, _warm
from nasbook.search._background import Closing, InterpreterExiting
from nasbook.search._checks import decision_of
from nasbook.search._heartbeat import LeaseLost
from nasbook.trial import WAIT, Decision, Outcome, Proposal, Trial, TrialState

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nasbook.search._heartbeat import Heartbeat
    from nasbook.search._search import Search
    from nasbook.trial import Wait

#: the loop renews its lease on the search this often between polls (the lease expires after LEASE_TTL_S
#: without one; on SQLite each renewal also checkpoints the WAL into the file)
LEASE_RENEW_S = 10.0
LEASE_TTL_S = 60.0  # nasbook.storage._lease.RUN_TTL_S: how long nasbook list takes a silent run on another host to live
#: and a heartbeat thread renews it this often whatever the loop is doing (an in-process trial that trains
#: for minutes holds the loop in ``submit``): :mod:`._heartbeat`
HEARTBEAT_S = 10.0


@dataclass
class _Running:
    proposal: Proposal
    told: int  # trials the strategy had been told when it proposed this one
    t0: float  # time.monotonic() at submission
    stored: bool  # a row (RUNNING or QUEUED) exists: finishing overwrites it
    cost: int = 0  # the most epochs it trains: held against an epochs budget while it runs (_budget.fits)
    until: int | None = None  # the epochs (in all) it is stopped at: the last trial of an epochs budget (_budget.limited)
    lost: int = 0  # epochs its attempts lost with a dask worker trained: held too, as spent (executor.lost_epochs)
    carried: int = 0  # epochs its attempts in an earlier, interrupted run lost: in s._epochs_spent since (its QUEUED row)


def running_trial(number: int, proposal: Proposal, told: int, state: TrialState = TrialState.RUNNING, *, lost: int = 0,
                  started_at: float | None = None) -> Trial:
    # the proposal's attrs and what it grows from are stored with it, so a re-queued trial is the same proposal;
    # and the epochs its lost attempts trained, so a crashed process's row keeps them (load_search counts them)
    attrs = {**proposal.attrs, **({"grow": dict(proposal.grow)} if proposal.grow is not None else {})}
    if lost:
        attrs["lost_attempt_epochs"] = lost
    return Trial(number, proposal.arch, state, None, {}, attrs, epochs=proposal.epochs,
                 started_at=(started_at or time.time()) if state is TrialState.RUNNING else None,
                 n_told_before=told, parent=proposal.parent, lineage=proposal.lineage)


def requeued_proposal(queued: Trial) -> Proposal:
    """The proposal of a trial stored QUEUED or RUNNING (:func:`running_trial`), to run again (without the epochs
    its lost attempts trained: its :class:`_Running` carries them, and the trial's record gets them once it ends)."""
    attrs = dict(queued.attrs)
    grow = attrs.pop("grow", None)
    attrs.pop("lost_attempt_epochs", None)
    return Proposal(queued.arch, queued.epochs, queued.parent, queued.lineage, attrs, grow)


def run_trials(s: Search, t_start: float, pbar: Any, beat: Heartbeat) -> None:
    """Set the run up (:func:`set_up`), start the executor, then run trials until the budget is spent or the
    strategy has nothing left to propose.

    On any exception (Ctrl-C, a lost scheduler, a callback that raises) the trials in flight are
    cancelled and stored QUEUED, so the next ``run()`` re-runs them first; finished trials are
    committed already. When another process took the search over meanwhile (:func:`_fresh.overtaken`),
    nothing more is written (its rows are the other run's now) and :class:`SearchOvertaken` says so; a
    takeover that ``beat`` (the lease's heartbeat thread) found is raised before the next write: at the
    set-up's writes, at the next poll (before the outcomes it returned are stored), and at the next report
    of a trial training in this process (:class:`~._heartbeat.LeaseLost`: it stops there). A ``close()``
    from another thread (:class:`~._background.Closing`) ends the run as Ctrl-C does, at the loop's next turn
    or that report, and returns.
    """
    ex, strategy, live, storage, sid = s.executor, s.strategy, s._live, s._storage, s._search_id
    task, space = s.task, s.space

    # held weakly: the executor keeps ``decide`` and the search keeps the executor, so a strong
    # reference would make the search a cycle that outlives its last name until the collector runs
    search_ref = weakref.ref(s)

    def decide(number: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        held = search_ref()
        if held is not None:
            check_exit(held)  # a trial in this process ends at its next report when the interpreter exits, or on close()
        beat.stop_trial()  # ... or once the heartbeat found the search taken over: its result is not ours to store
        live[number] = (epoch, dict(metrics))
        decision = decision_of(strategy, strategy.on_report(number, epoch, metrics))
        return Decision.STOP if at_limit(limits.get(number), epoch) else decision

    running: dict[int, _Running] = {}
    limits: dict[int, int] = {}  # trial -> the epochs it is stopped at (its _Running.until), read by decide
    reserved = 0  # epochs the running trials may train (their costs): an epochs budget holds them (_budget.fits)
    unfit: tuple[int, int] | None = None  # (number, epochs) of the next trial, when it did not fit the budget
    waiting: tuple[Any, ...] = ()  # and what the budget held then: it is looked at again once that changes
    spent = False  # the last look at the budget found it spent
    store_running = not ex.in_process  # a crash can leave a remote trial running: record it first
    timeout_s = s.trial_timeout_s
    watch = _failfast.FailureWatch(s.name)  # stops a run whose first trials all raise the same error
    exhausted_at: int | None = None  # the tells when the strategy last said SpaceExhausted with trials running
    committed_before = len(s._trials)
    events: list[Any] = []  # polled, not handled yet: named in SearchOvertaken if the store refuses a row
    try:
        set_up(s, beat)
        described = repr(ex)  # what the stored config says it runs on (written before the executor started)
        check_exit(s)
        if isinstance(ex, LocalExecutor):  # trials in this process: the executor applies the limit at their reports
            ex.trial_timeout_s = s.trial_timeout_s
        ex.start(decide)
        s._executor_started = True
        capacity = ex.capacity
        beat.check()  # a cluster that took long to start: the search may be another run's now
        described = record_executor(s, described)
        if task.worker_imports:
            ex.warm_up(tuple(task.worker_imports))  # every worker imports at once, not trial by trial
        last_renew = time.monotonic()
        while True:
            check_exit(s)  # the interpreter exits: trials in flight are stored QUEUED below, as on Ctrl-C
            beat.check()  # taken over while the loop was held (a cluster starting, a callback): submit nothing
            while len(running) < ex.capacity and not (spent := s._spent(t_start, len(running), reserved)):
                if s._requeue:  # interrupted earlier (or did not fit the budget): run again first, same number
                    queued = s._requeue[0]
                    if unfit is not None and waiting == (queued.number, s._epochs_spent, reserved, s.budget.epochs):
                        break  # still no room for it (nothing finished): not its checkpoint read again at every poll
                    proposal = requeued_proposal(queued)
                    fid = fidelity(s, proposal)
                    cost = _budget.epochs_cost(s, proposal, fid)
                    if (allowed := _budget.allowed(s, cost, reserved, len(running))) is None:  # a running trial
                        unfit, waiting = (queued.number, cost), (queued.number, s._epochs_spent, reserved, s.budget.epochs)
                        break  # may end early and leave room
                    s._requeue.pop(0)
                    number, told, stored, carried = queued.number, queued.n_told_before, True, queued.lost_attempt_epochs
                    if store_running:  # this run's row (claimed when the run took the lease): compare-and-set
                        storage.update_trial(sid, running_trial(number, proposal, told, lost=carried), **s._owned)
                else:
                    if exhausted_at == s._n_told and running:
                        break  # exhausted at this many tells: asked again once a running trial has finished
                    asked = s._ask()
                    if isinstance(asked, SpaceExhausted) and running:
                        # a running trial may yet let it propose (a promotion, a continuation): wait for it
                        exhausted_at = s._n_told
                        break
                    if asked is WAIT and running:
                        break  # the strategy waits for a running trial to finish
                    if isinstance(asked, SpaceExhausted):  # nothing running: nothing can change its answer
                        warnings.warn(f"Search {s.name!r} stopped early: {asked}.", NasbookWarning,
                                      stacklevel=stacklevel_outside_nasbook())
                        break
                    if asked is WAIT:
                        warnings.warn(f"Search {s.name!r} stopped: {strategy!r} waits for trials, but none is "
                                      "running.", NasbookWarning, stacklevel=stacklevel_outside_nasbook())
                        break
                    proposal, number, told, carried = asked, s._take_number(), s._n_told, 0  # type: ignore[assignment]
                    fid = fidelity(s, proposal)
                    cost = _budget.epochs_cost(s, proposal, fid)
                    if (allowed := _budget.allowed(s, cost, reserved, len(running))) is None:
                        # asked, so the strategy counts on it: stored QUEUED, first to run once it fits
                        queued = running_trial(number, proposal, told, TrialState.QUEUED)
                        storage.add_trial(sid, queued, **s._owned)
                        s._requeue.insert(0, queued)
                        unfit, waiting = (number, cost), (number, s._epochs_spent, reserved, s.budget.epochs)
                        break
                    stored = store_running
                    if store_running:
                        storage.add_trial(sid, running_trial(number, proposal, told), **s._owned)
                unfit = None
                fid, until = _budget.limited(s, proposal, fid, cost, allowed)  # the budget's last epochs
                strategy.on_start(number, proposal)  # which architecture this trial number trains
                if until is not None:
                    limits[number] = until
                ex.submit(number, task, space, proposal.arch, fid)
                running[number] = _Running(proposal, told, time.monotonic(), stored, allowed, until, carried=carried)
                reserved += allowed
            if not running:
                watch.at_end()
                if len(s._trials) == committed_before:  # no trial ran
                    if spent:  # the budget went on the set-up
                        _budget.warn_spent_on_setup(s, t_start)
                    elif unfit is not None:  # the next trial needs more epochs than the budget has left
                        _budget.warn_unfit(s, *unfit, reserved)
                return
            events = list(ex.poll(0.05))
            beat.check()  # the heartbeat found the search taken over: these outcomes are not ours to store
            while events:
                event = events.pop(0)
                r = running.get(event.number)
                if r is None:
                    continue
                if event.kind == "report":
                    live[event.number] = (event.epoch or 0, dict(event.metrics))
                    if event.decision is None and (decision_of(strategy, strategy.on_report(
                            event.number, event.epoch or 0, event.metrics)) is Decision.STOP
                            or at_limit(r.until, event.epoch or 0)):
                        ex.stop(event.number)  # reaches the trial after its current epoch
                elif event.outcome is not None:
                    reserved -= r.cost + running.pop(event.number).lost  # the trial's record counts them now
                    limits.pop(event.number, None)
                    live.pop(event.number, None)
                    trial = trial_from(s, event.outcome, r)
                    s._epochs_spent -= r.carried  # counted again with the trial's record (its lost_attempt_epochs)
                    s._finish(trial, pbar, update=r.stored)
                    watch.see(trial)
            for number, r in running.items():  # a dask worker died running it: what it trained there is spent
                if (lost := ex.lost_epochs(number)) != r.lost:
                    reserved, r.lost = reserved + lost - r.lost, lost
                    if r.stored:  # durable at once (one write per loss found): a process killed now leaves them in
                        storage.update_trial(sid, running_trial(  # its RUNNING row, which load_search counts
                            number, r.proposal, r.told, lost=r.carried + lost,
                            started_at=time.time() - (time.monotonic() - r.t0)), **s._owned)
            now = time.monotonic()
            if timeout_s is not None:
                for number, r in list(running.items()):
                    if now - r.t0 > timeout_s:
                        ex.cancel(number)
                        reserved -= r.cost + running.pop(number).lost
                        limits.pop(number, None)
                        live.pop(number, None)
                        outcome = Outcome(number, TrialState.FAILED, None, f"timed out after {timeout_s:g} s "
                                          "(trial_timeout_s)", started_at=time.time() - (now - r.t0),
                                          finished_at=time.time(), lost_attempt_epochs=r.lost)
                        s._epochs_spent -= r.carried
                        s._finish(trial_from(s, outcome, r), pbar, update=r.stored)
            if ex.capacity > capacity:  # workers joined: the stored record says the most that ran at once
                capacity = ex.capacity
                described = record_executor(s, described)
            if now - last_renew > LEASE_RENEW_S:
                storage.renew_lease(sid, s._owner)
                if s._kb is not None:
                    s._kb.renew()
                last_renew = now
    except BaseException as exc:
        # taken over by another process (a trial number it stored, a heartbeat refused): write nothing more
        # (or the store refused a finished trial's row as another run's: the result is named, not stored)
        finished = [e.outcome for e in events if e.outcome is not None and e.number in running]
        s._overtaken = taken = _fresh.overtaken(s, len(s._trials) - committed_before, exc, finished)
        # nothing finished is lost; what was running is stored QUEUED and runs first next time
        for number, r in running.items():
            try:
                r.lost = max(r.lost, ex.lost_epochs(number))  # a worker that died since the last poll (before cancel forgets)
            except Exception:  # noqa: BLE001 - the executor may be what failed
                pass
            try:
                ex.cancel(number)
            except Exception:  # noqa: BLE001
                pass
            if taken is not None or isinstance(exc, LeaseLost):
                continue  # the other run may have re-run and finished it: its row is not ours to write
            # what its lost attempts trained stays spent: its row keeps it for load_search
            queued = running_trial(number, r.proposal, r.told, TrialState.QUEUED, lost=r.carried + r.lost)
            try:
                (storage.update_trial if r.stored else storage.add_trial)(sid, queued, **s._owned)
            except Exception:  # noqa: BLE001 - never hide the original error (the store may be what failed)
                continue
            s._epochs_spent += r.lost  # (r.carried is counted already); the next run() re-reads the row (_stale)
        live.clear()
        if taken is not None and not isinstance(exc, KeyboardInterrupt):
            raise taken from exc
        if isinstance(exc, LeaseLost):  # the store cannot say who holds it now: the heartbeat's refusal stands
            raise exc.error from None
        if isinstance(exc, Closing):  # close() from another thread: stopped, as stop() does; its QUEUED rows are
            s._stale = True  # re-read (and run first) by the next run()
            return
        if type(exc) is KeyboardInterrupt and in_ipython():  # Ctrl-C: say that it resumes, not where the loop was
            raise interrupted(s) from None
        if type(exc) is KeyboardInterrupt:  # a script keeps the plain KeyboardInterrupt (Python then exits as killed
            said = str(interrupted(s)) if s.storage.label != ":memory:" else (  # by SIGINT, 130), saying so in one line
                f"Search {s.name!r} interrupted after {s.n_trials} trials, kept in memory only (storage=':memory:'): "
                "they end with this process.")
            interrupt_in_one_line(exc, said)
        raise


def at_limit(until: int | None, epoch: int) -> bool:
    """Whether a trial that reported ``epoch`` (0-based) has trained the epochs its budget allows (``until``)."""
    return until is not None and epoch + 1 >= until


def check_exit(s: Search) -> None:
    """Raise :class:`InterpreterExiting` in a background search's thread once the interpreter exits
    (set by the exit hook in :mod:`nasbook.search._background`), or :class:`Closing` in a run's thread
    once ``close()`` was called from another one (:func:`._background.end_for_close`)."""
    if s._exiting:
        raise InterpreterExiting(f"Search {s.name!r}: the interpreter is exiting.")
    if s._closing:
        raise Closing(f"Search {s.name!r}: close() was called from another thread.")


def set_up(s: Search, beat: Heartbeat) -> None:
    """What ``run()`` does once it holds the lease, before its executor starts: set the strategy up and replay the
    stored history into it (a long search takes a while), mark the search running, record a new environment,
    tell the knowledge base. Each write is checked against the lease first (``beat.check()``), as the loop's
    are: a run whose search was taken over meanwhile (a replay or a store slower than the lease's TTL, its
    heartbeat refused) writes nothing over the other run's search and stops with :class:`SearchOvertaken`."""
    from nasbook.search._search import SearchState

    check_exit(s)  # the interpreter exits (or close()): no replay, no executor started; stored interrupted
    if not s._ready:
        _resume.replay(s)
    beat.check()
    s.state = SearchState.RUNNING
    s._storage.update_search(s._search_id, state=s.state.value, **s._owned_search)  # a compare-and-set on the lease
    beat.check()
    _provenance.note_and_store(s)  # a session in another environment than the last one recorded
    if s._kb is not None:
        beat.check()
        s._kb.hold(s._owner, LEASE_TTL_S)  # a mirror's row: a lease of its own, so the kb can tell a killed run
        beat.also(lambda: s._kb.renew(apart=True) if s._kb is not None else None)
        s._kb.state(s.state.value)


def record_executor(s: Search, stored: str) -> str:
    """Store what the search runs on once the executor has started (a dask cluster's address and the
    trials it runs at once), if it differs from ``stored``, the description stored before; returns it."""
    now = repr(s.executor)
    if now != stored:
        s._storage.update_search(s._search_id, config=s._config(), **s._owned_search)
    return now


def in_ipython() -> bool:
    """True under IPython (a notebook kernel or the IPython shell), which shows SearchInterrupted in one line."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None


def interrupted(s: Search) -> SearchInterrupted:
    again = "run() again" if s.storage.label == ":memory:" else (
        f"run() again, or nasbook.load_search({s.name!r}, {s.storage.label!r}).run() in another process,")
    return SearchInterrupted(f"Search {s.name!r} interrupted after {s.n_trials} trials. They are stored; "
                             f"{again} goes on where it stopped (trials in flight run first).")


def fidelity(s: Search, proposal: Proposal) -> dict[str, Any] | None:
    """What ``task.evaluate`` gets as ``fidelity``: epochs, the checkpoint it continues or grows from."""
    return _checkpoints.fidelity(s, proposal)


def trial_from(s: Search, outcome: Outcome, r: _Running) -> Trial:
    """The trial to commit for an outcome: its result, and the proposal it answered."""
    res, proposal = outcome.result, r.proposal
    if res is not None and res.checkpoint is not None and s.strategy.continues_trials:
        try:
            s._checkpoints[outcome.number] = res.checkpoint  # ~1 MB for a small CNN: only when it may be used
        except StorageError as exc:  # (a full disk) raised by _finish once the trial is committed: its result is kept
            s._unwritten = exc
    state = outcome.state
    attrs: dict[str, Any] = {**proposal.attrs, **(res.attrs if res is not None else {})}
    if s._warm_by_id:
        attrs.update(_warm.trial_attrs(s, proposal.arch))  # where a warm-start architecture came from
    if proposal.grow is not None:  # how it grew: its parent, the move and the seed's settings
        attrs["grow"] = dict(proposal.grow)
    if outcome.traceback:
        attrs["traceback"] = outcome.traceback
    if outcome.worker_deaths:  # dask re-ran it after its worker died (out of memory, killed)
        attrs["attempts"] = outcome.attempts
        attrs["worker_deaths"] = "; ".join(outcome.worker_deaths)
    if lost := r.carried + int(outcome.lost_attempt_epochs):  # ... and what the lost attempts trained (an interrupted
        attrs["lost_attempt_epochs"] = lost  # run's too): epochs_spent counts them
    attrs.update(s.strategy.trial_attrs(outcome.number))  # e.g. a stopping rule's last prediction
    reason = outcome.reason
    if (r.until is not None and res is not None and res.epochs is not None and res.epochs >= r.until
            and state in (TrialState.COMPLETE, TrialState.PRUNED)):  # cut short by the budget: never a full result
        state, attrs["stopped_by"] = TrialState.PRUNED, "budget"
        reason = (f"stopped by the epochs budget after {res.epochs} of its "
                  f"{proposal.epochs if proposal.epochs is not None else s.task.max_epochs} epochs")
    value = float(res.value) if res is not None and state.has_value else None
    return Trial(
        outcome.number, proposal.arch, state, value,
        dict(res.metrics) if res is not None else {}, attrs,
        res.epochs if res is not None else None,
        outcome.started_at, outcome.finished_at, reason, r.told,
        {k: [float(x) for x in v] for k, v in res.curves.items()} if res is not None and res.curves else {},
        proposal.parent, proposal.lineage,
    )


# -- the steps of a trial: Search._ask, _finish and _record (kept there) ---------------------------
def ask(s: Search) -> Proposal | Wait | SpaceExhausted:
    """The body of ``Search._ask``: the strategy's next proposal, checked, ``WAIT`` or its ``SpaceExhausted``."""
    try:
        asked = s.strategy.ask()
    except SpaceExhausted as exc:
        return exc
    if asked is WAIT:
        return WAIT
    proposal = _checks.check_proposal(s, asked if isinstance(asked, Proposal) else Proposal(asked))  # type: ignore[arg-type]
    if proposal.epochs is not None and not s.task.has_epochs:
        name = type(s.strategy).__name__
        raise InvalidParameterError(
            f"{name} asked for a trial of {proposal.epochs} epoch{'s' if proposal.epochs != 1 else ''}, but "
            f"{s.task!r} does not train for epochs: it looks final scores up. {name} needs a task that trains "
            "for epochs (Digits, DigitsTable, MNIST1DTable, a TrainingTask); on this task use a strategy that "
            "proposes architectures only, such as 'random', 'evolution', 'local', 'bo' or 'portfolio'."
        )
    return proposal


def finish(s: Search, trial: Trial, pbar: Any, *, update: bool = False) -> None:
    """The body of ``Search._finish``: commit a finished trial (durable first), then record it, tell the
    strategy, call back."""
    if update:  # first stored RUNNING: overwrite that row
        s._storage.update_trial(s._search_id, trial, tell_seq=s._n_told, **s._owned)
    else:  # owner: the row stays this run's; another run that takes it over makes its writes fail (TrialTaken)
        s._storage.add_trial(s._search_id, trial, tell_seq=s._n_told, **s._owned)
    if trial.parent is not None:  # continued, and committed: the child's checkpoint supersedes the parent's
        s._checkpoints.pop(trial.parent, None)  # (dropped before the commit, a failed one lost it)
    if s._kb is not None:  # a knowledge base kept elsewhere gets its copy (idempotent)
        s._kb.record(trial)
    s._record(trial)
    s.strategy.tell(_resume.blind(trial))  # ... then the strategy hears of it
    _checkpoints.prune(s)
    s._tell_seq[trial.number] = s._n_told
    s._n_told += 1
    for cb in s.callbacks:
        cb(s, trial)
    if pbar is not None:
        pbar.trial_finished(trial)
    unwritten, s._unwritten = s._unwritten, None
    if unwritten is not None:  # its checkpoint could not be written (_loop.trial_from): stop, the trial is stored
        raise unwritten


def record(s: Search, trial: Trial) -> None:
    """The body of ``Search._record``: count its epochs (and its lost attempts'), keep trial-number order, update
    the best (the rule of ``Storage.list_searches`` and ``KnowledgeBase.searches``: :class:`nasbook.storage.TopFidelityBest`)."""
    parent = s._trial_by_number(trial.parent) if trial.parent is not None else None
    # what it trained (epochs_run, or its epochs beyond its parent's) and its attempts lost with a dask worker (a
    # FAILED trial's too): Trial.epochs_trained, as plot_history(x="epochs") counts it
    s._epochs_spent += trial.epochs_trained(parent)
    trials = s._trials
    if not trials or trials[-1].number < trial.number:
        trials.append(trial)
    else:  # finished out of order (parallel workers): keep trial-number order
        bisect.insort(trials, trial, key=lambda t: t.number)
    s._best = s._best_rule.add(trial)  # the top-fidelity rule: an ASHA search's best is at its highest rung
