"""``Search(..., kb=kb)``: where a search is stored when it has a knowledge base, and how it is recorded there.

Two cases:

- **The kb's store is the search's store** (no ``storage=`` given, or the same URL): the loop's own
  commits *are* the knowledge base's record; nothing is written twice. The search opens its own
  connection to that store (a background run never shares the kb's connection).
- **The search has a store of its own**: that store stays the single authority for the loop
  (commit-before-tell, leases, exactly-once resume all rest on one database, and making the kb the
  authority would need a two-phase commit across two databases). The kb gets a *mirror*: a search
  row of the same name (its config says ``mirror_of``) and, after each trial is committed to the
  search's store, that trial inserted "unless present" under its number. A copy keyed by
  (search, number) and inserted idempotently can never duplicate; the gap a crash between the two
  commits leaves (or a kb that was unreachable for a while: a warning, not a failed search) is
  filled by a full re-sync whenever the search is attached again (``load_search(..., kb=kb)``)
  and before the next trial after a failed write.

  While a run holds the search's lease, the mirror row holds a lease of its own in the kb's store (same
  owner token; :meth:`KbLink.hold`), renewed with it (the heartbeat thread and the loop) and given back with
  the run's last state write. The kb's ``searches`` (``list_searches``) then reads a mirror whose run was
  killed as interrupted by the rule ``nasbook list`` applies to the search's own store (a dead process on this
  host, or no heartbeat for 60 s from another), instead of ``running`` until a later run took the search over.
  The search's own lease stays the authority: a run takes the mirror's lease over from whoever held it.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterTypeError, NasbookWarning, StorageError, stacklevel_outside_nasbook

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from nasbook.knowledge import KnowledgeBase
    from nasbook.search._search import Search
    from nasbook.storage import Storage
    from nasbook.trial import Trial


def storage_for(storage: Any, kb: Any, owner: str = "Search", *, create: bool = True) -> Storage:
    """The search's store: ``storage`` if given, else the kb's store, else ``"nasbook.db"``."""
    from nasbook.storage import open_storage

    if kb is None:
        return open_storage("nasbook.db" if storage is None else storage, create=create)
    check_kb(kb, owner)
    if storage is None or (not isinstance(storage, (str, os.PathLike)) and storage is kb.storage):
        return kb.storage if kb.storage.url == "sqlite://" else open_storage(kb.url, create=create)
    return open_storage(storage, create=create)


def opened_for(st: Storage, storage: Any, kb: Any) -> bool:
    """Whether :func:`storage_for` opened ``st`` for the search (so the search closes it), rather than
    returning the ``Storage`` or the kb's store it was given; a ``":memory:"`` store is never closed (it would be lost)."""
    return st is not storage and (kb is None or st is not kb.storage) and st.url != "sqlite://"


def check_kb(kb: Any, owner: str) -> None:
    from nasbook.knowledge import KnowledgeBase

    if not isinstance(kb, KnowledgeBase):
        raise InvalidParameterTypeError(f"{owner}(kb=...) must be a nasbook.KnowledgeBase (e.g. KnowledgeBase('kb.db') "
                                        f"or a database URL) or None; got {kb!r:.80} of type {type(kb).__name__}.")


