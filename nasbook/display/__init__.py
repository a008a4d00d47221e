"""Notebook display: pure HTML/text builders, SVG drawings of architectures, one stylesheet.

Every user-facing object's ``_repr_mimebundle_`` returns ``text/plain`` and (unless
``nasbook.set_options(display_style="text")``) ``text/html``, built here from in-memory state
only. No JavaScript: the HTML carries a plain-text fallback that shows wherever the stylesheet
is stripped (untrusted notebooks, GitHub).

Examples
--------
>>> from nasbook.space import ChainSpace
>>> arch = ChainSpace(kind="mlp").make(layers=[["relu", 64], ["tanh", 32]])
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
    search_html,
    space_html,
    table_html,
    trial_html,
)
from nasbook.display._repr import (
    architecture_text,
    mimebundle,
    repr_mimebundle,
    search_text,
    space_text,
    trial_text,
)
from nasbook.display._svg import architecture_svg

__all__ = [
    "architecture_html",
    "architecture_svg",
    "architecture_text",
    "badge_html",
    "css",
    "fields_html",
    "mimebundle",
    "object_html",
    "repr_mimebundle",
    "search_html",
    "search_text",
    "space_html",
    "space_text",
    "table_html",
    "trial_html",
    "trial_text",
]
