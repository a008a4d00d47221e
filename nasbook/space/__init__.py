"""Search spaces: the :class:`SearchSpace` protocol, :class:`Architecture`, and built-in spaces.

Importing it never imports torch: ``CellSpace.build``, ``ChainSpace.build`` and ``ConvDenseSpace.build`` load
:mod:`nasbook.space._torch` on first use.
"""

from nasbook.space._base import ENCODINGS, Architecture, SearchSpace, live_space, stable_hash
from nasbook.space._cell import CellSpace
from nasbook.space._chain import ChainSpace
from nasbook.space._convdense import CONV_OPS, ConvDenseSpace
from nasbook.space._graph import GNN_OPS, LINKS, PROTEINS_OPS, GraphSpace
from nasbook.space._parameters import NoParametersError, has_parameters
from nasbook.space._registry import register, space_class, unregister
from nasbook.space._subset import SubsetSpace
from nasbook.space._views import architecture_parts

__all__ = [
    "CONV_OPS", "ENCODINGS", "GNN_OPS", "LINKS", "PROTEINS_OPS", "Architecture", "CellSpace", "ChainSpace", "ConvDenseSpace", "GraphSpace",
    "NoParametersError", "SearchSpace", "SubsetSpace", "architecture_parts", "has_parameters", "live_space",
    "register", "space_class", "stable_hash", "unregister",
]
