"""Renderers return holoviews objects; save() writes offline HTML and real PNGs."""

import importlib.util
import re
from typing import Any

import pytest

from nasbook._errors import InvalidParameterError
from nasbook.viz import plot_curves, plot_history, plot_op_frequency, plot_tradeoff, save

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hvplot") is None, reason="needs hvplot")
hv: Any = None  # imported when the first test here runs: collecting stays light (holoviews takes seconds)


@pytest.fixture(autouse=True, scope="module")
def _holoviews():
    global hv
    import holoviews

    hv = holoviews


def test_renderers_return_holoviews_objects(cora, cora_evo, curves):
    for obj in (
        plot_history(cora, cora_evo),
        plot_history(curves, x="epochs"),
        plot_curves(curves, top_k=3),
        plot_tradeoff(cora, x="latency_ms"),
        plot_op_frequency(cora, top=5),
    ):
        assert isinstance(obj, hv.core.Dimensioned)
        assert not isinstance(obj, hv.DynamicMap)  # no leftover dim turned into a slider


def test_renderers_raise_the_builders_errors(cora):
    # each names the function the user called, not the private builder behind it
    with pytest.raises(InvalidParameterError, match=r"^plot_history\(x=\.\.\.\)"):
        plot_history(cora, x="steps")
    with pytest.raises(InvalidParameterError, match=r"^plot_curves\(search=\.\.\.\).*no learning curves"):
        plot_curves(cora)
    with pytest.raises(InvalidParameterError, match=r"^plot_tradeoff\(x=\.\.\.\).*'latency_ms'"):
        plot_tradeoff(cora, x="latency")
    with pytest.raises(InvalidParameterError, match=r"^plot_op_frequency\(top=\.\.\.\)"):
        plot_op_frequency(cora, top=0.0)


def test_save_html_is_offline(cora, tmp_path):
    out = save(plot_history(cora), tmp_path / "history.html")
    text = out.read_text()
    assert "Bokeh" in text
    assert not re.search(r"<script[^>]*\bsrc=[\"']?(https?:)?//", text, flags=re.I)
    assert not re.search(r"<link[^>]*\bhref=[\"']?(https?:)?//", text, flags=re.I)


def test_save_png(cora, tmp_path):
    pytest.importorskip("matplotlib")
    out = save(plot_tradeoff(cora), tmp_path / "tradeoff.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_refuses_other_suffixes(cora, tmp_path):
    with pytest.raises(InvalidParameterError, match=r"'\.html' or '\.png'"):
        save(object(), tmp_path / "plot.svg")
