"""Tasks in the :class:`~nasbook.knowledge.KnowledgeBase`: registering them, their meta-features and landmarks.

:class:`TasksMixin` is a mixin of ``KnowledgeBase``; a task is stored once under its key (a hash
of its configuration, :meth:`KnowledgeBase.task_key <nasbook.knowledge.KnowledgeBase.task_key>`),
with a name, its configuration and optionally the meta-features and landmarks that task
similarity (``similar_tasks``, ``task_distances``) compares.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, NasbookError
from nasbook.knowledge import _frames
from nasbook.storage import TABLES, dumps, insert_ignore, task_identity, task_key

if TYPE_CHECKING:
    from nasbook.tasks import Task

_K = TABLES["tasks"]


class TasksMixin:
    """Mixin of :class:`~nasbook.knowledge.KnowledgeBase`: the tasks it knows and what describes them."""

    if TYPE_CHECKING:  # provided by KnowledgeBase

        @property
        def label(self) -> str: ...

        def _rows(self, stmt: Any, params: Mapping[str, Any] | None = None) -> Sequence[Any]: ...

        def _write(self, fn: Any) -> Any: ...

        def task_keys(self, task: Any, *, _keys: dict[str, str] | None = None) -> list[str]: ...

    def add_task(self, task: Task) -> str:
        """Register a task (no trials needed); its key. Searches register theirs when created.

        Parameters
        ----------
        task : Task
            Any nasbook task (anything with ``to_config()``); registering it again changes
            nothing.

        Returns
        -------
        str
            Its key (:meth:`task_key`), under which trials, meta-features and landmarks are stored.
        """
        if not hasattr(task, "to_config"):
            raise InvalidParameterTypeError(f"KnowledgeBase.add_task(task=...) must be a nasbook Task; got {task!r:.80}.")
        config = _frames.as_stored(task.to_config())
        key, now = task_key(config), time.time()
        row = {"key": key, "name": str(getattr(task, "name", type(task).__name__))[:255], "config": task_identity(config),
               "meta_features": None, "landmarks": None, "created_at": now, "updated_at": now}
        self._write(lambda conn: insert_ignore(conn, _K, [row]))
        return key

    def add_task_meta(self, task: Task | str, meta_features: Mapping[str, Any] | None = None,
                      landmarks: Mapping[str, float] | None = None) -> str:
        """Store a task's meta-features and/or landmarks; its key.

        Parameters
        ----------
        task : Task or str
            A Task (registered if new), or the key or name of a stored one.
        meta_features : dict, optional
            Describes the data (sizes, classes, input shape, balance...). Omitted (with no
            landmarks either): computed by ``task.meta_features()`` (``TrainingTask`` has it).
        landmarks : dict, optional
            ``{probe architecture id: score on this task}``: how a few probe architectures fare here.

        Returns
        -------
        str
            The task's key; given by name, the first stored task of that name.
        """
        if meta_features is None and landmarks is None:
            compute = getattr(task, "meta_features", None)
            if not callable(compute):
                raise InvalidParameterError(
                    f"KnowledgeBase.add_task_meta: {getattr(task, 'name', task)!r} cannot describe its data itself (it "
                    "has no meta_features() method); pass meta_features={...} and/or landmarks={arch_id: score}.")
            meta_features = compute()
        meta = _check_mapping("meta_features", meta_features, numbers=False)
        marks = _check_mapping("landmarks", landmarks, numbers=True)
        key = self.add_task(task) if not isinstance(task, str) else self.task_keys(task)[0]
        values: dict[str, Any] = {"updated_at": time.time()}
        if meta is not None:
            values["meta_features"] = meta
        if marks is not None:
            values["landmarks"] = marks
        self._write(lambda conn: conn.execute(_K.update().where(_K.c.key == key).values(**values)))
        return key

    def meta_features(self, task: Task | str) -> dict[str, Any]:
        """The stored meta-features of a task; an error naming the task if it has none.

        Parameters
        ----------
        task : Task or str
            A Task stored here (``add_task``, or a search on it), or the key or name of one;
            an unknown one raises InvalidParameterError listing the stored tasks.

        Returns
        -------
        dict
            What :meth:`add_task_meta` stored, e.g. ``{"n_train": ..., "n_classes": ...}``; a task
            without meta-features raises NasbookError.
        """
        return self._task_field(task, "meta_features", "meta_features={...} (or a task with meta_features())")

    def landmarks(self, task: Task | str) -> dict[str, float]:
        """The stored landmarks (``{probe architecture id: score}``) of a task; an error if it has none.

        Parameters
        ----------
        task : Task or str
            A Task stored here (``add_task``, or a search on it), or the key or name of one;
            an unknown one raises InvalidParameterError listing the stored tasks.

        Returns
        -------
        dict of str to float
            ``{probe architecture id: score on this task}`` as :meth:`add_task_meta` (or
            ``measure_landmarks``) stored them; a task without landmarks raises NasbookError.
        """
        return self._task_field(task, "landmarks", "landmarks={arch_id: score, ...}")

    def _task_field(self, task: Any, field: str, how: str) -> Any:
        key = self.task_keys(task)[0]
        rows = self._rows(sa.select(_K.c.name, sa.type_coerce(_K.c[field], sa.Text)).where(_K.c.key == key))
        name, text = rows[0]
        value = _frames.load_json(text, f"the {field} of task {name!r}") if text is not None else None
        if not value:
            raise NasbookError(
                f"task {name!r} (key {key}) has no {field.replace('_', '-')} in knowledge base {self.label!r}: expected a "
                f"mapping, found none. Add them with kb.add_task_meta(task, {how}).")
        return dict(value)


def _check_mapping(param: str, value: Any, *, numbers: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidParameterTypeError(f"KnowledgeBase.add_task_meta({param}=...) must be a mapping with string keys; "
                                        f"got {value!r:.80} of type {type(value).__name__}.")
    out = dict(value)
    if numbers:
        bad = {k: v for k, v in out.items() if isinstance(v, bool) or not isinstance(v, (int, float))}
        if bad:
            raise InvalidParameterError(f"KnowledgeBase.add_task_meta(landmarks=...) maps probe architecture ids to "
                                        f"scores (numbers); got {bad!r:.120}.")
        out = {k: float(v) for k, v in out.items()}
    try:
        dumps(out)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"KnowledgeBase.add_task_meta({param}=...) cannot be stored as JSON: {exc}") from None
    return out
