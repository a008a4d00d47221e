"""Notebook display: a bottom-layer rendering package (views, HTML/text renderers, CSS, SVG).

It imports no other nasbook package (only ``nasbook._options`` and ``nasbook._errors``): each
object builds its own :class:`View` in the package that owns it, and this package renders it.

- Every user-facing object's ``_repr_mimebundle_`` returns ``text/plain`` and (unless
  ``nasbook.set_options(display_style="text")``) ``text/html``, both from one view, built from
  in-memory state only: :func:`repr_mimebundle` finds the view with :func:`view_of`
  (a registered view, else the object's ``_view()`` method, else its ``get_params()``).
- Architectures are drawn by their space: :meth:`nasbook.space.SearchSpace.draw` returns a
  :class:`Diagram` (nodes and edges), drawn here as an inline SVG (:func:`diagram_svg`) and as
  text (:func:`diagram_text`). A space of your own draws its architectures the same way.
- No JavaScript: the HTML carries a plain-text fallback that shows wherever the stylesheet is
  stripped (untrusted notebooks, GitHub).

Examples
--------
>>> from nasbook.space import ChainSpace
>>> space = ChainSpace(kind="mlp")
>>> arch = space.make(layers=[["relu", 64], ["tanh", 32]])
>>> print(architecture_text(arch))
Architecture ba2e8891db21
Overview
  id     ba2e8891db21
  space  chain-91d14096
  ops    2
Drawing
  input -> relu/64 -> tanh/32 -> output
Spec
  layers  [['relu', 64], ['tanh', 32]]
>>> sorted(repr_mimebundle(arch))
['text/html', 'text/plain']
"""

from nasbook.display._html import (
    architecture_html,
    badge_html,
    css,
    fields_html,
    object_html,
    render_html,
    search_html,
    space_html,
    table_html,
    trial_html,
)
from nasbook.display._model import (
    Badge,
    Cell,
    Drawing,
    Fields,
    Note,
    Part,
    Pre,
    RawHTML,
    Section,
    Table,
    View,
    cap,
    fields,
)
from nasbook.display._monitor import Progress, make_progress, progress_mode
from nasbook.display._repr import (
    architecture_text,
    mimebundle,
    repr_mimebundle,
    search_text,
    space_text,
    trial_text,
    view_mimebundle,
)
from nasbook.display._svg import Diagram, DiagramEdge, DiagramNode, diagram_svg, diagram_text, scatter_svg
from nasbook.display._text import render_text
from nasbook.display._views import (
    MISSING,
    attempt,
    drawing,
    fmt_duration,
    fmt_state,
    fmt_time,
    fmt_value,
    mapping_rows,
    max_rows,
    object_view,
    param_repr,
    short,
    view_of,
)

__all__ = [
    "MISSING",
    "Progress",
    "attempt",
    "drawing",
    "fmt_duration",
    "fmt_state",
    "fmt_time",
    "fmt_value",
    "make_progress",
    "progress_mode",
    "mapping_rows",
    "max_rows",
    "param_repr",
    "short",
    "Badge",
    "Cell",
    "Diagram",
    "DiagramEdge",
    "DiagramNode",
    "Drawing",
    "Fields",
    "Note",
    "Part",
    "Pre",
    "RawHTML",
    "Section",
    "Table",
    "View",
    "architecture_html",
    "architecture_text",
    "badge_html",
    "cap",
    "css",
    "diagram_svg",
    "diagram_text",
    "fields",
    "fields_html",
    "mimebundle",
    "object_html",
    "object_view",
    "render_html",
    "render_text",
    "scatter_svg",
    "repr_mimebundle",
    "search_html",
    "search_text",
    "space_html",
    "space_text",
    "table_html",
    "trial_html",
    "trial_text",
    "view_mimebundle",
    "view_of",
]
