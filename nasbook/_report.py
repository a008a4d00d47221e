"""``nasbook report``: execute a notebook with papermill and export a self-contained HTML.

The HTML renders offline and makes no network request: require.js and the Jupyter widgets
renderer are inlined from copies shipped with nasbook (see ``_report_assets/NOTICE.md``), the
renderer only when an output shows a widget; BokehJS and Panel are loaded once, gzipped and
unpacked in the browser, from the notebook's own ``inline=True`` copy or, for a notebook that
loads them from a CDN, from the installed packages; Panel's CDN stylesheets become data: URLs
of the installed files; remaining CDN tags are removed and images are embedded. A provenance
cell (nasbook version, date, parameters, every search's seed and space) is appended to the
notebook before it runs. The executed .ipynb written next to the HTML keeps every output but
the ~3 MB library copy (the HTML has it).
"""

from __future__ import annotations

import ast
import base64
import datetime as _dt
import functools
import gzip
import importlib.metadata
import importlib.util
import json
import platform
import re
import sys
import urllib.parse
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from nasbook._errors import InvalidParameterError, NasbookError
from nasbook._report_cells import failed_cell as _failed_cell
from nasbook._report_cells import kernel_config as _kernel_config
from nasbook._report_cells import stopped_cell as _stopped_cell
from nasbook._version import __version__

PROVENANCE_TAG = "nasbook-provenance"


def parse_value(text: str) -> Any:
    """``-p name value`` values: int, float, true/false, none, JSON lists/dicts, else the string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text


def check_parameter_types(notebook: str, source: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse, before a kernel starts, a ``-p`` value whose type does not fit the default of the notebook's parameter.

    ``-p budget ten`` and ``-p budget 12.5`` used to run the notebook and fail in a later cell (exit 1, "it ran
    and failed"), with a message that did not say the value came from ``-p``. An int default takes an int (a
    whole float such as ``12.0`` is read as the int), a float default an int or a float, a bool default true or
    false, a list default a JSON list and a dict default a JSON object; a str or None default, a default that is
    not a literal, and ``-p name none`` are not checked.

    Parameters
    ----------
    notebook : str
        The notebook's name, for the message.
    source : str
        The source of its cell tagged ``parameters``.
    parameters : mapping of str to object
        The ``-p`` values, as :func:`parse_value` read them.

    Returns
    -------
    dict of str to object
        ``parameters``, a whole float given for an int default as the int.

    Raises
    ------
    InvalidParameterError
        Naming the parameter, the kind of value its default is, and the value received.
    """
    checked = dict(parameters)
    try:
        body = ast.parse(source).body
    except SyntaxError:  # papermill reports a broken parameters cell itself
        return checked
    for node in body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if name not in checked or checked[name] is None:
            continue
        try:
            default = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        value = checked[name]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float) and value.is_integer():
            checked[name] = value = int(value)  # -p budget 12.0
        kind, fits = {bool: ("true or false", isinstance(value, bool)),
                      int: ("an int", number and isinstance(value, int)), float: ("a number", number),
                      list: ("a JSON list such as [1, 2]", isinstance(value, list)),
                      tuple: ("a JSON list such as [1, 2]", isinstance(value, list)),
                      dict: ('a JSON object such as {"a": 1}', isinstance(value, dict))}.get(type(default), ("", True))
        if not fits:
            shown = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
            got = f"the text {shown}" if isinstance(value, str) else f"{shown} ({type(value).__name__})"
            raise InvalidParameterError(
                f"-p {name} {shown}: {notebook}'s {name} must be {kind} (its default is {default!r}); got {got}.")
    return checked


