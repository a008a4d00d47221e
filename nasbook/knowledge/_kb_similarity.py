"""The similarity methods of :class:`~nasbook.KnowledgeBase`: architectures (``similar``), tasks
(``similar_tasks``, ``task_distances``, ``cluster_tasks``), landmarks (``probes``,
``measure_landmarks``) and their plots. They read the base's records through its public tables
and call the pure functions of :mod:`nasbook.knowledge` (``_similar``, ``_tasksim``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError, check_int
from nasbook.knowledge._arch_summary import ArchSummary
from nasbook.knowledge._index import ArchIndex
from nasbook.knowledge._meta import task_meta_features
from nasbook.knowledge._tasksim import WEIGHTS, cluster_tasks, pick_probes, similar_tasks, task_distances

if TYPE_CHECKING:
    import pandas as pd

    from nasbook.space import Architecture, SearchSpace
    from nasbook.tasks import Task


class SimilarityMixin:
    """Mixed into KnowledgeBase; needs ``trials``, ``tasks``, ``task_keys``, ``space``, ``add_task_meta``."""

    if TYPE_CHECKING:  # what the mixin reads from KnowledgeBase
        tasks: pd.DataFrame
        @property
        def label(self) -> str: ...

        def _write(self, fn: Any) -> Any: ...
        def _rows(self, stmt: Any, params: Any = None) -> Any: ...
        def _where(self, task: Any, space: Any, search: Any, states: Any) -> list[Any]: ...
        def _catalog(self) -> tuple[dict[str, str], set[str], list[str]]: ...
        def trials(self, task: Any = None, space: Any = None, search: Any = None, states: Any = ...) -> pd.DataFrame: ...
        def task_keys(self, task: Any, *, _keys: dict[str, str] | None = None) -> list[str]: ...
        def space(self, space_id: str) -> SearchSpace: ...
        def add_task_meta(self, task: Any, meta_features: Any = None, landmarks: Any = None) -> str: ...

    # -- architectures -----------------------------------------------------------------------------
    def similar(self, arch: Architecture, k: int = 10, task: Task | str | None = None, *,
                kind: str | None = None) -> pd.DataFrame:
        """The ``k`` recorded architectures nearest to ``arch`` in its space's encoding, with their scores.

        Exactly ``k`` neighbours come back when ``k`` recorded architectures (other than ``arch``) exist
        after the ``task`` filter: one row each with ``task``; without it one row per (neighbour, task it
        has a value on), since values of different tasks are not comparable. The FAISS index (:class:`ArchIndex`: exact up to 50,000 architectures, IVF
        above) is built on first use, kept with this object and brought up to date with the trials
        recorded since; an encoding version change rebuilds it rather than mixing two layouts. What the
        answer needs of the space's trials (specs, per-task mean values and quantiles) is kept with it,
        with the store's change token (:func:`nasbook.storage.trials_token`): while nothing is written
        a call reads no trial (a few small queries and the index search); after new trials (by any
        process) it reads only those and recomputes their tasks, and after any other change (a trial
        overwritten or removed) the space's trials again. The summary and index are also saved, so a
        new process starts from them: next to a SQLite file store (``<file>.similar/``), and for a server
        database (PostgreSQL) in this user's cache folder (``set_options(cache_dir=...)``; see
        :func:`nasbook.set_options`), keyed by the store's id and URL (never its password), least
        recently used removed first beyond ``set_options(cache_max_bytes=...)`` (2 GiB by default).

        Parameters
        ----------
        arch : Architecture
            The query (left out of its own answer).
        k : int
            How many neighbours.
        task : Task or str, optional
            Only architectures recorded on this task (a Task, key or name), with their value there;
            None: every recorded architecture, with its value on each of its tasks (long form).
        kind : str, optional
            The encoding (default ``"graf"`` where the space has it, else ``"adjacency"``).

        Returns
        -------
        pandas.DataFrame
            Nearest first: ``arch_id``, ``distance``, ``task``, ``value`` (the mean top-fidelity value on
            ``task``), ``quantile`` (among that task's architectures, 1 = best), ``n_trials``, ``n_tasks``,
            ``scores`` (task -> mean value), ``arch`` (spec); see
            :func:`~nasbook.knowledge.similar_archs` for the long form without ``task``.
        """
        space_id = getattr(arch, "space_id", None)
        if not isinstance(space_id, str) or not isinstance(getattr(arch, "id", None), str):
            hint = (" A spec as kb.trials() gives it becomes one with kb.space(row.space_id).make(**row.arch)."
                    if isinstance(arch, Mapping) else "")
            raise InvalidParameterTypeError(f"KnowledgeBase.similar(arch=...) must be an Architecture; got {arch!r:.80} "
                                            f"of type {type(arch).__name__}.{hint}")
        k = check_int("KnowledgeBase.similar", "k", k, minimum=1)
        space = self.space(space_id)  # a space the base has never seen: a clear error naming the known ones
        summary, index = self._arch_summary(space, kind)
        if summary is None:
            raise InvalidParameterError(f"KnowledgeBase.similar: no completed trial is recorded in space {space_id!r}; "
                                        "nothing to compare with yet.")
        task_name = self._task_name(task, "similar") if task is not None else None
        summary.check_task(task_name, space)
        return summary.answer(index, space, arch, k, task_name)

    def _arch_summary(self, space: SearchSpace, kind: str | None) -> tuple[ArchSummary | None, ArchIndex | None]:
        """The space's :class:`ArchSummary` (None: no completed trial) and its synced index, kept on this object
        with the store's change token they were read at, and brought up to date by reading only new and
        completed rows where that suffices (:mod:`nasbook.knowledge._similar_cache`)."""
        from nasbook.knowledge._similar_cache import summary_for

        return summary_for(self, space, kind)

    def _similar_token(self, space_id: str) -> Any:
        """:func:`nasbook.storage.trials_token` of the space (None on a database without the aggregates)."""
        from nasbook.storage import trials_token

        return self._write(lambda conn: trials_token(conn, space_id))

    def _task_name(self, task: Any, owner: str) -> str:
        stored = self._catalog()[0]  # task key -> name: the tasks table (kb.tasks' index and names, without its counts)
        keys = self.task_keys(task, _keys=stored)
        names = {str(stored[key]) for key in keys if key in stored}
        if len(names) != 1:
            raise InvalidParameterError(f"KnowledgeBase.{owner}(task=...): {task!r:.60} names no single recorded task; "
                                        f"known: {sorted(map(str, stored.values()))}.")
        return names.pop()

    # -- landmarks ---------------------------------------------------------------------------------
    def probes(self, n: int = 10, *, space: SearchSpace | str | None = None) -> list[Architecture]:
        """``n`` probe architectures for landmarks: recorded on the most tasks and spread in quality.

        Spread in encoding too, with ``space``. Measure them on a new task with :meth:`measure_landmarks`.

        Parameters
        ----------
        n : int, default 10
            How many probes.
        space : SearchSpace or str, optional
            A space (or a recorded ``space_id``) to pick them in; None: the space with the most trials.

        Returns
        -------
        list of Architecture
            At most ``n`` recorded architectures, best stratum first.
        """
        space_obj = self.space(space) if isinstance(space, str) else space
        trials = self._recorded("probes", space_obj.space_id if space_obj is not None else None)
        ids = pick_probes(trials, n, space=space_obj)
        rows = trials.drop_duplicates("arch_id").set_index("arch_id")
        out = []
        for arch_id in ids:
            sp = space_obj if space_obj is not None else self.space(str(rows.loc[arch_id, "space_id"]))
            out.append(sp.make(**rows.loc[arch_id, "arch"]))
        return out

    def measure_landmarks(self, task: Task, n: int = 10, *, probes: Sequence[Architecture] | None = None,
                          space: SearchSpace | str | None = None) -> dict[str, float]:
        """Evaluate the probe architectures on ``task`` and store them as the task's landmarks.

        ``task.evaluate`` is a table lookup on a tabular task, a training run otherwise: a training
        task fixes no space, so each probe's network is built in ``space`` when given, else in the
        space the base recorded the probe in (``kb.space(arch.space_id)``). The task's meta-features
        are stored too, when none are and the task can describe itself.

        Parameters
        ----------
        task : Task
            The new task (it must have ``evaluate`` and ``space``).
        n : int, default 10
            How many probes to pick with :meth:`probes` (in ``space``, else ``task.space``, else the
            space with the most trials) when ``probes`` is None.
        probes : sequence of Architecture, optional
            The architectures to evaluate instead.
        space : SearchSpace or str, optional
            The space the probes belong to (or a recorded ``space_id``), passed to ``task.evaluate``;
            default ``task.space`` (a tabular task's own), else each probe's recorded space.

        Returns
        -------
        dict of str to float
            ``{architecture id: score}`` of the probes whose result had a value.
        """
        if not hasattr(task, "evaluate") or not hasattr(task, "space"):
            raise InvalidParameterTypeError(f"KnowledgeBase.measure_landmarks(task=...) must be a nasbook Task; got "
                                            f"{task!r:.80}.")
        if space is not None and not isinstance(space, str) and not hasattr(space, "space_id"):
            raise InvalidParameterTypeError("KnowledgeBase.measure_landmarks(space=...) must be a SearchSpace, a "
                                            f"recorded space_id or None; got {space!r:.80}.")
        space_obj = self.space(space) if isinstance(space, str) else space
        if space_obj is None:
            space_obj = task.space
        archs = list(probes) if probes is not None else self.probes(n, space=space_obj)
        marks: dict[str, float] = {}
        spaces: dict[str, SearchSpace] = {}
        for arch in archs:
            if arch.space_id not in spaces:
                spaces[arch.space_id] = self._probe_space(arch, space_obj, task)
            result = task.evaluate(arch, space=spaces[arch.space_id])
            value = getattr(result, "value", None)
            if value is not None:
                marks[arch.id] = float(value)
        if not marks:
            raise NasbookError(f"KnowledgeBase.measure_landmarks: no probe gave a score on {task.name!r}.")
        meta = None if self._stored_task(task).get("meta_features") else (task_meta_features(task) or None)
        self.add_task_meta(task, meta_features=meta, landmarks=marks)
        return marks

    def _probe_space(self, arch: Architecture, space: SearchSpace | None, task: Task) -> SearchSpace:
        """The space ``measure_landmarks`` evaluates probe ``arch`` in: ``space`` when given, else the
        base's record of the probe's space."""
        if space is not None:
            return space
        try:
            return self.space(arch.space_id)
        except InvalidParameterError:  # a space the base never saw
            raise InvalidParameterError(
                f"KnowledgeBase.measure_landmarks: {task.name!r} fixes no space and the space {arch.space_id!r} of "
                f"probe {arch.id!r} is not recorded in this base; pass space=... (the SearchSpace to build the "
                "probes' networks in).") from None

    # -- tasks -------------------------------------------------------------------------------------
    def similar_tasks(self, task: Task | str, k: int = 5, *, landmarks: Mapping[str, float] | None = None,
                      weights: Sequence[float] = WEIGHTS) -> pd.DataFrame:
        """The ``k`` recorded tasks nearest to ``task``, saying why.

        The distance mixes meta-features of the data (sizes, classes, input shape, balance) and
        landmarks: the rank correlation of probe architectures' scores on the two tasks (how NAS
        tasks really differ). Raises when no recorded task can be compared with it.

        Parameters
        ----------
        task : Task or str
            A Task (its stored meta-features and landmarks, else ``task.meta_features()``) or the name
            or key of a recorded one.
        k : int, default 5
            How many tasks.
        landmarks : Mapping of str to float, optional
            ``{architecture id: score}`` overriding the stored landmarks.
        weights : (float, float), default (1.0, 3.0)
            Weights of the meta-feature and landmark distances.

        Returns
        -------
        pandas.DataFrame
            The nearest first; ``meta:<feature>`` columns give each feature's share of the meta
            distance, ``landmark_rho`` the probes' rank correlation, ``why`` a sentence.
        """
        near = self._near_tasks(task, k, landmarks=landmarks, weights=weights)
        if near.empty:  # every recorded task's distance is undefined: say so rather than answer nothing
            name = self._stored_task(task).get("task") or getattr(task, "name", task)
            others = sorted(set(self.tasks["task"]) - {name})
            raise InvalidParameterError(
                f"similar_tasks: none of the {len(others)} other recorded tasks ({', '.join(others[:5])}"
                f"{', ...' if len(others) > 5 else ''}) can be compared with {name!r}: they share no meta-feature "
                "with it and fewer than 3 probe architectures with its landmarks. Store the meta-features of "
                "every task (kb.add_task_meta(task, meta_features=...)) or measure landmarks on it "
                "(kb.measure_landmarks(task)).")
        return near

    def _near_tasks(self, task: Task | str, k: int, *, landmarks: Mapping[str, float] | None = None,
                    weights: Sequence[float] = WEIGHTS) -> pd.DataFrame:
        """:meth:`similar_tasks`, empty when no recorded task can be compared with ``task``."""
        if landmarks is not None and not isinstance(landmarks, Mapping):
            raise InvalidParameterTypeError(
                "KnowledgeBase.similar_tasks(landmarks=...) must map architecture ids to scores, e.g. "
                f"{{'87072': 0.81}}, or be None; got {landmarks!r:.80} of type {type(landmarks).__name__}.")
        stored = self._stored_task(task)
        meta = stored.get("meta_features") or (task_meta_features(task) if not isinstance(task, str) else None)
        marks = landmarks if landmarks is not None else stored.get("landmarks")
        name = stored.get("task") or getattr(task, "name", None)
        mode = stored.get("mode") or getattr(task, "mode", "max")
        trials = self.trials()  # read once: the landmarks below and the comparison use the same trials
        if marks is None and stored:  # a recorded task: its own trials of the probes, as task_distances uses
            marks = _recorded_landmarks(trials, str(name), str(mode)) or None
        return similar_tasks(self.tasks.reset_index(), trials, meta, marks, k,
                             query_mode=str(mode), exclude=name, weights=weights)

    def _stored_task(self, task: Any) -> dict[str, Any]:
        try:
            keys = self.task_keys(task)
        except NasbookError:
            if isinstance(task, str):
                raise
            return {}
        tasks = self.tasks
        return dict(tasks.loc[keys[0]]) if keys and keys[0] in tasks.index else {}

    def task_distances(self, *, n_probes: int = 10, weights: Sequence[float] = WEIGHTS) -> pd.DataFrame:
        """The symmetric task x task distance matrix behind :meth:`similar_tasks`.

        Parameters
        ----------
        n_probes : int, default 10
            How many probe architectures the landmark distances compare on (:func:`pick_probes`).
        weights : (float, float), default (1.0, 3.0)
            Weights of the meta-feature and landmark distances.

        Returns
        -------
        pandas.DataFrame
            Square, index and columns the recorded task names.
        """
        n_probes = check_int("KnowledgeBase.task_distances", "n_probes", n_probes, minimum=1)
        return task_distances(self.tasks.reset_index(), self._recorded("task_distances"), n_probes=n_probes,
                              weights=weights)

    def cluster_tasks(self, n_clusters: int | None = None, *, n_probes: int = 10,
                      weights: Sequence[float] = WEIGHTS) -> pd.DataFrame:
        """Group the recorded tasks (hierarchical clustering of :meth:`task_distances`).

        Parameters
        ----------
        n_clusters : int, optional
            How many clusters; None picks the count by silhouette.
        n_probes : int, default 10
            How many probe architectures the landmark distances compare on (:func:`pick_probes`).
        weights : (float, float), default (1.0, 3.0)
            Weights of the meta-feature and landmark distances.

        Returns
        -------
        pandas.DataFrame
            ``task``, ``cluster``, ``silhouette``.
        """
        n_probes = check_int("KnowledgeBase.cluster_tasks", "n_probes", n_probes, minimum=1)
        return cluster_tasks(self.tasks.reset_index(), self._recorded("cluster_tasks"), n_clusters,
                             n_probes=n_probes, weights=weights)

    def _recorded(self, method: str, space_id: str | None = None) -> pd.DataFrame:
        """:meth:`trials` (of ``space_id``), or an error naming ``method`` when none is recorded yet: before, the
        message came from the inner ``pick_probes``, which a user of this object never called."""
        trials = self.trials(space=space_id)
        if trials.empty:
            raise InvalidParameterError(
                f"KnowledgeBase.{method}: no completed trial is recorded in {self.label!r}"
                f"{f' in space {space_id!r}' if space_id else ''} yet; task distances, clusters and probes compare "
                "past trials. Run Search(..., kb=kb) on some tasks, or kb.ingest(...) their trials, first.")
        return trials

    # -- plots -------------------------------------------------------------------------------------
    def plot_task_map(self, *, method: str = "mds", n_probes: int = 10) -> Any:
        """The recorded tasks on a 2-D map of :meth:`task_distances`, coloured by :meth:`cluster_tasks`.

        Parameters
        ----------
        method : {"mds", "pca"}, default "mds"
            Metric MDS of the distances, or classical scaling.
        n_probes : int, default 10
            How many probe architectures the landmark distances compare on (:func:`pick_probes`).

        Returns
        -------
        holoviews.Overlay
            The map (clusters from three tasks on).
        """
        import numpy as np

        from nasbook.knowledge._plots import plot_task_map
        from nasbook.knowledge._tasksim import incomparable

        self._recorded("plot_task_map")
        n_probes = check_int("KnowledgeBase.plot_task_map", "n_probes", n_probes, minimum=1)
        dist = self.task_distances(n_probes=n_probes)
        if len(dist) >= 2 and not np.isfinite(dist.to_numpy(dtype=float)).all():  # before cluster_tasks says it
            raise InvalidParameterError(f"plot_task_map: {incomparable(dist)}")
        clusters = self.cluster_tasks(n_probes=n_probes) if len(dist) >= 3 else None
        return plot_task_map(dist, clusters, method=method)

    def plot_neighbourhood(self, arch: Architecture, k: int = 20, task: Task | str | None = None) -> Any:
        """An architecture's ``k`` nearest recorded neighbours: distance against recorded score.

        Parameters
        ----------
        arch : Architecture
            The query.
        k : int, default 20
            How many neighbours (:meth:`similar`).
        task : Task or str, optional
            Only neighbours recorded on this task (their value as the score); None: all tasks (mean quantile).

        Returns
        -------
        holoviews.Scatter
            The plot.
        """
        from nasbook.knowledge._plots import plot_neighbourhood

        return plot_neighbourhood(self.similar(arch, k, task))


def _recorded_landmarks(trials: Any, name: str, mode: str, n_probes: int = 10) -> dict[str, float]:
    """The scores a recorded task's trials give the probes of :func:`pick_probes` (in the metric's
    own sign: ``landmark_table`` negates ``mode="min"`` tasks, ``similar_tasks`` does it again)."""
    from nasbook.knowledge._tasksim import landmark_table

    probes = pick_probes(trials, n_probes)
    table = landmark_table(trials, probes) if probes else None
    if table is None or name not in table.index:
        return {}
    sign = -1.0 if mode == "min" else 1.0
    return {str(a): sign * float(v) for a, v in table.loc[name].dropna().items()}