class KbLink:
    """A search's link to its knowledge base: registers its task, mirrors its trials when stored elsewhere."""

    def __init__(self, search: Search, kb: KnowledgeBase):
        self.kb = kb
        self.search = search
        kb.add_task(search.task)  # the task's name (the search's config may predate task_name)
        st = search.storage
        self.mirror = not (st is kb.storage or (st.url == kb.storage.url and st.url != "sqlite://"))
        self.kb_id: int | None = None
        self.dirty = False
        self._warned = False
        self.owner: str | None = None  # the run's lease token, while the mirror row holds a lease with it (hold)
        if self.mirror:
            self.kb_id = self._mirror_row()
            self.sync()

    def _mirror_row(self) -> int:
        s, kb = self.search, self.kb
        config = dict(s._config(), mirror_of=s.storage.label)
        try:
            record = kb.storage.get_search(s.name)
        except StorageError:  # none yet (SearchNotFoundError)
            return kb.storage.create_search(s.name, config)
        if record.config.get("mirror_of") != s.storage.label or record.config.get("seed") != s.seed:
            raise StorageError(
                f"knowledge base {kb.label!r} already holds another search named {s.name!r} (not a copy of this "
                f"search in {s.storage.label!r}); give this search another name.")
        return record.id

    def sync(self) -> None:
        """Copy every finished trial committed to the search's store that the kb lacks."""
        if not self.mirror:
            return
        s = self.search
        trials, _ = s.storage.load_trials(s._search_id, s.space)
        self._write([t for t in trials if t.state.is_finished])

    def record(self, trial: Trial) -> None:
        """After ``trial`` is committed to the search's store: record it in the kb (mirror only)."""
        if not self.mirror:
            return
        if self.dirty:
            self.dirty = False
            self.sync()
        else:
            self._write([trial])

    def hold(self, owner: str, ttl_s: float) -> None:
        """A run holding the search's lease (token ``owner``) takes the mirror row's lease in the kb's store,
        from whoever held it (a killed run's, or one taken over: the search's own lease decides who runs).
        Best effort: a kb that refuses it (unreachable, a store without leases) leaves the row as before."""
        if not self.mirror or self.kb_id is None:
            return
        from nasbook.storage import lease_holder

        st = self.kb.storage
        try:
            held = lease_holder(st, self.kb_id)
            if held is not None and held[0] != owner:
                st.release_lease(self.kb_id, held[0])
            st.acquire_lease(self.kb_id, owner, ttl_s=ttl_s)
            self.owner = owner
        except Exception as exc:  # noqa: BLE001 - never into the run: the mirror row keeps its stored state
            self.owner = None
            _log.warning("nasbook: search %r: knowledge base %r: its mirror's lease was not taken (%s)",
                         self.search.name, self.kb.label, exc)

    def renew(self, apart: bool = False) -> None:
        """Renew the mirror's lease (``apart``: from the heartbeat's thread, on a connection of its own). Best effort."""
        owner = self.owner
        if owner is None or self.kb_id is None:
            return
        from nasbook.storage import renew_lease_apart, renews_lease_apart

        st = self.kb.storage
        try:
            if not apart:
                st.renew_lease(self.kb_id, owner)
            elif renews_lease_apart(st):  # an in-memory kb: the loop renews it (and no other process reads it)
                renew_lease_apart(st, self.kb_id, owner, self.search.name)
        except Exception as exc:  # noqa: BLE001 - taken over or unreachable: the search's own lease decides
            _log.debug("nasbook: renewing the mirror lease of search %r failed: %s", self.search.name, exc)

    def state(self, state: str, elapsed_s: float | None = None) -> None:
        """The search's state (and run time) changed in its own store: the mirror row says the same, so
        the kb's ``searches`` never shows a finished search as "created" (mirror only; a failed write warns).

        Called by a run right after its own compare-and-set write of that state succeeded, and before it gives
        its lease back: a run that takes the search next writes its state after this one (the mirror is in
        another database, so the write itself cannot be conditional on the lease)."""
        if not self.mirror or self.kb_id is None:
            return
        try:
            self.kb.storage.update_search(self.kb_id, state=state, elapsed_s=elapsed_s)
        except StorageError as exc:
            self._warn(exc)
        if state != "running" and self.owner is not None:  # the run's end: the mirror's lease goes with the search's
            owner, self.owner = self.owner, None
            try:
                self.kb.storage.release_lease(self.kb_id, owner)
            except Exception as exc:  # noqa: BLE001 - a stale row reads as the run's end anyway
                _log.debug("nasbook: giving back the mirror lease of search %r failed: %s", self.search.name, exc)

    def _warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(f"Search {self.search.name!r}: knowledge base {self.kb.label!r} could not record trials "
                          f"({exc}); the search goes on (its own store has them) and the knowledge base is "
                          "caught up on the next trial or when the search is loaded again.", NasbookWarning,
                          stacklevel=stacklevel_outside_nasbook())

    def _write(self, trials: list[Trial]) -> None:
        assert self.kb_id is not None
        try:
            self.kb.storage.add_trials(self.kb_id, trials, ignore_existing=True)
        except StorageError as exc:
            self.dirty = True  # the next trial re-syncs everything the kb missed
            self._warn(exc)


def link(search: Search, kb: Any) -> KbLink | None:
    return None if kb is None else KbLink(search, kb)


# -- what the knowledge base gives a new search: warm-start architectures, a transfer prior for bo --------
def past_of(search: Search, kb: KnowledgeBase) -> tuple[Any, dict[str, float] | None]:
    """The kb's completed trials in the search's space family (every task but none of this search's
    own) and task weights: ``1 - distance`` of :meth:`KnowledgeBase.similar_tasks` (at least 0.05),
    the search's own task 1, every task alike when the task cannot be compared (no meta-features,
    no landmarks)."""
    trials = kb.trials()
    trials = trials[trials["search"] != search.name]
    return trials, weights_of(search, kb, sorted(set(map(str, trials["task"]))))


def weights_of(search: Search, kb: KnowledgeBase, names: list[str]) -> dict[str, float] | None:
    """:func:`past_of`'s task weights over the past tasks ``names``."""
    from nasbook._errors import NasbookError

    if not names:
        return None
    try:
        near = kb._near_tasks(search.task, k=len(names))  # empty when no task compares: all at 0.05
    except NasbookError:  # nothing to compare the task with: every past task alike
        return None
    weights = {t: 0.05 for t in names}
    weights.update({str(t): max(0.05, 1.0 - float(d)) for t, d in zip(near["task"], near["distance"]) if d == d})
    own = getattr(search.task, "name", None)
    if own in weights:
        weights[own] = 1.0
    return weights