def provenance(namespace: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Display what produced a report: called by the cell ``nasbook report`` appends."""
    from IPython.display import HTML, display

    from nasbook.search import Search

    by_name: dict[str, Search] = {}
    for v in namespace.values():  # one entry per search, even when several variables hold it
        if isinstance(v, Search) and (v.name not in by_name or v.n_trials > by_name[v.name].n_trials):
            by_name[v.name] = v
    searches = list(by_name.values())
    rows = [
        ("nasbook", __version__),
        ("generated", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("python", f"{platform.python_version()} on {platform.platform(terse=True)}"),
        ("parameters", json.dumps(dict(parameters), default=str)),
    ]
    for s in searches:
        rows += [
            (f"search {s.name}", f"{s.n_trials} trials, {s.state.value}"),
            ("  seed", str(s.seed)),
            ("  space", repr(s.space)),
            ("  task", repr(s.task)),
            ("  strategy", s.strategy._repr_with(seed=s.seed)),
        ]
    import html

    text = "Report provenance\n" + "\n".join(f"  {k}: {v}" for k, v in rows)
    table = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                    f"{html.escape(v)}</td></tr>" for k, v in rows)
    display(HTML(f"<details open><summary><b>Report provenance</b></summary><table>{table}</table></details>"),
            metadata={"nasbook": "provenance"})
    print(text)


def _asset(name: str) -> str:
    return (resources.files("nasbook") / "_report_assets" / name).read_text(encoding="utf-8")


_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.I)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*>", re.I)
_JS_MIME = "application/javascript"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# what hv.extension(), pn.extension(), hvplot and bokeh's output_notebook() publish to load BokehJS/Panel
_LOAD_MIMES = ("application/vnd.holoviews_load.v0+json", "application/vnd.bokehjs_load.v0+json")
_JS_URLS = re.compile(r"\b(const|var|let)\s+js_urls\s*=\s*(\[[^\]]*\]);")
_BOKEH_CDN = re.compile(r"https://cdn\.bokeh\.org/bokeh/release/(bokeh(?:-[a-z]+)?)-(\d[\w.\-]*?)(\.min)?\.js$")
_PANEL_CDN = re.compile(r"https://cdn\.holoviz\.org/panel/([\w.\-]+)/dist/([^\"'\s?#)]+)(?:\?[^\"'\s#)]*)?")
_LOAD_RENDERER = re.compile(r"scriptElement\.src = widgetRendererSrc;\s*document\.body\.appendChild\(scriptElement\);")
# what an inline=True loader carries: BokehJS and its bundles, Panel, and the ES module shim
_CORE_LIBRARY = re.compile(r"cdn\.bokeh\.org/bokeh/release/bokeh-|/dist/panel(\.min)?\.js$|/es-module-shims[@.]")
LIBRARY_JS_BYTES = 64 * 1024
"""A loader output above this size carries a copy of the BokehJS/Panel libraries (``inline=True``)."""

# defines nasbookInline(chunks): gunzip each base64 chunk in the browser and run them in order, each
# as its own script (DecompressionStream: Chrome 80, Firefox 113, Safari 16.4); outputs that call it
# are chained, so the libraries run before any later loader, exactly as they would in order
_RUNNER = """<script>
window.nasbookInline = function (chunks) {
  function unpack(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  }
  function run(code) {
    return new Promise(function (resolve) {
      var s = document.createElement("script");
      s.src = URL.createObjectURL(new Blob([code], {type: "text/javascript"}));
      s.onload = s.onerror = function () { URL.revokeObjectURL(s.src); resolve(); };
      document.head.appendChild(s);
    });
  }
  window.nasbookInlineDone = chunks.reduce(function (done, b64) {
    return done.then(function () { return unpack(b64); }).then(run);
  }, window.nasbookInlineDone || Promise.resolve());
};
</script>"""


def _packed(code: str) -> str:
    return base64.b64encode(gzip.compress(code.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


@functools.cache
def _packed_asset(name: str) -> str:
    return _packed(_asset(name))


def _inline_call(chunks: list[str]) -> str:
    return "nasbookInline([" + ",".join(f'"{c}"' for c in chunks) + "]);"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _local_copy(url: str) -> Path | None:
    """The installed file a bokeh/panel CDN URL points at, when the versions match; else None."""
    url = urllib.parse.unquote(url)
    m = _BOKEH_CDN.match(url)
    if m and m.group(2) == _installed_version("bokeh") and (root := _package_dir("bokeh")):
        path = root / "server" / "static" / "js" / f"{m.group(1)}{m.group(3) or ''}.js"
        return path if path.is_file() else None
    m = _PANEL_CDN.fullmatch(url)
    if m and m.group(1) == _installed_version("panel") and (root := _package_dir("panel")):
        path = (root / "dist" / m.group(2)).resolve()
        return path if path.is_file() and (root / "dist").resolve() in path.parents else None
    return None


def _loader_js(output: Any) -> str | None:
    """The JavaScript of an output that loads BokehJS/Panel, or None for any other output."""
    data = output.get("data", {})
    if output.get("output_type") not in ("display_data", "execute_result"):
        return None
    for mime in _LOAD_MIMES:
        if mime in data:
            js = data.get(_JS_MIME, data[mime])
            return js if isinstance(js, str) else None
    return None


def _cdn_urls(js: str) -> list[str]:
    m = _JS_URLS.search(js)
    if not m:
        return []
    try:
        urls = json.loads(m.group(2))
    except json.JSONDecodeError:
        return []
    return [u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))]


def offline_notebook(nb: Any) -> Any:
    """A copy of an executed notebook, ready for an HTML that loads nothing from the network.

    - empty outputs (Panel publishes some) are dropped: they show nothing and nbconvert warns;
    - BokehJS/Panel is loaded once: later copies of a loader and CDN reloads (hvplot re-runs
      ``hv.extension()`` in every cell that plots) are dropped once the libraries are on the page;
    - the loader that carries the libraries is gzipped and unpacked in the browser, and a loader
      that fetches them from a CDN gets the installed packages' copies instead (same versions only);
    - widget state that no output displays is dropped, and with it the widget renderer.
    """
    import copy
    import warnings

    nb = copy.deepcopy(nb)
    seen: set[str] = set()
    loaded: set[str] = set()  # CDN URLs whose libraries are on the page
    inline = False  # a loader with its own copy of BokehJS/Panel ran
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result") and not out.get("data"):
                continue
            js = _loader_js(out)
            if js is not None:
                if js in seen:
                    continue
                seen.add(js)
                cdn = _cdn_urls(js)
                new = [u for u in cdn if u not in loaded and not (inline and _CORE_LIBRARY.search(u))]
                if cdn and not new and (inline or loaded):
                    continue  # a reload of libraries already on the page
                chunks = None
                if new:
                    local = [_local_copy(u) for u in new]
                    missing = [u for u, path in zip(new, local) if path is None]
                    if missing:
                        warnings.warn(f"nasbook report: no installed copy of {missing[0]} (versions differ?); "
                                      "the HTML report loads it from the network.", stacklevel=3)
                    else:
                        body = _JS_URLS.sub(lambda m: f"{m.group(1)} js_urls = [];", js, count=1)
                        chunks = [_packed(path.read_text(encoding="utf-8")) for path in local if path] + [_packed(body)]
                        loaded.update(new)
                elif not cdn and len(js) > LIBRARY_JS_BYTES:
                    chunks = [_packed(js)]
                    inline = True
                if chunks is not None:
                    out["data"] = {_JS_MIME: _inline_call(chunks)}
            kept.append(out)
        cell["outputs"] = kept
    views = any(_WIDGET_VIEW in out.get("data", {}) for c in nb.cells if c.cell_type == "code" for out in c.outputs)
    if not views:
        # widget state but no output shows a widget (a progress bar replaced by its final HTML):
        # without the state, nbconvert leaves out the 3.6 MB widget renderer that would draw nothing
        nb.metadata.pop("widgets", None)
    return nb


def _panel_css_as_data(match: re.Match[str]) -> str:
    path = _local_copy(match.group(0)) if match.group(2).endswith(".css") else None
    if path is None:
        return match.group(0)
    return "data:text/css;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def slim_notebook(nb: Any, html_name: str) -> Any:
    """The executed notebook to keep next to the HTML: library copies in loader outputs removed.

    ``hv.extension('bokeh', inline=True)`` puts BokehJS and Panel (~3 MB, twice: as JavaScript and
    as HoloViews' load mimetype) into the notebook. Jupyter does not run a notebook's JavaScript
    until it is trusted or re-run, and the HTML report carries the libraries, so the .ipynb keeps a
    note in their place; every other output is kept as executed.
    """
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            js = _loader_js(out)
            if js is not None and len(js) > LIBRARY_JS_BYTES:
                note = (f"[nasbook report: the {len(js) / 1e6:.1f} MB copy of BokehJS/Panel that was here is in "
                        f"{html_name}; run this cell again to draw the plots in Jupyter]")
                out["data"] = {"text/plain": note}
                out["metadata"] = {}
    return nb


def offline_html(body: str, require_url: str, renderer_url: str) -> str:
    """Inline require.js and the widget renderer, point Panel's CSS at local copies, drop CDN tags."""
    body = body.replace(f'<script src="{require_url}"></script>',
                        "<script>" + _asset("require.js") + "</script>\n" + _RUNNER, 1)
    if _RUNNER not in body:  # a template without require.js: the runner still goes first in <head>
        body = body.replace("<head>", "<head>\n" + _RUNNER, 1)
    if f"'{renderer_url}'" in body:
        # nbconvert's snippet loads the renderer by setting scriptElement.src after DOMContentLoaded:
        # unpack the gzipped copy instead (asynchronously, as a CDN script would load)
        body, n = _LOAD_RENDERER.subn(lambda _: _inline_call([_packed_asset("embed-amd.js")]), body, count=1)
        if n != 1:
            raise NasbookError("nasbook report: this nbconvert's widget snippet is not the one nasbook knows how to "
                               "make offline; pin nbconvert<8 or report the versions at nasbook's issue tracker.")
    body = _PANEL_CDN.sub(_panel_css_as_data, body)
    return _EXTERNAL_LINK.sub("", _EXTERNAL_SCRIPT.sub("", body))


class ReportFailedError(NasbookError):
    """The notebook ran and failed (a cell raised or timed out, or the kernel died): the partial notebook is
    written (``nasbook report`` exits 1)."""


def make_report(notebook: str | Path, parameters: Mapping[str, Any] | None = None, out_dir: str | Path = "reports",
                *, kernel_name: str | None = None, timeout_s: float | None = None) -> tuple[Path, Path]:
    """Execute ``notebook`` with ``parameters`` and write ``OUT/NAME.ipynb`` and ``OUT/NAME.html``."""
    import nbformat
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbconvert import HTMLExporter

    src = Path(notebook)
    if not src.is_file():
        raise InvalidParameterError(f"nasbook report: notebook {str(src)!r} does not exist.")
    if src.suffix != ".ipynb":
        raise InvalidParameterError(f"nasbook report takes a .ipynb notebook; got {str(src)!r}.")
    parameters = dict(parameters or {})
    nb = nbformat.read(src, as_version=4)
    if kernel_name is None and not nb.metadata.get("kernelspec", {}).get("name"):
        raise InvalidParameterError(f"nasbook report: {src.name} names no kernel in its metadata; pass one with -k "
                                    "(e.g. -k python3; jupyter kernelspec list shows them).")
    declared = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if parameters and not declared:
        raise InvalidParameterError(f"{src.name} has no cell tagged 'parameters', so -p {sorted(parameters)} cannot apply.")
    if declared:
        names = set(re.findall(r"^(\w+)\s*=", declared[0].source, re.M))
        unknown = sorted(set(parameters) - names)
        if unknown:
            from nasbook._errors import did_you_mean

            raise InvalidParameterError(
                f"{src.name} has no parameter {unknown[0]!r}{did_you_mean(unknown[0], names)}; "
                f"its parameters are {sorted(names)}."
            )
        parameters = check_parameter_types(src.name, declared[0].source, parameters)
    cell = nbformat.v4.new_code_cell(
        "import json as _json\nimport nasbook._report as _nasbook_report\n\n"
        f"_nasbook_report.provenance(globals(), _json.loads({json.dumps(parameters, default=str)!r}))"
    )
    cell.metadata["tags"] = [PROVENANCE_TAG]
    nb.cells.append(cell)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file at -o or above it: raw OSError, exit 1, before
        raise InvalidParameterError(f"nasbook report --output-dir {str(out)!r} must be a folder (made if missing); "
                                    "it, or a folder above it, is a file.") from None
    staged = out / f".{src.stem}.input.ipynb"
    nbformat.write(nb, staged)
    ipynb = out / f"{src.stem}.ipynb"
    try:
        pm.execute_notebook(
            str(staged), str(ipynb), parameters=parameters, cwd=str(out.resolve()),
            kernel_name=kernel_name, progress_bar=False, execution_timeout=timeout_s, config=_kernel_config(),
            # the kernel logs "KeyboardInterrupt caught in kernel." when nbclient interrupts it before shutting
            # down after a failed cell: a Ctrl-C the user never pressed. Its own log stays quiet; cell errors
            # come back as messages and are reported below
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except pm.PapermillExecutionError as exc:
        raise ReportFailedError(f"nasbook report: {src.name} failed in {_failed_cell(ipynb, exc.cell_index)}: {exc.ename}: "
                           f"{exc.evalue} (the partial notebook is at {ipynb})") from exc
    except CellTimeoutError:  # nbclient's, through papermill: a failed run as much as a cell that raised
        limit = f"after {timeout_s:g} s, the limit per cell" if timeout_s is not None else "(nbclient's limit per cell)"
        raise ReportFailedError(f"nasbook report: {src.name} timed out in {_failed_cell(ipynb, _stopped_cell(ipynb))} "
                                f"{limit} (the partial notebook is at {ipynb})") from None
    except DeadKernelError:
        raise ReportFailedError(f"nasbook report: {src.name}: the kernel died in {_failed_cell(ipynb, _stopped_cell(ipynb))} "
                                f"(out of memory, or the code ended the process; the partial notebook is at {ipynb})") from None
    except NoSuchKernel as exc:
        from jupyter_client.kernelspec import KernelSpecManager

        raise InvalidParameterError(f"nasbook report: no Jupyter kernel named {exc.args[0]!r}; installed: "
                                    f"{sorted(KernelSpecManager().find_kernel_specs())} (jupyter kernelspec list).") from None
    finally:
        staged.unlink(missing_ok=True)
    executed = nbformat.read(ipynb, as_version=4)
    executed.metadata["nasbook"] = {
        "version": __version__, "parameters": parameters, "source": str(src),
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(), "python": sys.version.split()[0],
    }
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    require_url = exporter.require_js_url
    renderer_url = "nasbook-inline-widget-renderer.js"
    exporter.widget_renderer_url = renderer_url
    body, _ = exporter.from_notebook_node(offline_notebook(executed))
    html_path = out / f"{src.stem}.html"
    html_path.write_text(offline_html(body, require_url, renderer_url), encoding="utf-8")
    nbformat.write(slim_notebook(executed, html_path.name), ipynb)
    return ipynb, html_path
