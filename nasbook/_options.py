"""Global options (display; when a search stops on failing trials; where summaries are cached): :func:`set_options` and :func:`get_options` (xarray style)."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType
from typing import Any

from nasbook._errors import InvalidParameterError, checked_signature, plain_scalar, unknown_choice

DISPLAY_STYLES: tuple[str, ...] = ("html", "text")

_DEFAULTS: dict[str, Any] = {
    "display_style": "html",
    "display_max_rows": 20,
    "stop_after_failures": 5,
    "cache_dir": None,
    "cache_max_bytes": None,
}

OPTIONS: dict[str, Any] = dict(_DEFAULTS)


def _check_display_style(value: object) -> None:
    if not isinstance(value, str) or value not in DISPLAY_STYLES:
        err = unknown_choice("display_style", value, DISPLAY_STYLES)
        raise InvalidParameterError(f"set_options(display_style=...): {err}") from None


def _check_display_max_rows(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            f"set_options(display_max_rows=...) must be an int >= 1; got {value!r} of type {type(value).__name__}."
        )


def _check_stop_after_failures(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(
            f"set_options(stop_after_failures=...) must be an int >= 0 (0: never stop); got {value!r} of type "
            f"{type(value).__name__}."
        )


def _check_cache_dir(value: object) -> None:
    if value is None or value is False or (isinstance(value, (str, os.PathLike)) and os.fspath(value) != ""):
        return
    raise InvalidParameterError(
        f"set_options(cache_dir=...) must be a folder (str or path), None (the default: $NASBOOK_CACHE_DIR, else "
        f"the user cache folder) or False (nothing cached); got {value!r} of type {type(value).__name__}."
    )


def _check_cache_max_bytes(value: object) -> None:
    if value is None or value is False or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return
    raise InvalidParameterError(
        f"set_options(cache_max_bytes=...) must be an int >= 0 (bytes), None (the default: $NASBOOK_CACHE_MAX_BYTES, "
        f"else 2 GiB) or False (no cap); got {value!r} of type {type(value).__name__}."
    )


_VALIDATORS: dict[str, Callable[[object], None]] = {
    "display_style": _check_display_style,
    "display_max_rows": _check_display_max_rows,
    "stop_after_failures": _check_stop_after_failures,
    "cache_dir": _check_cache_dir,
    "cache_max_bytes": _check_cache_max_bytes,
}


class set_options:  # noqa: N801 - a function-like name, as in xarray
    """Set nasbook's global options, for the session or inside a ``with`` block.

    Parameters
    ----------
    display_style : {"html", "text"}, default "html"
        ``"text"`` makes notebook reprs plain text only (no HTML), e.g. for terminals or when HTML
        output is unwelcome in saved notebooks.
    display_max_rows : int >= 1, default 20
        Most rows shown by a table in a repr (trials, metrics, parameters); the rest is summarised
        as "... N more trials".
    stop_after_failures : int >= 0, default 5
        A search stops with :class:`nasbook.RepeatedTrialFailure` when the first this many
        trials of a ``run()`` all raised the same exception (type and message), e.g. a training task
        asked for a GPU the machine does not have; 0 never stops. Failures that differ, or any trial
        that does not fail, let the search go on as before (a failing trial is recorded FAILED).
    cache_dir : str, path, None or False, default None
        Where ``KnowledgeBase.similar`` saves its summary of a server database's trials (PostgreSQL), so that
        the first call in a new process does not read and encode them all again; a SQLite file keeps its own
        next to it (``<file>.similar``). None: the environment variable ``NASBOOK_CACHE_DIR`` when set
        (``off`` for nothing), else the user cache folder (``~/.cache/nasbook`` on Linux, honouring
        ``XDG_CACHE_HOME``). False: nothing is saved or read there.
    cache_max_bytes : int >= 0, None or False, default None
        The most bytes the cache folder's summaries (``<cache>/similar``) may take: after each save there, the
        least recently used (saved or loaded) go first, never the one just saved; a SQLite file's own
        ``<file>.similar`` is not bounded. None: the environment variable ``NASBOOK_CACHE_MAX_BYTES`` when set
        (bytes, or e.g. ``500M``, ``4G``; ``none`` for no cap), else 2 GiB (some fifteen summaries of 10^6
        trials). False: no cap. ``nasbook.knowledge.clear_cache()`` removes them all.

    Examples
    --------
    >>> import nasbook
    >>> nasbook.set_options(display_max_rows=50)        # for the rest of the session
    <nasbook.set_options display_max_rows=50>
    >>> with nasbook.set_options(display_style="text"):  # only inside the block
    ...     nasbook.get_options()["display_style"]
    'text'
    >>> nasbook.set_options(display_max_rows=20)
    <nasbook.set_options display_max_rows=20>
    """

    @checked_signature
    def __init__(self, **kwargs: Any):
        kwargs = {name: plain_scalar(value) for name, value in kwargs.items()}  # np.int64(50), np.str_("text"): plain
        for name, value in kwargs.items():  # check everything before changing anything
            if name not in _VALIDATORS:
                raise unknown_choice("option", name, _VALIDATORS, hint="See help(nasbook.set_options).")
            _VALIDATORS[name](value)
        self._changed = dict(kwargs)
        self._previous = {name: OPTIONS[name] for name in kwargs}
        OPTIONS.update(kwargs)

    def __enter__(self) -> set_options:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        OPTIONS.update(self._previous)

    def __repr__(self) -> str:
        body = " ".join(f"{k}={v!r}" for k, v in self._changed.items())
        return f"<nasbook.set_options {body}>"


def get_options() -> dict[str, Any]:
    """A copy of the current options (changing it changes nothing; use :func:`set_options`).

    Returns
    -------
    dict
        ``{option: value}`` for every option :func:`set_options` takes.

    Examples
    --------
    >>> import nasbook
    >>> nasbook.get_options()["display_style"]
    'html'
    """
    return dict(OPTIONS)


def reset_options() -> None:
    """Restore every option to its default (for tests)."""
    OPTIONS.clear()
    OPTIONS.update(_DEFAULTS)
