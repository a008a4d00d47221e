"""Search spaces: the :class:`SearchSpace` protocol, :class:`Architecture`, and built-in spaces."""

from nasbook.space._base import ENCODINGS, Architecture, SearchSpace, stable_hash
from nasbook.space._graph import GNN_OPS, LINKS, PROTEINS_OPS, GraphSpace
from nasbook.space._subset import SubsetSpace

__all__ = [
    "ENCODINGS", "GNN_OPS", "LINKS", "PROTEINS_OPS", "Architecture", "GraphSpace", "SearchSpace", "SubsetSpace", "stable_hash",
]

try:  # CellSpace / ChainSpace land in their own modules
    from nasbook.space._cell import CellSpace  # noqa: F401
    from nasbook.space._chain import ChainSpace  # noqa: F401

    __all__ += ["CellSpace", "ChainSpace"]
except ImportError:  # pragma: no cover - during development only
    pass
