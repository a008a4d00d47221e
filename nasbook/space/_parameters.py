"""A space as named categorical parameters, define-by-run: what Optuna-style samplers search.

:meth:`SearchSpace.suggest` builds an architecture from values a sampler chooses one parameter at a
time, and :meth:`SearchSpace.parameters_of` reads an architecture back as the same parameters (to
tell a sampler about an architecture it did not propose). For every built-in space both come from
one *program* per space class, so the names, choices and order always agree:

- :class:`GraphSpace`: ``link`` (the index, 0..8, of the canonical link pattern in :data:`LINKS`),
  then ``op1`` .. ``op4`` (the ops of nodes 1..4, over the space's ops);
- :class:`CellSpace`: ``edge_i_j`` for every edge ``(i, j)`` in spec order, over the space's ops;
- :class:`ChainSpace`: ``depth`` (``min_depth`` .. ``max_depth``), then ``layer{p}_op`` and
  ``layer{p}_width`` for the ``depth`` layers only (conditional parameters);
- :class:`ConvDenseSpace`: ``n_conv``, then ``conv{p}_op`` and ``conv{p}_width`` for those layers,
  then ``n_dense`` and ``dense{p}_width`` (conditional parameters);
- :class:`SubsetSpace`: its parent's parameters; a combination the subset does not hold is not a member.

A combination that is no architecture (an all-``skip`` graph cell, a cell without a path from input
to output, a subset's non-member) raises :class:`~nasbook.InvalidArchitectureError`: a sampler
should count it as a failed proposal and ask again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from nasbook._errors import InvalidArchitectureError, NasbookError

if TYPE_CHECKING:
    from nasbook.space._base import Architecture, SearchSpace

#: ``choose(name, choices) -> value``: one value of ``choices`` for the parameter ``name``
Choose = Callable[[str, tuple[Any, ...]], Any]
#: ``{name: (choices, value)}``, in the order :meth:`SearchSpace.suggest` asks for them
Parameters = dict[str, tuple[tuple[Any, ...], Any]]
#: a program: asks ``choose`` for each parameter in a fixed order and returns the spec for ``space.make``
Program = Callable[[Any, Choose], dict[str, Any]]
#: reads the parameter values of a member back: ``{name: value}``
Reader = Callable[[Any, "Architecture"], dict[str, Any]]


class NoParametersError(NasbookError, NotImplementedError):
    """The space has no mapping to named parameters (a third-party space that did not define one)."""


def _graph_program(space: Any, choose: Choose) -> dict[str, Any]:
    from nasbook.space._graph import LINKS

    link = choose("link", tuple(range(len(LINKS))))
    ops = [choose(f"op{i + 1}", space._ops) for i in range(len(LINKS[0]))]
    return {"link": list(LINKS[link]), "ops": ops}


def _graph_values(space: Any, arch: Architecture) -> dict[str, Any]:
    from nasbook.space._graph import LINKS

    ops = arch["ops"]
    return {"link": LINKS.index(tuple(arch["link"])), **{f"op{i + 1}": op for i, op in enumerate(ops)}}


def _cell_program(space: Any, choose: Choose) -> dict[str, Any]:
    ops = tuple(space._ops)
    return {"edges": [choose(f"edge_{i}_{j}", ops) for i, j in space.edges]}


def _cell_values(space: Any, arch: Architecture) -> dict[str, Any]:
    return {f"edge_{i}_{j}": op for (i, j), op in zip(space.edges, arch["edges"])}


def _chain_program(space: Any, choose: Choose) -> dict[str, Any]:
    depth = choose("depth", tuple(range(space.min_depth, space.max_depth + 1)))
    ops, widths = tuple(space._ops), tuple(space._widths)
    return {"layers": [[choose(f"layer{p}_op", ops), choose(f"layer{p}_width", widths)] for p in range(depth)]}


def _chain_values(space: Any, arch: Architecture) -> dict[str, Any]:
    layers = arch["layers"]
    out: dict[str, Any] = {"depth": len(layers)}
    for p, (op, width) in enumerate(layers):
        out[f"layer{p}_op"], out[f"layer{p}_width"] = op, int(width)
    return out


def _programs() -> dict[type, tuple[Program, Reader]]:
    from nasbook.space._cell import CellSpace
    from nasbook.space._chain import ChainSpace
    from nasbook.space._convdense import ConvDenseSpace, conv_dense_program, conv_dense_values
    from nasbook.space._graph import GraphSpace

    return {GraphSpace: (_graph_program, _graph_values), CellSpace: (_cell_program, _cell_values),
            ChainSpace: (_chain_program, _chain_values), ConvDenseSpace: (conv_dense_program, conv_dense_values)}


def _program_of(space: SearchSpace) -> tuple[Program, Reader]:
    programs = _programs()
    for cls in type(space).__mro__:
        found = programs.get(cls)
        if found is not None:
            return found
    name = type(space).__name__
    raise NoParametersError(
        f"{name} does not describe its architectures as named parameters, so parameter-based samplers "
        f"(nasbook.strategies.OptunaSampler) cannot search it. Implement {name}.suggest(choose) (build an "
        f"architecture from choose(name, choices) calls made in a fixed order) and {name}.parameters_of(arch) "
        "(the same parameters as {name: (choices, value)}); see nasbook.space.SearchSpace.suggest."
    )


def has_parameters(space: SearchSpace) -> bool:
    """Whether ``space`` maps its architectures to named parameters (``suggest`` / ``parameters_of``).

    Parameters
    ----------
    space : SearchSpace
        Any space.

    Returns
    -------
    bool
        True when Optuna-style samplers can propose in it.
    """
    from nasbook.space._base import SearchSpace
    from nasbook.space._subset import SubsetSpace

    cls = type(space)
    if cls.suggest is not SearchSpace.suggest and cls.parameters_of is not SearchSpace.parameters_of:
        return True
    if isinstance(space, SubsetSpace):
        return has_parameters(space.space)
    try:
        _program_of(space)
    except NoParametersError:
        return False
    return True


def _checked(choose: Choose) -> Choose:
    """``choose`` with its answer checked: a value outside ``choices`` is no architecture."""

    def checked(name: str, choices: tuple[Any, ...]) -> Any:
        value = choose(name, choices)
        for c in choices:  # the choice itself: numpy scalars become plain values; True is not 1
            if isinstance(value, bool) == isinstance(c, bool) and value == c:
                return c
        raise InvalidArchitectureError(
            f"parameter {name!r} must take one of {list(choices)!r}; the sampler chose {value!r}."
        )

    return checked


def suggest(space: SearchSpace, choose: Choose) -> Architecture:
    """See :meth:`SearchSpace.suggest`."""
    from nasbook.space._subset import SubsetSpace

    if not callable(choose):
        from nasbook._errors import InvalidParameterTypeError

        raise InvalidParameterTypeError(
            f"{type(space).__name__}.suggest(choose=...) must be a function choose(name, choices) -> value, e.g. "
            f"lambda name, choices: trial.suggest_categorical(name, choices); got {choose!r:.60}."
        )
    if isinstance(space, SubsetSpace):
        return space.from_parent(space.space.suggest(choose))
    program, _ = _program_of(space)
    return space.make(**program(space, _checked(choose)))


def parameters_of(space: SearchSpace, arch: Architecture) -> Parameters:
    """See :meth:`SearchSpace.parameters_of`."""
    from nasbook.space._subset import SubsetSpace

    if isinstance(space, SubsetSpace):
        return space.space.parameters_of(space.to_parent(arch))
    program, reader = _program_of(space)
    values = reader(space, space.validate(arch))
    out: Parameters = {}

    def record(name: str, choices: tuple[Any, ...]) -> Any:
        out[name] = (tuple(choices), values[name])
        return values[name]

    program(space, record)
    return out


class NamedParameters:
    """Mixin of :class:`~nasbook.space.SearchSpace`: its architectures as named categorical parameters."""

    def suggest(self, choose: Choose) -> Architecture:
        """The architecture made of the values ``choose(name, choices)`` returns, asked parameter by
        parameter in a fixed order (define-by-run: later parameters may depend on earlier values).

        For Optuna: ``space.suggest(lambda name, choices: trial.suggest_categorical(name, choices))``.
        Choices are str, int, float, bool or None. Raises InvalidArchitectureError when the values make
        no member of the space (count it as a failed proposal and ask again). Third-party spaces
        override it together with :meth:`parameters_of`.

        Parameters
        ----------
        choose : callable
            ``choose(name, choices) -> value``: ``name`` a str, ``choices`` a tuple of str, int,
            float, bool or None; it returns one of ``choices``.

        Returns
        -------
        Architecture
            The member of this space that the chosen values describe.
        """
        return suggest(cast("SearchSpace", self), choose)  # the module's function

    def parameters_of(self, arch: Architecture) -> Parameters:
        """``{name: (choices, value)}``: the parameters :meth:`suggest` asks for, with the values that
        give ``arch`` (to tell a sampler about an architecture it did not propose).

        Parameters
        ----------
        arch : Architecture
            A member of this space.

        Returns
        -------
        dict
            ``{name: (choices, value)}`` in the order :meth:`suggest` asks for them; passing each
            ``value`` back through ``suggest`` makes ``arch``.
        """
        return parameters_of(cast("SearchSpace", self), arch)  # the module's function


__all__ = ["Choose", "NamedParameters", "NoParametersError", "Parameters", "has_parameters", "parameters_of", "suggest"]
