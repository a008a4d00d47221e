"""``KnowledgeBase``: every trial of every search, by task and space, in the store the loop commits to."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import InvalidParameterTypeError, NasbookError, StorageError
from nasbook.knowledge import _frames, _kb_filters, _parquet
from nasbook.knowledge._ingest import ingest_trials
from nasbook.knowledge._kb_similarity import SimilarityMixin
from nasbook.knowledge._kb_tasks import TasksMixin
from nasbook.storage import TABLES, Storage, task_key

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    import xarray as xr

    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task

_T, _P = TABLES["trials"], TABLES["spaces"]
#: the trial states :meth:`KnowledgeBase.trials` returns unless told otherwise
FINISHED_OK = ("complete",)
#: every trial state ``states=`` of :meth:`KnowledgeBase.trials` and ``to_xarray`` accepts
ALL_STATES = ("complete", "pruned", "failed", "diverged", "running", "queued")


class KnowledgeBase(TasksMixin, SimilarityMixin):
    """The memory of every search: trials by task and space, in the store searches commit to.

    Of a multi-fidelity search (ASHA, Hyperband, ...) only the trials at that search's most epochs
    count for quality (warm starts, the transfer prior, ``similar``, task similarity, the best per
    task and per search, with its epochs); :meth:`trials` keeps every rung. The rule:
    :func:`~nasbook.knowledge.top_fidelity`.

    Parameters
    ----------
    path_or_url : str, path or Storage
        A SQLite file (default ``"nasbook.db"``, the file ``Search`` writes by default),
        ``":memory:"``, any database URL (``"postgresql+psycopg://user@host/db"`` for a team), or
        a :class:`nasbook.storage.Storage`. Every search stored there is in the knowledge base;
        ``Search(..., kb=kb)`` adds new ones (and mirrors those kept in another store).
    create : bool
        Create a SQLite file that does not exist (default). With False a missing file is an error.

    Examples
    --------
    >>> kb = KnowledgeBase(":memory:")
    >>> kb.trials().shape[0]
    0
    """

    def __init__(self, path_or_url: str | os.PathLike[str] | Storage = "nasbook.db", *, create: bool = True):
        #: (space, task) -> (its write counter, whether a search there has trials at different epochs): _ranks.py
        self._fidelity_seen: dict[tuple[str, str], tuple[int, bool]] = {}
        #: (space, task) of such a search -> (its write counter, its cells over top-fidelity trials): _ranks.py
        self._fidelity_cells: dict[tuple[str, str], tuple[int, Any]] = {}
        if isinstance(path_or_url, Storage):
            self.storage = path_or_url
        elif isinstance(path_or_url, (str, os.PathLike)):
            if not isinstance(create, bool):
                raise InvalidParameterTypeError(f"KnowledgeBase(create=...) must be True or False; got {create!r}.")
            self.storage = Storage(path_or_url, create=create)
        else:
            raise InvalidParameterTypeError(
                f"KnowledgeBase(path_or_url=...) must be a file path, ':memory:', a database URL such as "
                f"'postgresql+psycopg://user@host/db', or a nasbook Storage; got {path_or_url!r:.80} of type "
                f"{type(path_or_url).__name__}.")

    # -- the store ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """What SQLAlchemy connects to (may hold a password: never printed)."""
        return self.storage.url

    @property
    def label(self) -> str:
        """The path, or the URL with its password masked."""
        return self.storage.label

    def close(self) -> None:
        """Close the store's connections (also on leaving a ``with`` block)."""
        self.storage.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<KnowledgeBase {self.label!r}: {_frames.summary(self)}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nasbook.display import view_mimebundle
        from nasbook.knowledge._views import kb_view

        return view_mimebundle(kb_view(self), include=include, exclude=exclude)

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_(include={"text/html"}).get("text/html", "")

    def _rows(self, stmt: Any, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
        conn = self.storage.conn
        try:
            rows = conn.execute(stmt, dict(params or {})).all()
            conn.commit()
        except (sa.exc.DatabaseError, sa.exc.OperationalError) as exc:
            conn.rollback()
            raise StorageError(f"knowledge base {self.label!r} failed: {getattr(exc, 'orig', exc)}") from None
        return rows

    def _write(self, fn: Any) -> Any:
        conn = self.storage.conn
        try:
            out = fn(conn)
            conn.commit()
        except (sa.exc.DatabaseError, sa.exc.OperationalError) as exc:
            conn.rollback()
            raise StorageError(f"knowledge base {self.label!r} failed: {getattr(exc, 'orig', exc)}") from None
        except BaseException:
            conn.rollback()
            raise
        return out

    # -- tables ---------------------------------------------------------------------------------
    @property
    def searches(self) -> pd.DataFrame:
        """One row per search: search, task, task_key, space_id, strategy, state, n_trials, best, best_arch_id,
        best_epochs, metric, mode, ... (n_trials: every state; best: of its trials at its most epochs, the rule
        of :attr:`tasks`' best, so a 1-epoch score of an ASHA search never beats its top rung)."""
        return _frames.searches_frame(self)

    @property
    def tasks(self) -> pd.DataFrame:
        """One row per task (index ``task_key``): name, n_searches, n_trials, best, best_arch_id, best_epochs, metric,
        mode, meta-features, landmarks (best: of each search's trials at its most epochs, as :attr:`searches`')."""
        return _frames.tasks_frame(self)

    @property
    def spaces(self) -> pd.DataFrame:
        """One row per space seen (index ``space_id``): class, n_searches, n_trials."""
        return _frames.spaces_frame(self)

    def trials(self, task: Any = None, space: Any = None, search: Any = None,
               states: str | Iterable[str] | None = FINISHED_OK, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Trials as a DataFrame, one row each, oldest search first and in trial-number order.

        Columns: task, task_key, search, strategy, space_id, number, state, arch_id, arch (the
        spec, a dict), value, metrics (a dict), metric, mode, epochs, finished_at. The raw record:
        every rung of a multi-fidelity search is a row (the quality aggregates keep only each
        search's trials at its most epochs: :func:`~nasbook.knowledge.top_fidelity`).

        Parameters
        ----------
        task, space, search : optional
            Keep only these: a Task, task key or task name; a SearchSpace or ``space_id``; a search
            name or Search. Each may also be a list.
        states : str, list of str or None
            Trial states to keep (default: only ``"complete"``); None keeps every state.
        columns : list of str, optional
            Read only these columns, in this order (default: all): ``kb.trials(columns=c)`` equals
            ``kb.trials()[c]``; leaving out ``metrics`` and ``arch`` skips decoding their JSON, most of
            the time at scale (docs/benchmarks.md, section 11t).

        Returns
        -------
        pandas.DataFrame
            The columns above, one row per trial. The rows of one architecture share one ``arch``
            dict (each distinct spec is decoded once): copy it before editing it in place.

        Examples
        --------
        >>> kb = KnowledgeBase(":memory:")
        >>> kb.trials(columns=["task", "arch_id", "value"]).columns.tolist()
        ['task', 'arch_id', 'value']
        """
        want = _frames.trial_columns(columns)  # checked before the store is read
        return _frames.trials_frame(self, self._where(task, space, search, states), want)

    def to_xarray(self, task: Any = None, space: Any = None, search: Any = None,
                  states: str | Iterable[str] | None = FINISHED_OK) -> xr.Dataset:
        """:meth:`trials` as an ``xarray.Dataset`` over dim ``trial``; numeric metrics as ``metrics.<name>``.

        Parameters
        ----------
        task, space, search : optional
            Keep only these, as in :meth:`trials`: a Task, task key or task name; a SearchSpace or
            ``space_id``; a search name or Search. Each may also be a list.
        states : str, list of str or None
            Trial states to keep (default: only ``"complete"``); None keeps every state.

        Returns
        -------
        xarray.Dataset
            One entry per trial (coordinate ``trial``: 0, 1, ...): the string columns of
            :meth:`trials`, ``number``, ``value``, ``epochs`` (NaN when unknown), ``finished_at``
            and a ``metrics.<name>`` variable per numeric metric (NaN where a trial lacks it);
            attr ``knowledge_base``: :attr:`label`.
        """
        cols = [c for c in _frames.TRIAL_COLUMNS if c != "arch"]  # no arch spec in the Dataset: none decoded
        return _frames.to_dataset(self.trials(task, space, search, states, columns=cols), self.label)

    # -- filters --------------------------------------------------------------------------------
    def _catalog(self) -> tuple[dict[str, str], set[str], list[str]]:
        """(task key -> name, space ids, search names)."""
        return _kb_filters.catalog(self)

    def _where(self, task: Any, space: Any, search: Any, states: Any) -> list[Any]:
        return _kb_filters.where(self, task, space, search, states)

    def task_keys(self, task: Any, *, _keys: dict[str, str] | None = None) -> list[str]:
        """The stored task keys a Task, key or name (or a list of them) stands for; an error for an unknown one.

        Parameters
        ----------
        task : Task, str or list of them
            A Task, a task key or a task name; a task not stored here raises InvalidParameterError
            (with the stored names and a close match), anything else InvalidParameterTypeError.

        Returns
        -------
        list of str
            The keys, in the order given; a name stands for every stored task of that name.
        """
        return _kb_filters.task_keys(self, task, _keys)

    def _space_id(self, space: Any, known: set[str]) -> str:
        return _kb_filters.space_id(self, space, known)

    @staticmethod
    def task_key(task: Task | Mapping[str, Any]) -> str:
        """The stable key of a task (a hash of its configuration): the same for every run of that task.

        Parameters
        ----------
        task : Task or Mapping
            A task, or its configuration (``task.to_config()``).

        Returns
        -------
        str
            16 hex digits of a SHA-256 of the canonical JSON of the configuration (as stored);
            the task need not be in the knowledge base.
        """
        config = task if isinstance(task, Mapping) else task.to_config()
        return task_key(_frames.as_stored(config))

    # registering tasks and their meta-features and landmarks (add_task, add_task_meta, meta_features,
    # landmarks): TasksMixin (_kb_tasks.py).

    # -- spaces and architectures ---------------------------------------------------------------
    def space(self, space_id: str) -> SearchSpace:
        """The SearchSpace stored under ``space_id``: rebuilt from its configuration (built-in spaces), or the
        space of that id in memory (a space of your own: build it in this process, e.g. to query ``similar``).

        Parameters
        ----------
        space_id : str
            The ``space_id`` of a space with stored searches (the ``space_id`` column of
            :meth:`trials`, the index of :attr:`spaces`); another raises InvalidParameterError.

        Returns
        -------
        SearchSpace
            A space equal to the one the trials ran in: ``arch.space_id == space_id`` for its
            architectures. A space class nasbook cannot rebuild, not in memory, raises NasbookError.
        """
        from nasbook import space as space_mod

        self._space_id(space_id, self._catalog()[1])
        (text,) = self._rows(sa.select(sa.type_coerce(_P.c.config, sa.Text)).where(_P.c.space_id == space_id))[0]
        config = _frames.load_json(text, f"the configuration of space {space_id!r}")
        cls = space_mod.space_class(str(config.get("class", "")))  # a built-in, a registered or an installed one
        if cls is None:
            live = space_mod.live_space(space_id)
            if live is not None:
                return live
            raise NasbookError(f"space {space_id!r} in {self.label!r} is a {config.get('class')!r} (params "
                               f"{config.get('params')!r:.80}), a class nasbook cannot rebuild: create that space in "
                               f"this process first, and the knowledge base uses it, or register its class "
                               f"(nasbook.space.register({config.get('class')})), or install the package that lists "
                               f"it under entry-point group 'nasbook.spaces'.")
        return cls.from_config({"class": cls.__name__, "params": config.get("params", {})})

    def results_of(self, arch: Architecture, states: str | Iterable[str] | None = FINISHED_OK) -> pd.DataFrame:
        """Every recorded trial of one architecture, on every task (the :meth:`trials` columns).

        Parameters
        ----------
        arch : Architecture
            The architecture, matched by its ``space_id`` and ``id``; its space must have stored
            searches here (else InvalidParameterError).
        states : str, list of str or None
            Trial states to keep (default: only ``"complete"``); None keeps every state.

        Returns
        -------
        pandas.DataFrame
            One row per trial of ``arch`` (every task, search and rung), columns as :meth:`trials`;
            empty when it was never evaluated.
        """
        space_id, arch_id = getattr(arch, "space_id", None), getattr(arch, "id", None)
        if not isinstance(space_id, str) or not isinstance(arch_id, str):
            raise InvalidParameterTypeError(f"KnowledgeBase.results_of(arch=...) must be an Architecture; got {arch!r:.80}.")
        where = self._where(None, space_id, None, states)
        return _frames.trials_frame(self, [*where, _T.c.arch_id == arch_id])

    def warm_start(self, space: SearchSpace, n: int = 10, *, task_weights: Any = None, diversify: bool = True,
                   mode: str | None = None, exclude: str | None = None) -> list[tuple[Architecture, dict[str, Any]]]:
        """:func:`~nasbook.knowledge.select_warm_start` over this knowledge base's complete trials,
        read from the per-task ranks the store keeps as trials are written (no trial is read), or
        computed from :meth:`trials` where those cannot give the same answer (past trials in
        another space, two tasks under one name). Of a multi-fidelity search only the trials at its
        most epochs count (:mod:`nasbook.knowledge._fidelity`): such a task's ranks are aggregated
        from those trials once per write of the task and remembered (``_ranks.py``).

        Parameters
        ----------
        space : SearchSpace
            The space of the new search.
        n : int, default 10
            How many architectures (fewer when fewer are recorded).
        task_weights : mapping, callable or None
            ``{task name: weight}``, None (every task alike), or a function of the sorted names of
            the past tasks returning either.
        diversify : bool, default True
            Skip candidates one edit away from one already chosen.
        mode : {"max", "min"}, optional
            Direction of every value; default each trial's own ``mode``.
        exclude : str, optional
            The name of a search whose trials are left out (the new search itself).

        Returns
        -------
        list of (Architecture, dict)
            Best first, each with its provenance, as :func:`~nasbook.knowledge.select_warm_start` gives.
        """
        from nasbook.knowledge._ranks import past_task_names, stored_warm_start
        from nasbook.knowledge._warm import check_space, select_warm_start

        names = past_task_names(self, check_space("KnowledgeBase.warm_start", space))
        if names is not None:
            weights = task_weights(names) if callable(task_weights) else task_weights
            out = stored_warm_start(self, space, n, task_weights=weights, diversify=diversify, mode=mode, exclude=exclude,
                                    owner="KnowledgeBase.warm_start")
            if out is not None:
                return out
        trials = self.trials()
        if exclude is not None:
            trials = trials[trials["search"] != exclude]
        if callable(task_weights):
            task_weights = task_weights(sorted(set(map(str, trials["task"]))))
        return select_warm_start(trials, space, n, task_weights=task_weights, diversify=diversify, mode=mode,
                                 _owner="KnowledgeBase.warm_start", _from_store=True)

    # similarity over architectures (similar), over tasks (similar_tasks, task_distances, cluster_tasks),
    # landmarks (probes, measure_landmarks) and their plots: SimilarityMixin (_kb_similarity.py).

    # -- bulk in and out ------------------------------------------------------------------------
    def ingest(self, trials: Any, *, task: Task | str, space: SearchSpace, name: str | None = None,
               strategy: str = "external", metric: str | None = None, mode: str | None = None,
               validate: bool = True) -> str:
        """Load the trials of a run made elsewhere (one new search); its name.

        Parameters
        ----------
        trials : DataFrame or iterable of mappings
            One row per trial: ``arch`` (an Architecture or its spec, a dict) and ``value`` (a number);
            optional ``number`` (an int >= 0, each used once; default the row's index), ``state``
            (default ``"complete"``), ``metrics`` (a dict), ``epochs``, ``finished_at``. ``number``
            and ``epochs`` must fit the store's INTEGER (up to 2**63 - 1 on SQLite, 2**31 - 1 on
            PostgreSQL; a larger one is refused naming the trial). With
            ``validate=False`` also ``arch_id``, trusted as given. A refused row records nothing.
        task : Task or str
            The task they ran on: a Task, or a name for a task nasbook does not know.
        space : SearchSpace
            The space of the architectures; each is checked against it (``validate=True``).
        name, strategy : str
            The new search's name (generated when omitted) and the strategy to record.
        metric, mode : str, optional
            For a task given by name: the objective (default ``"value"``, ``"max"``).
        validate : bool, default True
            Check every architecture against ``space``; False trusts the rows' ``arch_id`` (faster).

        Returns
        -------
        str
            The new search's name.
        """
        return ingest_trials(self, trials, task=task, space=space, name=name, strategy=strategy, metric=metric,
                             mode=mode, validate=validate)

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write every search, task, space and trial to one Parquet file (lossless; no pickle).

        Parameters
        ----------
        path : str or path-like
            The file to write.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        return _parquet.export(self, path)

    def import_parquet(self, path: str | os.PathLike[str], *, prefix: str = "") -> list[str]:
        """Add the searches of a file from :meth:`export`; the names of the searches added or merged.

        Importing the same file twice stores its trials once. A search whose name is taken by a
        different search is an error unless ``prefix`` renames the imported ones. The file may come
        from someone else: it is read as data (no pickle, no class it names is imported), and every
        row and entry is checked before anything is written, so a damaged or crafted file raises
        :class:`~nasbook.StorageError` naming the row and imports nothing (docs/search-loop.md, "Files
        from someone else").

        Parameters
        ----------
        path : str or path-like
            A file :meth:`export` wrote.
        prefix : str, default ""
            Put before the name of every imported search.

        Returns
        -------
        list of str
            The names of the searches added or merged.
        """
        return _parquet.import_parquet(self, path, prefix=prefix)

    @classmethod
    def import_(cls, path: str | os.PathLike[str], into: str | os.PathLike[str] | Storage = ":memory:") -> KnowledgeBase:
        """A knowledge base (``into``, in memory by default) holding the contents of an exported file.

        Parameters
        ----------
        path : str or path-like
            A Parquet file :meth:`export` wrote.
        into : str, path-like or Storage, default ":memory:"
            Where to put them, as ``KnowledgeBase(path_or_url)`` takes it: a SQLite file (created
            if missing), a database URL or a Storage; what it already holds stays.

        Returns
        -------
        KnowledgeBase
            The knowledge base on ``into``, with the file's searches, tasks, spaces and trials.
        """
        return _parquet.import_into(cls, path, into)  # the file checked before into is opened
