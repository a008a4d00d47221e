"""A search that has run is freed when its last name goes, without waiting for the cycle collector.

An architecture's repr draws with the live space of its id (held weakly), so a search kept alive
by a reference cycle kept its space drawing for another space with the same id until a collection
ran; a cycle through the executor's report callback did exactly that (tests/display/test_draw_hook.py
failed by test order).
"""

from __future__ import annotations

import gc
import weakref

import pytest

import nasbook
from nasbook.space import CellSpace
from nasbook.testing import ToyTask


@pytest.mark.parametrize("epochs", [0, 2])
def test_a_run_search_is_freed_by_reference_counting(epochs):
    space = CellSpace()
    gc.collect()
    gc.disable()
    try:
        search = nasbook.Search(space, ToyTask(space, epochs=epochs), strategy="random", budget=3, seed=0,
                                storage=":memory:")
        search.run(progress=False)
        ref = weakref.ref(search)
        del search
        assert ref() is None, "the search outlived its last name: a reference cycle holds it"
    finally:
        gc.enable()
