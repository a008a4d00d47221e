"""`nasbook report`: papermill execution plus an HTML that renders offline."""

import base64
import gzip
import importlib.metadata
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from nasbook._errors import InvalidParameterError, NasbookError
from nasbook._report import LIBRARY_JS_BYTES, make_report, offline_notebook, parse_value, slim_notebook
from nasbook.cli import main

pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
HV_LOAD = "application/vnd.holoviews_load.v0+json"


def _open_offline(html, wait_for):
    """Open ``html`` in headless Chromium with every non-local request refused.

    Returns the URLs of the refused requests and, per CSS selector in ``wait_for`` (matched
    through shadow roots), how many elements with a size are drawn once the page has settled.
    """
    if CHROMIUM is None:
        pytest.skip("no chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    refused = []

    def route(r):
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.goto(html.as_uri(), wait_until="load")
            drawn = {}
            for selector, n in wait_for.items():
                try:  # locators pierce open shadow roots (Bokeh draws inside them)
                    page.locator(selector).nth(n - 1).wait_for(state="visible", timeout=20_000)
                except sync_api.TimeoutError:
                    pass
            page.wait_for_timeout(500)  # late requests (stylesheets of the last plot) still get recorded
            for selector in wait_for:
                boxes = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
                drawn[selector] = sum(1 for b in boxes if b and b["width"] > 20 and b["height"] > 10)
        finally:
            browser.close()
    return refused, drawn


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("budget = 5\nseed = 0\nname = 'default'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(src) for src in body]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.notebook
def test_report_is_self_contained_and_records_provenance(tmp_path, capfd):
    nb = _notebook(tmp_path / "demo.ipynb", [
        "import ipywidgets as w\nw.IntSlider(value=budget)",
        "import holoviews as hv\nhv.extension('bokeh', inline=True, logo=False)\nhv.Curve([1, 3, 2])",
        # hvplot re-runs hv.extension() in every cell that imports it: a CDN reload of BokehJS each time
        "import hvplot.pandas\nimport pandas as pd\npd.DataFrame({'x': [1, 2, 3]}).hvplot.scatter('x', 'x')",
        "import nasbook\nfrom nasbook.tasks import NasBenchGraph\n"
        "s = nasbook.Search(NasBenchGraph('cora'), budget=budget, seed=seed, storage=':memory:', name=name).run()\ns",
    ])
    ipynb, html = make_report(nb, {"budget": 7, "name": "<b>x</b>"}, tmp_path / "out")
    err = capfd.readouterr().err
    assert "IPKernelApp" not in err and "is not able to be represented" not in err, err
    executed = nbformat.read(ipynb, as_version=4)
    assert executed.metadata["nasbook"]["parameters"] == {"budget": 7, "name": "<b>x</b>"}
    text = html.read_text()
    assert not re.search(r"<script[^>]*src=[\"']https?://", text), "a script still loads from the network"
    assert "application/vnd.jupyter.widget-state+json" in text  # widget state saved by papermill
    assert "nasbookInline(" in text and "requirejs" in text  # renderer, BokehJS and require.js inlined
    assert "Report provenance" in text and "seed" in text and "GraphSpace" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text.split("Report provenance")[1][:5000]
    prov = [c for c in executed.cells if "nasbook-provenance" in c.metadata.get("tags", [])]
    assert prov and "budget" in json.dumps(prov[0]["outputs"])
    # the executed notebook is not a second copy of the libraries
    assert ipynb.stat().st_size < 1_000_000 and "bokeh.min.js" not in ipynb.read_text()
    # open it offline in a real browser: the widget and both Bokeh plots are drawn, nothing is fetched
    refused, drawn = _open_offline(html, {".widget-slider": 1, ".bk-Canvas": 2})
    assert refused == [], f"{len(refused)} network requests: {refused[:5]}"
    assert drawn[".widget-slider"] == 1, "the ipywidgets slider was not rendered"
    assert drawn[".bk-Canvas"] == 2, "the Bokeh plots were not rendered"


@pytest.mark.slow
@pytest.mark.notebook
def test_quickstart_report_is_small_quiet_offline_and_reruns_in_place(tmp_path, capfd):
    from nasbook.storage import open_storage

    out = tmp_path / "reports"
    for _ in range(2):  # the README's main job, run twice into the same directory
        assert main(["report", str(ROOT / "notebooks" / "quickstart.ipynb"), "-o", str(out), "-p", "budget", "30"]) == 0
    err = capfd.readouterr().err
    assert "IPKernelApp" not in err and "without encryption" not in err, err
    assert "is not able to be represented" not in err, err
    store = open_storage(out / "quickstart.db")
    try:
        assert store.search_names() == ["quickstart"]  # re-running replaced the search, did not add one
    finally:
        store.close()
    html, ipynb = out / "quickstart.html", out / "quickstart.ipynb"
    size = html.stat().st_size
    assert size <= 3_000_000, f"the HTML report is {size / 1e6:.1f} MB"
    assert ipynb.stat().st_size < size / 2, "the executed notebook is a second copy of the report"
    assert sum(f.stat().st_size for f in out.iterdir()) < 1.5 * size
    refused, drawn = _open_offline(html, {".bk-Canvas": 3, ".nasbook-monitor": 1})
    assert refused == [], f"{len(refused)} network requests: {refused[:5]}"
    assert drawn[".bk-Canvas"] == 3, "the three Bokeh plots were not all drawn"
    assert drawn[".nasbook-monitor"] == 1, "the search's progress display is missing"


def _load_output(js):
    return nbformat.v4.new_output("display_data", data={"application/javascript": js, HV_LOAD: js})


def _unpack(call):
    return [gzip.decompress(base64.b64decode(c)).decode() for c in re.findall(r'"([A-Za-z0-9+/=]+)"', call)]


def test_offline_notebook_loads_bokeh_once_from_local_copies():
    bokeh = importlib.metadata.version("bokeh")
    cdn = f'(function(root) {{ const js_urls = ["https://cdn.bokeh.org/bokeh/release/bokeh-{bokeh}.min.js"]; }})(window);'
    inline = "/* BokehJS */" + "x" * LIBRARY_JS_BYTES
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    first, second = nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")
    first.outputs = [_load_output(cdn), nbformat.v4.new_output("display_data", data={}), _load_output(cdn)]
    second.outputs = [_load_output(cdn.replace("})", "/* reload */})")), _load_output(inline),
                      nbformat.v4.new_output("stream", text="kept")]
    panel = importlib.metadata.version("panel")
    extra = f"https://cdn.holoviz.org/panel/{panel}/dist/bundled/katex/katex@0.16.22/dist/contrib/auto-render.min.js"
    third = nbformat.v4.new_code_cell("c")  # an extension (pn.extension('katex')) after the inline libraries
    third.outputs = [_load_output(f'const js_urls = ["{cdn.split(chr(34))[1]}", "{extra}"]; /* katex */')]
    nb.cells = [first, second, third]
    off = offline_notebook(nb)
    a, b, c = (cell.outputs for cell in off.cells)
    assert len(a) == 1 and len(b) == 2  # the empty output, the copy and the CDN reload are gone
    katex = _unpack(c[0]["data"]["application/javascript"])  # only what is new is added: not BokehJS again
    assert len(katex) == 2 and "renderMathInElement" in katex[0] and "js_urls = []" in katex[1]
    code = _unpack(a[0]["data"]["application/javascript"])
    assert code[0].startswith(Path(importlib.metadata.distribution("bokeh").locate_file(
        "bokeh/server/static/js/bokeh.min.js")).read_text()[:200])  # the installed BokehJS, not a download
    assert "js_urls = []" in code[1] and "https://" not in code[1]
    assert _unpack(b[0]["data"]["application/javascript"]) == [inline] and b[1]["text"] == "kept"
    assert "widgets" not in off.metadata  # no output shows a widget: no renderer
    assert nb.cells[0].outputs[0]["data"]["application/javascript"] == cdn  # the original is untouched
    slim = slim_notebook(nb, "r.html")
    assert slim.cells[1].outputs[1]["data"] == {"text/plain": slim.cells[1].outputs[1]["data"]["text/plain"]}
    assert "r.html" in slim.cells[1].outputs[1]["data"]["text/plain"] and slim.cells[0].outputs[0]["data"][HV_LOAD] == cdn


def test_offline_notebook_keeps_a_cdn_loader_it_has_no_copy_of():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("a")
    cdn = 'const js_urls = ["https://cdn.bokeh.org/bokeh/release/bokeh-0.0.1.min.js"];'
    cell.outputs = [_load_output(cdn)]
    nb.cells = [cell]
    with pytest.warns(UserWarning, match=r"no installed copy of https://cdn\.bokeh\.org/.*bokeh-0\.0\.1"):
        off = offline_notebook(nb)
    assert off.cells[0].outputs[0]["data"]["application/javascript"] == cdn


@pytest.mark.notebook
def test_report_errors(tmp_path, capsys):
    nb = _notebook(tmp_path / "bad.ipynb", ["raise ValueError('boom')"])
    with pytest.raises(InvalidParameterError, match=r"no parameter 'budgte' \(did you mean 'budget'\?\)"):
        make_report(nb, {"budgte": 3}, tmp_path / "o")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        make_report(tmp_path / "missing.ipynb", {}, tmp_path / "o")
    with pytest.raises(NasbookError, match=r"failed in cell .*ValueError: boom"):
        make_report(nb, {}, tmp_path / "o")
    assert main(["report", str(tmp_path / "missing.ipynb"), "-o", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.notebook
def test_report_exit_status_tells_a_failed_notebook_from_bad_arguments(tmp_path, capsys):
    nb = _notebook(tmp_path / "bad.ipynb", ["raise ValueError('boom')"])
    out = tmp_path / "o"
    assert main(["report", str(nb), "-o", str(out)]) == 1  # it ran, and a cell failed
    err = capsys.readouterr().err
    assert "failed in cell" in err and "ValueError: boom" in err and (out / "bad.ipynb").is_file()
    assert main(["report", str(nb), "-p", "budgte", "3", "-o", str(out)]) == 2  # refused before running
    assert "no parameter 'budgte'" in capsys.readouterr().err
    for argv in (["report"], ["report", str(nb), "-p", "budget"], ["report", str(nb), "--bogus"]):
        with pytest.raises(SystemExit) as exc:  # argparse's usage errors
            main(argv)
        assert exc.value.code == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0 and "exit status: 0 written; 1 the notebook failed" in capsys.readouterr().out


@pytest.mark.notebook
def test_report_a_cell_timeout_a_dead_kernel_and_a_missing_kernel_exit_like_a_failed_cell(tmp_path, capsys):
    # nbclient raises CellTimeoutError and DeadKernelError, not papermill's PapermillExecutionError: they were
    # escaped `nasbook report` as a traceback, although the notebook ran and failed like a cell that raised
    from nasbook._report import ReportFailedError
    from nasbook.cli import build_parser

    slow = _notebook(tmp_path / "slow.ipynb", ["import time\ntime.sleep(60)"])
    out = tmp_path / "o"
    with pytest.raises(ReportFailedError, match=r"slow\.ipynb timed out in cell 2 \('import time'\) after 2 s"):
        make_report(slow, {}, out, timeout_s=2)  # papermill's execution_timeout
    assert (out / "slow.ipynb").is_file()  # the partial notebook
    assert build_parser().parse_args(["report", str(slow), "-t", "2"]).timeout == 2.0  # nasbook report's --timeout
    dead = _notebook(tmp_path / "dead.ipynb", ["x = 1", "import os\nos._exit(1)"])
    assert main(["report", str(dead), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the kernel died in cell 3 ('import os')" in err and "Traceback" not in err
    assert main(["report", str(slow), "-k", "no-such-kernel", "-o", str(out)]) == 2  # refused before running
    assert "no Jupyter kernel named 'no-such-kernel'" in capsys.readouterr().err


def test_parameter_values():
    assert parse_value("12") == 12 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("none") is None and parse_value("[1, 2]") == [1, 2] and parse_value("cora") == "cora"


@pytest.mark.notebook
def test_report_names_the_failing_cell_the_same_with_or_without_parameters(tmp_path, capfd):
    # papermill counts from 0, includes the parameters cell it injects for -p, and puts an error banner on
    # top of the partial notebook: the same failing cell was "cell 2" or "cell 3" depending on -p
    nb = _notebook(tmp_path / "bad.ipynb", ["x = 1", "raise ValueError('boom')"])
    for params in ({}, {"budget": 3}):
        with pytest.raises(NasbookError, match=r"failed in cell 3 \(\"raise ValueError\('boom'\)\"\): ValueError: boom"):
            make_report(nb, params, tmp_path / "o")
    # nor does the kernel log a Ctrl-C nobody pressed (nbclient interrupts it before shutting it down)
    assert "KeyboardInterrupt" not in capfd.readouterr().err


def test_report_refuses_text_where_the_notebook_takes_a_number_before_running(tmp_path, capsys):
    # `-p budget ten` ran the notebook and failed in a later cell, exit 1 ("it ran and failed"), not 2
    nb = _notebook(tmp_path / "p.ipynb", ["raise ValueError('the notebook ran')"])
    book = nbformat.read(nb, as_version=4)
    book.cells[0].source = "budget = 3\nverbose = False\nlr = 0.5\nname = 'default'"
    nbformat.write(book, nb)
    out = tmp_path / "o"
    assert main(["report", str(nb), "-p", "budget", "ten", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "-p budget 'ten'" in err and "must be an int" in err and "default is 3" in err and "Traceback" not in err
    assert not (out / "p.ipynb").exists()  # refused before a kernel started
    with pytest.raises(InvalidParameterError, match=r"must be true or false \(its default is False\); got the text 'yes'"):
        make_report(nb, {"verbose": "yes"}, out)
    with pytest.raises(InvalidParameterError, match=r"must be a number \(its default is 0.5\)"):
        make_report(nb, {"lr": "fast"}, out)
    assert main(["report", str(nb), "-p", "name", "12", "-o", str(out)]) == 1  # a number for text: not refused, it ran
