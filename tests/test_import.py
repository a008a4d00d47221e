import json
import subprocess
import sys

HEAVY = ("lightning", "dask", "distributed", "hvplot", "faiss", "torch", "pandas", "xarray", "optuna")
# what `import nasbook` may load besides the standard library: everything else waits for first use, so the
# import stays light (its time is measured in benchmarks/import_time.py, never here: a timed test fails
# on a loaded machine, not on a heavier import)
ALLOWED = {"nasbook", "numpy", "sqlalchemy", "typing_extensions", "cython_runtime"}


def test_import_is_light():
    code = (
        "import sys, json; before = set(sys.modules); import nasbook; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(json.dumps(sorted(m for m in new if m not in sys.stdlib_module_names and not m.startswith('_'))))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert not set(loaded) & set(HEAVY), f"import nasbook pulled in {sorted(set(loaded) & set(HEAVY))}"
    assert set(loaded) <= ALLOWED, f"import nasbook now also loads {sorted(set(loaded) - ALLOWED)}: import it on first use"


def test_public_front_door():
    import nasbook

    for name in ("Search", "load_search", "Budget", "Trial", "TrialState", "NasbookError", "__version__"):
        assert hasattr(nasbook, name)


def test_the_errors_a_task_raises_are_public():
    # tutorial 2 catches TrialDiverged from task.evaluate: it must not need the private nasbook._errors
    import nasbook
    from nasbook import _errors

    assert nasbook.TrialDiverged is _errors.TrialDiverged and issubclass(nasbook.TrialDiverged, nasbook.TrialFailed)
    assert {"RepeatedTrialFailure", "TrialDiverged", "TrialFailed"} <= set(nasbook.__all__)


def test_the_errors_the_docs_name_for_plug_ins_are_public():
    # Task.check "raises nasbook.InvalidParameterError", make() InvalidArchitectureError, ask() SpaceExhausted,
    # executors.md shows nasbook.ExecutorError: a plug-in author must not import the private nasbook._errors
    import re
    from pathlib import Path

    import nasbook
    from nasbook import _errors

    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text() for p in [root / "README.md", *(root / "docs").glob("*.md"), *(root / "nasbook").rglob("*.py")]]
    named = {m for text in texts for m in re.findall(r"\bnasbook\.([A-Z]\w*(?:Error|Warning|Exhausted))\b", text)}
    assert {"InvalidParameterError", "InvalidArchitectureError", "SpaceExhausted", "ExecutorError"} <= named
    for name in named | {"NotFittedError", "NotEnumerableError", "ReproducibilityWarning", "StorageError"}:
        assert getattr(nasbook, name) is getattr(_errors, name), name
        assert name in nasbook.__all__, name
