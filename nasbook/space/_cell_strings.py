"""NAS-Bench-201 strings of :class:`~nasbook.space.CellSpace` cells (a mixin of CellSpace).

A NAS-Bench-201 string lists, node by node, the op on every edge into it: ``|op~0|+|op~0|op~1|+...``,
where ``op~i`` is the op of the edge from node ``i``; the parsing itself is in
:mod:`nasbook.space._cell_graph`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nasbook.space import _cell_graph as graph

if TYPE_CHECKING:
    from nasbook.space._arch import Architecture


class NB201Strings:
    """Mixin of :class:`~nasbook.space.CellSpace`: cells to and from NAS-Bench-201 strings."""

    if TYPE_CHECKING:  # provided by CellSpace
        n_nodes: int
        _edges: tuple[tuple[int, int], ...]
        _edge_index: dict[tuple[int, int], int]

        def validate(self, arch: object) -> Architecture: ...

        def make(self, **spec: Any) -> Architecture: ...

    def to_string(self, arch: Architecture) -> str:
        """The NAS-Bench-201 string of ``arch``: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

        Parameters
        ----------
        arch : Architecture
            A cell of this space (validated: another space's architecture raises
            InvalidArchitectureError).

        Returns
        -------
        str
            ``n_nodes - 1`` groups joined by ``+``, one per node ``j = 1 .. n_nodes - 1``, each
            listing ``op~i`` for its inputs ``i = 0 .. j - 1``; the ops are those of the canonical
            spec (edges on no input-output path read ``none``), so ``from_string`` gives ``arch`` back.

        Examples
        --------
        >>> from nasbook.space import CellSpace
        >>> space = CellSpace()
        >>> space.to_string(space.make(edges=["none", "none", "nor_conv_3x3", "none", "none", "none"]))
        '|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|'
        """
        return graph.to_nb201(self.validate(arch)["edges"], self.n_nodes, self._edge_index)

    def from_string(self, text: str) -> Architecture:
        """Parse a NAS-Bench-201 string (``|op~0|+|op~0|op~1|+...``) into a canonical cell.

        Parameters
        ----------
        text : str
            A NAS-Bench-201 string for ``n_nodes`` nodes, e.g. one from ``to_string`` or from the
            NAS-Bench-201 tables; surrounding whitespace is ignored. A malformed string, a wrong
            number of nodes, an op outside this space's ``ops`` or a cell with no input-output path
            raises InvalidArchitectureError.

        Returns
        -------
        Architecture
            The canonical member of this space the string describes (``make(edges=...)``), so two
            strings of isomorphic cells give the same architecture.
        """
        ops = graph.from_nb201(type(self).__name__, text, self.n_nodes)
        return self.make(edges=[ops[e] for e in self._edges])