def warm_source(search: Search, kb: KnowledgeBase) -> Any:
    """``source(n)`` for ``Search(kb=kb, warm_start=True | n)``: :func:`~nasbook.knowledge.select_warm_start`
    over the kb's past trials, weighted by task similarity."""
    def source(n: int) -> Any:
        from nasbook._errors import InvalidParameterError
        from nasbook.knowledge import NoPastTrialsError

        try:
            return kb.warm_start(search.space, n, task_weights=lambda names: weights_of(search, kb, names),
                                 mode=search.task.mode, exclude=search.name)
        except NoPastTrialsError as exc:  # say it of the parameter the user passed, and what to do instead
            raise InvalidParameterError(
                f"Search(kb=..., warm_start=...): no warm start for this search's space: {exc.reason} "
                "Leave warm_start out for a cold start (kb= still records the search), or pass a list of "
                "architectures.") from exc
    return source


def give_prior(search: Search, kb: KnowledgeBase) -> None:
    """``strategy="bo"`` with a knowledge base (and no prior of its own): a
    :class:`~nasbook.knowledge.TransferPrior` of the kb's past trials, weighted by task similarity.
    Quietly none when the kb holds no usable past task for this space."""
    from nasbook._errors import NasbookError
    from nasbook.knowledge import TransferPrior

    strategy = search.strategy
    if not hasattr(strategy, "prior") or getattr(strategy, "prior", None) is not None or type(strategy).__name__ != "BO":
        return
    trials, weights = past_of(search, kb)
    if trials.empty:
        return
    try:
        prior = TransferPrior(trials, search.space, task_weights=weights, mode=search.task.mode)
    except NasbookError:
        return
    # where it came from, so that load_search(..., kb=kb) rebuilds the same prior (resume stays exact)
    per_search = trials.groupby("search")["number"].agg(["size", "max"])
    prior.kb_provenance = {"searches": {str(k): [int(r["size"]), int(r["max"])] for k, r in per_search.iterrows()},
                           "task_weights": None if weights is None else {str(k): float(v) for k, v in weights.items()},
                           "mode": search.task.mode}
    strategy.prior = prior


def restore_prior(strategy: Any, config: dict[str, Any], space: Any, kb: KnowledgeBase | None) -> None:
    """``load_search(..., kb=kb)``: rebuild what :func:`give_prior` and :func:`give_portfolio_prior`
    gave the stored search: a BO's transfer prior from the same past trials (the searches and trial
    numbers recorded in its configuration; a warning if the kb no longer holds exactly those), and a
    Portfolio's "(from kb)" label."""
    from nasbook.knowledge import TransferPrior

    if config.get("prior_from") and getattr(strategy, "prior", None) is not None:
        strategy.prior_from_ = config["prior_from"]
    prior = getattr(strategy, "prior", None)
    if kb is None or not (isinstance(prior, dict) and isinstance(prior.get("kb"), dict)):
        return
    provenance = prior["kb"]
    try:  # what the stored configuration says: from a file someone else may have written
        wanted = {str(k): (int(v[0]), int(v[1])) for k, v in provenance["searches"].items()}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise StorageError(f"the stored transfer prior of this BO is damaged: its 'prior' parameter should record the "
                           f"searches it was fitted on ({{'searches': {{name: [n_trials, last_number]}}}}); found "
                           f"{provenance!r:.80}. Pass strategy=... to load_search.") from None
    trials = kb.trials()
    trials = trials[trials["search"].isin(list(wanted))]
    trials = trials[trials["number"] <= trials["search"].map({k: last for k, (_, last) in wanted.items()})]
    have = trials.groupby("search").size().to_dict()
    changed = sorted(n for n, (size, _) in wanted.items() if have.get(n, 0) != size)
    if changed:
        warnings.warn(f"knowledge base {kb.label!r} no longer holds exactly the trials this search's transfer prior "
                      f"was fitted on (searches {changed[:5]!r}); the prior is rebuilt from what it holds, so proposals "
                      "may differ from the original run's.", NasbookWarning,
                      stacklevel=stacklevel_outside_nasbook())
    rebuilt = TransferPrior(trials, space, task_weights=provenance.get("task_weights"), mode=provenance.get("mode"))
    rebuilt.kb_provenance = provenance
    strategy.prior = rebuilt


def give_portfolio_prior(search: Search, kb: KnowledgeBase) -> None:
    """A :class:`~nasbook.strategies.Portfolio` with a knowledge base (and no prior of its own): the
    pseudo-wins of :func:`~nasbook.strategies.portfolio_prior` over the kb's past searches with the
    Portfolio's arms, each past task's win weighted by its similarity to this task (as in
    :func:`past_of`), searches compared over their first ``budget.trials`` trials. The strategy's
    ``prior_from_`` says ``"kb"`` (its repr shows it). Quietly none when no past search used an arm."""
    from nasbook.strategies import Portfolio, portfolio_prior

    strategy = search.strategy
    if not isinstance(strategy, Portfolio) or strategy.prior is not None:
        return
    trials, weights = past_of(search, kb)
    if trials.empty:
        return
    budget = search.budget.trials if isinstance(search.budget.trials, int) else None
    prior = portfolio_prior(trials, arms=strategy.arm_names, budget=budget, task_weights=weights)
    if prior and sum(prior.values()) > 0:
        strategy.prior = prior
        strategy.prior_from_ = "kb"
