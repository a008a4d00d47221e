"""A :class:`~nasbook.search.Search` run in a background thread: ``start``, ``wait`` and ``stop``.

:class:`Background` is a mixin of ``Search``; the thread calls ``Search.run`` itself, so a search
started in the background commits, resumes and ends exactly as one run in the foreground.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

from nasbook._errors import InvalidParameterError, NasbookError, checked_signature

if TYPE_CHECKING:
    from nasbook.search._search import Search


class Background:
    """Mixin of :class:`~nasbook.search.Search`: run it in a thread while the notebook stays usable."""

    if TYPE_CHECKING:  # set by Search
        name: str
        _thread: threading.Thread | None
        _bg_error: BaseException | None
        _stop_flag: bool

        def run(self, *, progress: Any = "auto") -> Search: ...

    @checked_signature
    def start(self, *, progress: str | bool = "auto") -> Search:
        """Run in a background thread and return at once; the notebook stays usable.

        Look at ``search`` (its repr, ``trials``, ``best``, ``running``) while it runs;
        :meth:`wait` blocks until it ends, :meth:`stop` ends it after the trials in flight.

        Parameters
        ----------
        progress : {"auto", "none", "widget", "bar"} or bool, default "auto"
            As in :meth:`run`: ``"auto"`` shows a live widget in a notebook (made in the calling
            cell's output) and a tqdm bar on stderr elsewhere; ``"none"`` (or False) silences it.

        Returns
        -------
        Search
            ``self``, already running; a search still running in the background raises NasbookError.
        """
        if self._thread is not None and self._thread.is_alive():
            raise NasbookError(f"Search {self.name!r} is already running in the background.")
        self._stop_flag = False
        self._bg_error = None

        from nasbook.display import make_progress

        # the widget is made here, in the notebook's own thread, so that the front-end hears of
        # it with this cell's output; the background thread only updates it
        view = make_progress(cast("Search", self), progress)

        def target() -> None:
            try:
                self.run(progress=view if view is not None else "none")
            except BaseException as exc:  # kept for wait(): a thread cannot raise into the notebook
                self._bg_error = exc

        self._thread = threading.Thread(target=target, name=f"nasbook-{self.name}", daemon=True)
        self._thread.start()
        return cast("Search", self)

    @checked_signature
    def wait(self, timeout_s: float | None = None) -> Search:
        """Block until a search started with :meth:`start` ends; re-raise its error, if any.

        Parameters
        ----------
        timeout_s : float or None, default None
            The most seconds to wait (>= 0); None waits until the search ends. After a timeout
            the search goes on running (``search.running`` and the repr show where it is).

        Returns
        -------
        Search
            ``self``; at once when nothing runs in the background. An error that ended the
            background run (``run``'s own) is raised here, once.
        """
        if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                      or not timeout_s >= 0):
            raise InvalidParameterError(f"Search.wait(timeout_s=...) must be a number of seconds >= 0 or None; "
                                        f"got {timeout_s!r}.")
        if self._thread is not None:
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._thread = None
        if self._bg_error is not None:
            err, self._bg_error = self._bg_error, None
            raise err
        return cast("Search", self)

    def stop(self) -> Search:
        """Stop a running search after the trials in flight; it stays resumable.

        Returns
        -------
        Search
            ``self``, once the background run has ended (at once when none runs): a stopped search
            is ``interrupted`` and resumable, and :meth:`run` or :meth:`start` goes on from there.
        """
        self._stop_flag = True
        return self.wait()
