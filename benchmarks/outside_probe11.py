"""Outside-evaluator probe 11: every notebook and tutorial at parameters other than the tests' and its defaults.

A teacher or a ``nasbook report`` user runs the notebooks with other parameters: the smallest legal budget, a
budget that does not divide the notebook's internal steps, another dataset, one seed, a wrong value. Each case
runs the notebook with papermill (kernel python3, its own empty working directory, the tests' small parameters
under the case's own) and is classified as in probe 5 (``benchmarks/outside_probe5.py``): ``ok`` (what a user
should get), ``defect`` (anything else) or ``known`` (a defect judged out of scope here, listed in ``KNOWN``).

A legal value: the notebook runs top to bottom, no error, no warning printed on stderr. A wrong one: the
notebook stops early (at the latest in the first code cell that uses the parameter), with one line that names
the parameter (a ValueError or nasbook's own error), not a deep traceback.

Parts (all by default; ``--parts notebooks,cli``):

``notebooks``  the cases of ``CASES`` (``--quick``: the ``QUICK`` subset, one or two per notebook family).
``cli``        ``nasbook report NB -p name value``: a value whose type does not fit the parameter's default
               (``-p budget 12.5``, ``true``, a list where an int is expected, a number where a list is) or an
               unknown name is refused before any kernel starts, in one line naming the parameter, exit status 2;
               legitimate values (an int for a float default, anything for a str or None default) pass the check.

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe11.py --json bench-results/probe11.json
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import Wrong, make_check

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("notebooks", "cli")
RESULTS: dict[str, dict[str, Any]] = {}
#: checks judged out of scope, with the reason (a check listed here that passes is still ``ok``)
KNOWN: dict[str, str] = {}
check = make_check(RESULTS, KNOWN)
PY = sys.executable
#: the tests' small parameters (tests/notebooks/test_notebooks.py), under each case's own
SMALL = {"budget": 12, "epoch_budget": 45, "n_seeds": 3, "seed": 0, "max_epochs": 1, "sizes": [20, 50]}
CELL_TIMEOUT_S = 150  # a cell running longer is stuck (tutorial 03's eta=1 looped for ever in rung_epochs)
#: the errors a refusal may raise: nasbook's own and the notebook's ValueError
REFUSALS = {"ValueError", "InvalidParameterError", "InvalidParameterTypeError", "InvalidArchitectureError"}

#: (notebook, parameters, expected): "ok" runs through; a parameter name: refused early naming it
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("notebooks/quickstart", {"budget": 1}, "ok"),
    ("notebooks/quickstart", {"budget": 2, "strategy": "bo"}, "ok"),
    ("notebooks/quickstart", {"budget": 7, "strategy": "random", "dataset": "pubmed", "seed": 3}, "ok"),
    ("notebooks/quickstart", {"budget": 5, "dataset": "proteins"}, "ok"),
    ("notebooks/quickstart", {"budget": 0}, "budget"),
    ("notebooks/quickstart", {"dataset": "Cora2"}, "dataset"),
    ("notebooks/quickstart", {"strategy": "nope"}, "strategy"),
    ("notebooks/multi_fidelity", {"epoch_budget": 9}, "ok"),
    ("notebooks/multi_fidelity", {"epoch_budget": 1}, "epoch_budget"),
    ("notebooks/multi_fidelity", {"epoch_budget": 50, "seed": 2}, "ok"),
    ("notebooks/multi_fidelity", {"epoch_budget": 0}, "epoch_budget"),
    ("notebooks/training_on_dask", {"budget": 1, "executor": "local"}, "ok"),
    ("notebooks/training_on_dask", {"budget": 2, "max_epochs": 2, "executor": "local"}, "ok"),
    ("notebooks/training_on_dask", {"max_epochs": 0, "executor": "local"}, "max_epochs"),
    ("tutorials/00_what_is_nas", {"n_samples": 1, "dataset": "pubmed", "seed": 4}, "ok"),
    ("tutorials/00_what_is_nas", {"dataset": "proteins"}, "dataset"),
    ("tutorials/00_what_is_nas", {"n_samples": 0}, "n_samples"),
    ("tutorials/01_random_vs_evolution", {"budget": 1, "n_seeds": 1}, "ok"),
    ("tutorials/01_random_vs_evolution", {"budget": 7, "n_seeds": 2, "dataset": "proteins"}, "ok"),
    ("tutorials/01_random_vs_evolution", {"n_seeds": 0}, "n_seeds"),
    ("tutorials/02_training_on_digits", {"budget": 1, "executor": "local"}, "ok"),
    ("tutorials/02_training_on_digits", {"budget": 5, "seed": 1, "executor": "local"}, "ok"),
    ("tutorials/03_multi_fidelity", {"budget": 1, "n_seeds": 1}, "ok"),
    ("tutorials/03_multi_fidelity", {"budget": 7, "n_seeds": 2, "eta": 2}, "ok"),
    ("tutorials/03_multi_fidelity", {"eta": 1}, "eta"),
    ("tutorials/04_predicting_architecture_quality", {"budget": 1, "n_seeds": 1, "n_train": 10, "sizes": [10]}, "ok"),
    ("tutorials/04_predicting_architecture_quality", {"budget": 7, "dataset": "photo", "sizes": [15]}, "ok"),
    ("tutorials/05_learning_curves_and_proxies", {"budget": 1, "n_seeds": 1, "n_proxy_archs": 2, "batch_size": 2}, "ok"),
    ("tutorials/05_learning_curves_and_proxies", {"batch_size": 1}, "batch_size"),
    ("tutorials/05_learning_curves_and_proxies", {"budget": 3, "n_seeds": 2, "n_proxy_archs": 7, "seed": 5}, "ok"),
    ("tutorials/06_searches_that_remember", {"budget": 1, "n_seeds": 1, "past_budget": 10, "held_out": "arxiv"}, "ok"),
    ("tutorials/06_searches_that_remember", {"past_budget": 2}, "past_budget"),
    ("tutorials/07_growing_networks", {"budget": 1, "blend_length": 1, "blend_epochs": 1}, "ok"),
    ("tutorials/07_growing_networks", {"budget": 5, "max_epochs": 2, "seed": 3}, "ok"),
    ("tutorials/07_growing_networks", {"blend_epochs": 0}, "blend_epochs"),
    ("tutorials/08_extending_nasbook", {"budget": 2, "n_seeds": 1, "sizes": [10]}, "ok"),
    ("tutorials/08_extending_nasbook", {"budget": 7, "dataset": "pubmed", "seed": 1}, "ok"),
]
#: ``--quick``: the smallest budgets of the fast notebooks (the probe's smoke test)
QUICK = {0, 8, 15, 17, 19, 24, 34}


def _parameter_names(nb: Any) -> set[str]:
    import ast

    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def run_case(workdir: Path, rel: str, params: dict[str, Any], expected: str) -> str:
    """Run one notebook case; a string saying what happened, or :class:`Wrong`."""
    import nbformat
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError

    path = ROOT / f"{rel}.ipynb"
    nb = nbformat.read(path, as_version=4)
    names = _parameter_names(nb)
    full = {k: v for k, v in SMALL.items() if k in names} | params
    if "storage" in names:
        full["storage"] = "probe.db"
    cwd = workdir / (rel.replace("/", "_") + "_" + "_".join(f"{k}-{v}" for k, v in params.items()).replace(" ", ""))
    cwd.mkdir(parents=True, exist_ok=True)
    out = cwd / path.name
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(path), str(out), parameters=full, cwd=str(cwd), kernel_name="python3",
                            progress_bar=False, log_output=False, execution_timeout=CELL_TIMEOUT_S)
    except CellTimeoutError:
        raise Wrong(f"a cell ran past {CELL_TIMEOUT_S} s (a loop that never ends?)") from None
    except pm.PapermillExecutionError as exc:
        wall = time.perf_counter() - t0
        executed = nbformat.read(out, as_version=4)
        code = [i for i, c in enumerate(executed.cells) if c.cell_type == "code"]
        params_at = next(i for i, c in enumerate(executed.cells)
                         if "injected-parameters" in c.get("metadata", {}).get("tags", []))
        failed = next(i for i, c in enumerate(executed.cells) if c.cell_type == "code"  # not papermill's banner
                      and any(o.get("output_type") == "error" for o in c.get("outputs", [])))
        after = code.index(failed) - code.index(params_at)  # 1: the first code cell after the parameters
        said = f"{exc.ename}: {exc.evalue}"
        if expected == "ok":
            raise Wrong(f"failed in code cell {after} after the parameters ({wall:.0f} s): {said[:300]}") from None
        if "\n" in exc.evalue.strip() or expected not in exc.evalue:
            raise Wrong(f"refused without naming {expected!r} in one line: {said[:300]}") from None
        uses = next((n - code.index(params_at) for n, i in enumerate(code) if i > params_at
                     and re.search(rf"\b{expected}\b", executed.cells[i].source)), len(code))
        if after > uses or exc.ename not in REFUSALS:
            raise Wrong(f"refused late, in code cell {after} after the parameters ({expected} is first used in "
                        f"code cell {uses}): {said[:300]}") from None
        return f"refused in code cell {after} ({wall:.0f} s): {said[:200]}"
    wall = time.perf_counter() - t0
    if expected != "ok":
        raise Wrong(f"ran through ({wall:.0f} s) where {expected}={params[expected]!r} should be refused")
    executed = nbformat.read(out, as_version=4)
    stderr = [o["text"] for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "stream" and o.get("name") == "stderr" and "Warning" in o.get("text", "")]
    if stderr:
        raise Wrong(f"a warning printed at the student: {' '.join(stderr[0].split())[:300]}")
    return f"ran through in {wall:.0f} s"


def part_notebooks(workdir: Path) -> None:
    for i, (rel, params, expected) in enumerate(CASES):
        if QUICK_ONLY and i not in QUICK:
            continue
        what = "runs through" if expected == "ok" else f"refused early naming {expected}"
        args = " ".join(f"{k}={v!r}" for k, v in params.items())
        check("notebooks", f"{rel} {args}: {what}", lambda rel=rel, params=params, expected=expected: run_case(workdir, rel, params, expected))


#: (notebook, -p pairs, refused: the parameter the one line names, or None: the check lets it through)
CLI_CASES: list[tuple[str, list[tuple[str, str]], str | None]] = [
    ("notebooks/quickstart", [("budget", "12.5")], "budget"),
    ("notebooks/quickstart", [("budget", "true")], "budget"),
    ("notebooks/quickstart", [("budget", "[1, 2]")], "budget"),
    ("notebooks/quickstart", [("budget", "twelve")], "budget"),
    ("notebooks/quickstart", [("budgte", "5")], "budgte"),
    ("notebooks/multi_fidelity", [("seed", "0.5")], "seed"),
    ("tutorials/04_predicting_architecture_quality", [("sizes", "50")], "sizes"),
    ("tutorials/04_predicting_architecture_quality", [("sizes", "[20, 50")], "sizes"),
]


def _report(workdir: Path, rel: str, pairs: list[tuple[str, str]]) -> tuple[subprocess.CompletedProcess[str], float]:
    argv = [PY, "-m", "nasbook", "report", str(ROOT / f"{rel}.ipynb"), "-o", str(workdir / "reports")]
    for name, value in pairs:
        argv += ["-p", name, value]
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=workdir)
    return done, time.perf_counter() - t0


def part_cli(workdir: Path) -> None:
    for rel, pairs, refused in CLI_CASES:
        args = " ".join(f"-p {n} {v}" for n, v in pairs)

        def one(rel: str = rel, pairs: list[tuple[str, str]] = pairs, refused: str | None = refused) -> str:
            done, wall = _report(workdir, rel, pairs)
            err = done.stderr.strip()
            if done.returncode != 2 or len(err.splitlines()) != 1 or refused not in err:
                raise Wrong(f"exit {done.returncode} after {wall:.1f} s: {' '.join(err.split())[-300:]}")
            if "failed in" in err or "partial notebook" in err:
                raise Wrong(f"refused only after a kernel ran the notebook ({wall:.1f} s): {err[-300:]}")
            return f"exit 2 in {wall:.1f} s: {err[:200]}"

        check("cli", f"nasbook report {rel} {args}: refused before a kernel starts, exit 2", one)

    def legit() -> str:
        """The values the check must let through: an int for a float default, anything for str / None ones."""
        from nasbook._report import check_parameter_types

        src = "budget = 12\nrate = 0.5\nname = 'cora'\nwhat = None\nflag = False\nsizes = [20, 50]\n"
        ok = [{"rate": 1}, {"rate": 0.25}, {"name": 5}, {"name": "x"}, {"what": 3}, {"what": [1]}, {"flag": True},
              {"budget": 7}, {"sizes": [10]}, {"budget": 12.0}]
        for p in ok:
            check_parameter_types("nb.ipynb", src, p)
        return f"{len(ok)} legitimate values pass"

    check("cli", "legitimate -p values pass the check (int for a float default, anything for str and None defaults)",
          legit)

    def runs() -> str:
        done, wall = _report(workdir, "notebooks/quickstart", [("budget", "3"), ("strategy", "random"), ("storage", "q.db")])
        if done.returncode != 0:
            raise Wrong(f"exit {done.returncode} after {wall:.1f} s: {' '.join(done.stderr.split())[-300:]}")
        return f"exit 0 in {wall:.1f} s"

    check("cli", "nasbook report notebooks/quickstart -p budget 3 -p strategy random: written, exit 0", runs)


QUICK_ONLY = False


def main() -> None:
    global QUICK_ONLY
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import probe_args, run_probe

    argv = sys.argv[1:]
    QUICK_ONLY = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    args, parts, _, workdir = probe_args(__doc__ + "\n--quick: the QUICK cases only", PARTS, range(0, 1),
                                        "the probe (its checks are not random)", "nasbook-probe11-", argv)
    run_probe(RESULTS, args, parts, workdir, {"notebooks": part_notebooks, "cli": part_cli})


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
