"""Argument checks of :class:`~nasbook.Search` that need no I/O."""

from __future__ import annotations

from typing import Any

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError
from nasbook.space import SearchSpace
from nasbook.tasks import Task


def space_and_task(space: Any, task: Any) -> tuple[SearchSpace, Task]:
    """Accept ``Search(space, task)`` and ``Search(task)`` for a task that fixes its space."""
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
    return space, task


def check_timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidParameterError(f"trial_timeout_s must be a number of seconds > 0 or None; got {value!r}.")
    return float(value)
