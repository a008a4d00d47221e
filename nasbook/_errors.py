"""Exceptions and warnings raised by nasbook.

Every error says what was wrong, what is allowed, what was received and, where it
helps, what to do next.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import numbers
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload


class NasbookError(Exception):
    """Base class of every error nasbook raises on purpose."""


class InvalidParameterError(NasbookError, ValueError):
    """A parameter has a value (or type) outside what is allowed."""


class InvalidArchitectureError(NasbookError, ValueError):
    """An architecture is not a member of the search space it was given to."""


class StorageError(NasbookError):
    """The storage cannot be opened or does not hold what was asked for."""


class StorageNotFoundError(StorageError):
    """The storage asked for (a SQLite file) does not exist, and nasbook was not asked to create it."""


class DuplicatedSearchError(StorageError):
    """A search with that name already exists in the storage."""


class SearchLockedError(StorageError):
    """Another live process is running the search (it holds the search's lease)."""


class SearchOvertaken(SearchLockedError):
    """Another process (or Search object) took the search over while this object was running it.

    Nothing more was written by the overtaken run: the trials it committed are stored, and the search's
    state and elapsed time are the other run's. Continue with a fresh object from
    ``nasbook.load_search(name, storage)``.

    Attributes
    ----------
    unstored : tuple of Trial
        Results this run had in hand but did not store, because the rows of those trial numbers are the
        other run's (a trial that finished on a worker after the takeover, and any that finished with it);
        empty when none.
    """

    unstored: tuple[Any, ...] = ()


class SearchNotFoundError(StorageError, KeyError):
    """No search with that name exists in the storage."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class SearchNotResumableError(InvalidParameterError):
    """A search loaded read-only (its stored strategy or task could not be rebuilt) was asked to run or be extended.

    Raised by ``run``, ``start``, ``extend`` and ``load_search(..., budget=...)`` of such a search,
    before anything is stored; the message says what was not rebuilt and how to resume
    (``load_search(name, storage, strategy=...)`` or ``task=...``, or register the class first).
    Exported as ``nasbook.SearchNotResumableError`` (and, as before, ``nasbook.search.SearchNotResumableError``).
    """


class NotFittedError(NasbookError, ValueError, AttributeError):
    """A predictor was used before ``fit`` (like scikit-learn's ``NotFittedError``)."""


class NotBuildableError(NasbookError, NotImplementedError):
    """The space's architectures are looked up in a table, not built into networks."""


class NotEnumerableError(NasbookError, NotImplementedError):
    """The space cannot list its architectures (``space.enumerate()``): sample it instead."""


class SpaceExhausted(NasbookError):
    """The strategy has no new architecture left to propose."""


class TrialFailed(NasbookError):
    """Raised by a task to end one trial as FAILED with a human-readable reason."""


class TrialDiverged(TrialFailed):
    """Raised by training-health checks (NaN loss, divergence, collapse), or by a task's ``evaluate``,
    to end one trial as DIVERGED with a human-readable reason (``except TrialFailed`` catches it too)."""


class RepeatedTrialFailure(NasbookError):
    """A run's first trials all failed with the same error: the set-up, not the architectures, is at
    fault, so the search stopped (see ``nasbook.set_options(stop_after_failures=...)``)."""


class ExecutorError(NasbookError):
    """An executor cannot start or lost contact with its workers."""


class NasbookWarning(UserWarning):
    """Base class of nasbook's warnings."""


class ReproducibilityWarning(NasbookWarning):
    """A resumed search could not replay its history exactly.

    Silence with ``warnings.filterwarnings("ignore", category=ReproducibilityWarning)``.
    """


class StaleCheckpointsWarning(NasbookWarning):
    """A checkpoint folder beside a SQLite file belonged to an earlier search of the same name and number
    (the database was deleted and made again), so it was deleted and the search started without it.

    Silence with ``warnings.filterwarnings("ignore", category=nasbook.StaleCheckpointsWarning)``.
    """


def stacklevel_outside_nasbook() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called by the caller of this function, name the first
    frame outside the nasbook package (the user's ``search.run()`` line), however deep inside nasbook it is."""
    root = os.path.dirname(os.path.abspath(__file__)) + os.sep
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest choice, or ""."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_choice(kind: str, name: object, choices: Iterable[str], hint: str = "") -> InvalidParameterError:
    """Build the error for a name outside a closed set of choices."""
    choices = sorted(choices)
    listed = ", ".join(repr(c) for c in choices)
    msg = f"Unknown {kind} {name!r}. Available: {listed}{did_you_mean(str(name), choices)}."
    if hint:
        msg += " " + hint
    return InvalidParameterError(msg)


def class_given(value: object, base: type, names: Callable[[], Mapping[str, Any]] | None = None) -> str:
    """For a ``base`` subclass given where an instance (or a name) is expected (``model=GaussianProcess``), the
    end of the error that says what to pass instead: ``" (a class: pass GaussianProcess(...) or its name 'gp')"``,
    the name looked up in ``names()`` (``{registered name: class}``); ``""`` for anything else."""
    if not (isinstance(value, type) and issubclass(value, base)):
        return ""
    named = sorted(n for n, c in names().items() if c is value) if names is not None else []
    return f" (a class: pass {value.__name__}(...)" + (f" or its name {named[0]!r})" if named else ")")


def plain_scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``np.float64(0.5)`` -> 0.5, ``np.bool_(True)`` -> True,
    ``np.str_("x")`` -> "x"); anything else unchanged. Configurations are stored as JSON: they hold plain values."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        item = value.item()
        return item if isinstance(item, (bool, int, float, complex, str, bytes)) else value  # not a datetime64's
    return value


def check_type(owner: str, param: str, value: object, types: type | tuple[type, ...], allowed: str) -> None:
    """Raise a TypeError naming ``owner(param=...)`` when ``value`` is not of ``types``."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        raise InvalidParameterTypeError(
            f"{owner}({param}=...) must be {allowed}; got {value!r} of type {type(value).__name__}."
        )


def plain_number(value: Any) -> Any:
    """``value`` with a numpy integer or float scalar (``np.int64(3)``, ``np.float32(0.5)``) as the Python
    number it equals; anything else unchanged (:func:`plain_scalar` restricted to numbers).

    Parameters feed ``repr``, stored configurations (JSON) and task keys (hashes of that JSON): a numpy
    scalar there showed as ``np.int64(3)`` and hashed apart from ``3``. Bools (numpy's too) and other
    types are left for the validators to refuse.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return plain_scalar(value)
    return value


def check_int(owner: str, param: str, value: object, *, minimum: int | None = None, allow_none: bool = False) -> Any:
    """Check that ``value`` is an int (not a bool) and at least ``minimum``; return it as a plain int.

    Integral numpy scalars (``np.int64(3)``, what ``rng.integers`` gives) are accepted and returned
    as Python ints, so configs stored as JSON stay plain; bools (Python or numpy) and floats are refused.
    Returns None for an allowed None.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # np.int64 & co. (np.bool_ is not Integral)
    allowed = "an int" + (f" >= {minimum}" if minimum is not None else "") + (" or None" if allow_none else "")
    check_type(owner, param, value, int, allowed)
    if minimum is not None and value < minimum:  # type: ignore[operator]
        raise InvalidParameterError(f"{owner}({param}=...) must be {allowed}; got {value!r}.")
    return value


class InvalidParameterTypeError(InvalidParameterError, TypeError):
    """A parameter has the wrong type (both a ValueError and a TypeError)."""


def check_call(owner: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               hints: Mapping[str, str] | None = None) -> None:
    """Raise InvalidParameterTypeError when ``fn(*args, **kwargs)`` does not fit ``fn``'s signature.

    Python's own TypeError names the function but suggests nothing; this one names ``owner``,
    suggests the closest parameter for a misspelt keyword and lists the keyword-only parameters
    when too many arguments were given by position. ``hints`` maps a keyword users bring from other
    tools (``run(n_trials=...)``, Optuna's) to the sentence that says where it goes here; its key
    ``"*"`` gives the sentence for arguments given by position beyond the signature (``run(10)``), and
    ``"twice"`` the one for an argument given both by position and by name (``Search(task, space=...)``).
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        params = [p for p in sig.parameters.values() if p.name != "self"]
        names = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        msg = f"{owner}(): {exc}"
        unknown = [k for k in kwargs if k not in sig.parameters]
        if unknown:
            msg = (f"{owner}() got an unexpected keyword argument {unknown[0]!r}{did_you_mean(unknown[0], names)}. "
                   f"Its parameters: {', '.join(names) or '(none)'}.")
            if hints and unknown[0] in hints:
                msg += f" {hints[unknown[0]]}"
        elif twice := next((n for n in kwargs if f"multiple values for argument {n!r}" in str(exc)), None):
            pos = [p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            at = pos.index(twice)  # in the signature's order, self included: the index into args
            pos = [n for n in pos if n != "self"]
            given = args[at] if at < len(args) else None
            def short(v: Any) -> str:
                r = repr(v)
                return r if len(r) <= 50 else f"{type(v).__name__}(...)"
            msg = (f"{owner}(): {twice!r} was given twice, by position ({short(given)}) and by name ({short(kwargs[twice])}). "
                   f"Its parameters by position: {', '.join(pos) or '(none)'}.")
            if hints and "twice" in hints:
                msg += f" {hints['twice']}"
        elif "positional" in str(exc):
            kw_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
            if kw_only:
                msg += f". Pass these by name: {', '.join(f'{n}=...' for n in kw_only)}"
            elif any(p.kind is p.VAR_KEYWORD for p in params):
                msg += ". Pass the values by name, e.g. name=value"
            n_pos = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in sig.parameters.values())
            extra = ", ".join(repr(a) for a in args[n_pos:])
            msg += f"; got {extra[:80]} by position." if extra else "."
            if hints and "*" in hints:  # what an extra positional usually meant: run(10) for a budget
                msg += f" {hints['*']}"
        raise InvalidParameterTypeError(msg) from None


_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def checked_signature(fn: _F) -> _F: ...


@overload
def checked_signature(fn: None = None, *, hints: Mapping[str, str] | None = None,
                      owner: str | None = None) -> Callable[[_F], _F]: ...


def checked_signature(fn: _F | None = None, *, hints: Mapping[str, str] | None = None, owner: str | None = None) -> Any:
    """Decorate a public function or method so that a misspelt keyword or an extra positional
    argument raises :func:`check_call`'s InvalidParameterTypeError (the signature is unchanged).

    Used bare (``@checked_signature``) or with ``hints`` (``@checked_signature(hints={...})``): a
    keyword from another tool mapped to the sentence that says where it goes here; ``owner``: the
    name the message gives (default the qualified name: a mixin's method would name the mixin).
    """
    if fn is None:
        return functools.partial(checked_signature, hints=hints, owner=owner)
    named = owner is not None
    if owner is None:
        owner = fn.__qualname__.removesuffix(".__init__")
    init = fn.__name__ == "__init__"

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError:
            # a constructor inherited by a subclass: name the class called (MyDigits(...)), not the one defining it
            cls = type(args[0]) if init and args and not named else None
            who = owner if cls is None or f"{cls.__qualname__}.__init__" == fn.__qualname__ else cls.__name__
            check_call(who, fn, args, kwargs, hints)  # raises if the call itself did not fit
            raise

    return wrapper


def interrupt_in_one_line(exc: KeyboardInterrupt, message: str) -> None:
    """A script's Ctrl-C in ``Search.run()``: ``exc`` stays a plain ``KeyboardInterrupt`` (Python exits as killed by
    SIGINT, status 130, only for that exact type) but says ``message``, and left uncaught it prints as that one line,
    not as the wall of frames from inside the loop (Python's default ``sys.excepthook`` only: one set by the user or
    another tool is left alone). IPython gets :class:`SearchInterrupted` instead."""
    exc.args = (message,)
    exc.nasbook_one_line = True  # type: ignore[attr-defined]
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _one_line_hook


def _one_line_hook(tp: type[BaseException], value: BaseException, tb: Any) -> None:
    if tp is KeyboardInterrupt and getattr(value, "nasbook_one_line", False):
        print(f"KeyboardInterrupt: {value}", file=sys.stderr, flush=True)
    else:
        sys.__excepthook__(tp, value, tb)


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C (a kernel interrupt) stopped ``Search.run()``; what finished is stored and it resumes.

    A ``KeyboardInterrupt``, so code that catches one still does, and a notebook's "Run All" still
    stops. IPython shows only its message (``_render_traceback_``) instead of a wall of frames from
    inside the loop, whose cell the user already knows.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]
