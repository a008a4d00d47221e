"""The encodings of a :class:`~nasbook.space.SearchSpace`: fixed-length float vectors of its architectures.

:class:`Encodings` is a mixin of :class:`~nasbook.space.SearchSpace` (re-exported from
:mod:`nasbook.space._base`): the public methods (:meth:`~Encodings.encode`,
:meth:`~Encodings.encode_many`, :meth:`~Encodings.feature_names`, ...) check the kind, validate
and cache; a space implements the hooks ``_encode(arch, kind)`` and ``_encoding_size(kind)``, and may override
``_encode_many(archs, kind)`` to encode many validated architectures at once (``CellSpace``'s ``graf`` does).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from nasbook._errors import InvalidParameterTypeError, NasbookError, unknown_choice

if TYPE_CHECKING:
    from nasbook.space._arch import Architecture

EncodingKind = Literal["adjacency", "path", "graf"]
#: the encodings every space supports by default (a space lists its own in ``space.encodings``)
ENCODINGS: tuple[str, ...] = ("adjacency", "path")


class Encodings(abc.ABC):
    """Mixin of :class:`~nasbook.space.SearchSpace`: the architectures of a space as float32 vectors."""

    #: the encoding kinds of this space and their layout versions: bump a kind's number whenever its
    #: columns change meaning, so that :meth:`encoding_version` tells a stored model it is stale
    ENCODING_VERSIONS: ClassVar[Mapping[str, int]] = {"adjacency": 1, "path": 1}

    if TYPE_CHECKING:  # provided by SearchSpace

        @property
        def space_id(self) -> str: ...

        def validate(self, arch: object) -> Architecture: ...

        def _validate_many(self, archs: Sequence[object]) -> list[Architecture]: ...

    @property
    def encodings(self) -> tuple[str, ...]:
        """The kinds :meth:`encode` accepts on this space, e.g. ``("adjacency", "path", "graf")``."""
        return tuple(self.ENCODING_VERSIONS)

    def encoding_size(self, kind: str = "adjacency") -> int:
        """Length of ``encode(arch, kind)``.

        Parameters
        ----------
        kind : str, default "adjacency"
            One of :attr:`encodings`; another raises an error that lists them.

        Returns
        -------
        int
            The number of columns of every ``kind`` vector of this space (it depends on the space's
            configuration, e.g. the number of nodes and ops of a :class:`~nasbook.space.CellSpace`).
        """
        self._check_encoding(kind, "encoding_size")
        return int(self._encoding_size(kind))

    def encode(self, arch: Architecture, kind: str = "adjacency") -> np.ndarray:
        """A fixed-length float32 vector of ``arch``, in one of the :attr:`encodings`.

        ``"adjacency"`` is the one-hot adjacency and ops, ``"path"`` the one-hot op sequences of
        input-output paths and, on built-in spaces, ``"graf"`` graph features (op counts, path lengths
        through op subsets, degrees; GRAF, Kadlecová et al. 2024), described column by column by
        :meth:`feature_names`.

        Parameters
        ----------
        arch : Architecture
            A member of this space (validated first: another space's architecture raises
            InvalidArchitectureError).
        kind : str, default "adjacency"
            One of :attr:`encodings`; another raises an error that lists them.

        Returns
        -------
        numpy.ndarray
            Shape ``(encoding_size(kind),)``, float32; a copy, so changing it leaves the cache intact.
        """
        self._check_encoding(kind, "encode")
        return self._encoded(self.validate(arch), kind).copy()

    def encode_many(self, archs: Sequence[Architecture], kind: str = "adjacency") -> np.ndarray:
        """Stack ``encode`` over ``archs`` into a (n, encoding_size) array (vectors are cached by id).

        Parameters
        ----------
        archs : sequence (or other iterable) of Architecture
            Members of this space (each validated); may be empty. One architecture, a string, a
            mapping or None raise InvalidParameterTypeError (pass ``[arch]`` for one).
        kind : str, default "adjacency"
            One of :attr:`encodings`; another raises an error that lists them.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(archs), encoding_size(kind))``, float32, one row per architecture in the
            order of ``archs``; a new array.
        """
        self._check_encoding(kind, "encode_many")
        return self._encode_many(self._validate_many(self._arch_list(archs, "encode_many")), kind)

    def _arch_list(self, archs: object, method: str) -> Sequence[Architecture]:
        """``archs`` as a sequence: a list or tuple as it is, another iterable listed; one architecture, a string, a
        mapping or a non-iterable refused (a raw TypeError or KeyError came from deep inside a space before)."""
        from nasbook.space._arch import Architecture

        if isinstance(archs, (list, tuple)):
            return archs
        if isinstance(archs, (str, bytes, Mapping, Architecture)) or not isinstance(archs, Iterable):
            hint = " Pass [arch] for one architecture." if isinstance(archs, Architecture) else ""
            raise InvalidParameterTypeError(
                f"{type(self).__name__}.{method}(archs=...) must be a list of architectures of this space; "
                f"got {' '.join(repr(archs).split())[:120]} of type {type(archs).__name__}.{hint}")
        return list(archs)

    def feature_names(self, kind: str = "adjacency") -> list[str]:
        """One name per column of ``encode(arch, kind)``, e.g. ``"count[gcn]"`` (default ``"adjacency[3]"``).

        Parameters
        ----------
        kind : str, default "adjacency"
            One of :attr:`encodings`; another raises an error that lists them.

        Returns
        -------
        list of str
            ``encoding_size(kind)`` names in column order (to label a predictor's feature
            importances or a DataFrame of encodings).
        """
        self._check_encoding(kind, "feature_names")
        names = [str(n) for n in self._feature_names(kind)]
        if len(names) != self._encoding_size(kind):  # pragma: no cover - a space's bug, not the user's
            raise NasbookError(f"{type(self).__name__}.feature_names({kind!r}) gives {len(names)} names for "
                               f"{self._encoding_size(kind)} columns.")
        return names

    def _feature_names(self, kind: str) -> list[str]:
        return [f"{kind}[{i}]" for i in range(self._encoding_size(kind))]

    def encoding_version(self, kind: str = "adjacency") -> str:
        """A stable string naming the layout of ``encode(arch, kind)`` on this space.

        It reads ``"{kind}/{version}:{size}:{space_id}"``, e.g. ``"graf/1:118:graph-1a2b3c4d"``. Store
        it with anything fitted on these vectors: another kind, another layout version
        (:attr:`ENCODING_VERSIONS`), another length or another space configuration give another string.

        Parameters
        ----------
        kind : str, default "adjacency"
            One of :attr:`encodings`; another raises an error that lists them.

        Returns
        -------
        str
            The layout's name: two calls give equal strings exactly when their vectors have the same
            columns with the same meaning.
        """
        self._check_encoding(kind, "encoding_version")
        return f"{kind}/{int(self.ENCODING_VERSIONS[kind])}:{self._encoding_size(kind)}:{self.space_id}"

    def _check_encoding(self, kind: object, method: str = "encode") -> None:
        if not isinstance(kind, str) or kind not in self.encodings:
            raise unknown_choice(f"{type(self).__name__}.{method}(kind=...) encoding", kind, self.encodings,
                                 hint="space.encodings lists the encodings this space can give.")

    def _encode_many(self, archs: Sequence[Architecture], kind: str) -> np.ndarray:
        """Hook: the stacked ``kind`` vectors of validated ``archs`` (default: :meth:`_encoded` of each)."""
        out = np.zeros((len(archs), self._encoding_size(kind)), dtype=np.float32)
        for i, a in enumerate(archs):
            out[i] = self._encoded(a, kind)
        return out

    def _encoded_batch(self, archs: Sequence[Architecture], kind: str,
                       compute: Callable[[list[Architecture]], np.ndarray]) -> np.ndarray:
        """Stacked vectors of validated ``archs`` through the cache of :meth:`_encoded`: ``compute`` gives the rows
        of the distinct architectures not cached, all at once, as a new array (for a space that encodes many faster
        than one by one). The cache keeps views of one copy of those rows; when every architecture is new and
        distinct, ``compute``'s array itself is returned (no second copy)."""
        cache = self.__dict__.setdefault("_encoding_cache", {}).setdefault(kind, {})
        ids = [a.id for a in archs]
        got = list(map(cache.get, ids))
        todo: dict[str, Architecture] = {}  # id -> architecture, the ones not cached, first occurrence first
        for a, vec in zip(archs, got):
            if vec is None and a.id not in todo:
                todo[a.id] = a
        if not todo:
            if not got:
                return np.zeros((0, self._encoding_size(kind)), dtype=np.float32)
            return np.stack(got)  # type: ignore[arg-type]
        rows = np.asarray(compute(list(todo.values())), dtype=np.float32)  # a new array (compute's contract)
        kept = rows.copy()  # the cache's own: the caller may change what is returned
        # as _encoded caches them, one at a time: emptied when it holds 2**22 floats, then filled again
        keys, cap, start = list(todo), -(-(2**22) // max(rows.shape[1], 1)), 0
        while start < len(keys):
            if len(cache) >= cap:
                cache.clear()
            stop = start + cap - len(cache)
            cache.update(zip(keys[start:stop], kept[start:stop]))
            start = stop
        if len(todo) == len(archs):  # every one new and distinct: compute's rows, in order
            return rows
        out = np.empty((len(archs), rows.shape[1]), dtype=np.float32)
        at = {key: j for j, key in enumerate(todo)}
        hit = [i for i, vec in enumerate(got) if vec is not None]
        miss = [i for i, vec in enumerate(got) if vec is None]
        if hit:
            out[hit] = np.stack([got[i] for i in hit])
        out[miss] = rows[[at[ids[i]] for i in miss]]
        return out

    def _encoded(self, arch: Architecture, kind: str) -> np.ndarray:
        """``_encode`` of a validated ``arch``, cached by id (at most ~16 MB of vectors per kind)."""
        cache = self.__dict__.setdefault("_encoding_cache", {}).setdefault(kind, {})
        vec = cache.get(arch.id)
        if vec is None:
            vec = np.asarray(self._encode(arch, kind), dtype=np.float32)
            if len(cache) * max(vec.size, 1) >= 2**22:
                cache.clear()
            cache[arch.id] = vec
        return vec

    @abc.abstractmethod
    def _encode(self, arch: Architecture, kind: str) -> np.ndarray:
        """Hook: the ``kind`` vector of a validated ``arch`` (one of :attr:`encodings`), ``_encoding_size(kind)`` long."""

    @abc.abstractmethod
    def _encoding_size(self, kind: str) -> int:
        """Hook: the length of every ``kind`` vector of this space."""
