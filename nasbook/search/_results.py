"""A :class:`~nasbook.search.Search`'s trials as tables: ``to_dataframe`` and ``to_xarray``.

:class:`Results` is a mixin of ``Search``; the tables themselves are built by :mod:`nasbook.results`
from the trials in memory (no storage is read).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, cast

from nasbook.search import _warm

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nasbook.search._search import Search


class Results:
    """Mixin of :class:`~nasbook.search.Search`: its trials as a DataFrame or an xarray Dataset."""

    @property
    def environment(self) -> dict[str, Any] | None:
        """Where the search was created: ``{"python", "platform", "packages": {name: version}}``.

        Stored with the search (its configuration's ``environment``) and kept when it is loaded and
        extended elsewhere; None for a search stored by a nasbook that did not record it.
        """
        env = getattr(self, "_environment", None)
        return copy.deepcopy(env) if env is not None else None

    @property
    def environment_history(self) -> list[dict[str, Any]]:
        """The ``run()`` sessions that ran in another environment than the last one recorded.

        One entry per such session, oldest first: ``{"at": <unix time the session started>,
        "environment": {...} (as :attr:`environment`, plus ``"cuda"`` when it trained on a GPU),
        "changed": {field: [old, new]}}`` (e.g. ``"packages.torch": ["2.3.0", "2.5.1"]``). A resume in an
        identical environment adds nothing: empty for a search that always ran where it was created.
        Stored in its configuration (``environment_history``); see :mod:`nasbook.search._provenance`.
        """
        return copy.deepcopy(list(getattr(self, "_environment_history", None) or []))

    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: number, arch_id, state, value, metrics, attrs, epochs, timing, reason.

        Returns
        -------
        pandas.DataFrame
            Index ``number`` (trial-number order); columns ``arch_id``, ``state``, ``value``,
            ``parent``, ``derived_from``, ``best_so_far``, ``duration_s``, ``epochs``,
            ``started_at``, ``reason``, ``arch`` (the spec) and one per metric and per held-out
            attribute (:func:`nasbook.results.trials_dataframe`).
        """
        from nasbook.results import trials_dataframe

        return trials_dataframe(cast("Search", self))

    def to_xarray(self) -> xr.Dataset:
        """The trials as an ``xarray.Dataset`` with dim ``trial``; see :mod:`nasbook.results`.

        Returns
        -------
        xarray.Dataset
            The schema of :mod:`nasbook.results` (:func:`~nasbook.results.trials_dataset`): dim
            ``trial``, and ``epoch`` for learning curves; a warm-started search adds
            ``attrs["warm_start"]``, the JSON of each seed's id, provenance and score; ``attrs["environment"]``
            is the JSON of :attr:`environment` when the search recorded it, and ``attrs["environment_history"]``
            the JSON of :attr:`environment_history` when a session ran in another environment.
        """
        from nasbook.results import trials_dataset

        search = cast("Search", self)
        return _warm.with_summary(search, trials_dataset(search))
