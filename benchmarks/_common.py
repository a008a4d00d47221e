"""Helpers shared by the benchmark scripts: run metadata, plain-text tables, JSON output."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def metadata(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Where and how a benchmark ran: command line, date, machine, versions."""
    import numpy
    import scipy

    import nasbook

    try:
        import optuna

        optuna_version: str | None = optuna.__version__
    except ImportError:  # pragma: no cover - optuna is a dev dependency
        optuna_version = None
    try:
        import sqlalchemy

        sqlalchemy_version: str | None = sqlalchemy.__version__
    except ImportError:  # pragma: no cover
        sqlalchemy_version = None
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        load = None
    argv = list(sys.argv if argv is None else argv)
    return {
        "package": package_state(),
        "command": "python " + shlex.join(argv),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "loadavg_at_start": load,
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
        },
        "versions": {
            "nasbook": nasbook.__version__,
            "optuna": optuna_version,
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "sqlalchemy": sqlalchemy_version,
            "sqlite": __import__("sqlite3").sqlite_version,
        },
    }


def package_state() -> dict[str, Any]:
    """The git commit of the checkout and whether the package's files differ from it (best effort)."""
    import hashlib
    import subprocess

    import nasbook

    root = Path(nasbook.__file__).resolve().parent.parent
    out: dict[str, Any] = {"path": str(root)}
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True).stdout

        out["commit"] = git("rev-parse", "HEAD").strip()
        diff = git("diff", "HEAD", "--", "nasbook")
        out["nasbook_dirty_files"] = [ln for ln in git("diff", "HEAD", "--name-only", "--", "nasbook").splitlines() if ln]
        out["nasbook_diff_sha1"] = hashlib.sha1(diff.encode()).hexdigest() if diff else None
    except (OSError, subprocess.SubprocessError):
        out["commit"] = None
    return out


def describe_machine(meta: dict[str, Any]) -> str:
    m, v = meta["machine"], meta["versions"]
    return (
        f"{m['platform']}, {m['cpu_count']} CPUs, Python {m['python']}; "
        f"nasbook {v['nasbook']}, optuna {v['optuna']}, numpy {v['numpy']}, scipy {v['scipy']}, "
        f"sqlalchemy {v['sqlalchemy']}, SQLite {v['sqlite']}"
    )


def describe_package(meta: dict[str, Any]) -> str:
    pkg = meta.get("package", {})
    commit = (pkg.get("commit") or "unknown")[:10]
    dirty = pkg.get("nasbook_dirty_files") or []
    return f"nasbook at commit {commit}" + (f" + uncommitted changes to {', '.join(dirty)}" if dirty else " (clean)")


def mean_std(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    n = len(xs)
    if n == 0:
        return math.nan, math.nan
    m = sum(xs) / n
    if n == 1:
        return m, 0.0
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))


def median(xs: Sequence[float]) -> float:
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return math.nan
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def pm(mean: float, std: float, digits: int = 2) -> str:
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain aligned text table; ``align`` holds one 'l' or 'r' per column (default: first l, rest r)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1, allow_nan=True)
        fh.write("\n")
    os.replace(tmp, p)


def probe_summary(results: dict[str, dict[str, Any]], parts: Sequence[str], seconds: dict[str, float],
                  total: float, meta: dict[str, Any], json_path: str | None) -> dict[str, int]:
    """An outside probe's ending (outside_probe4.py, outside_probe5.py): the table of ok / defect / known per part,
    every check that is not ok in one line, and, with ``json_path``, every check's record; returns the counts."""
    kinds = ("ok", "defect", "known")
    counts = {k: sum(1 for r in results.values() if r["status"] == k) for k in kinds}
    print("\n| part | checks | ok | defect | known | seconds |\n|---|---|---|---|---|---|")
    for part in parts:
        recs = [r for k, r in results.items() if k.startswith(part + ": ")]
        c = {k: sum(1 for r in recs if r["status"] == k) for k in kinds}
        print(f"| {part} | {len(recs)} | {c['ok']} | {c['defect']} | {c['known']} | {seconds.get(part, '')} |")
    print(f"| all | {len(results)} | {counts['ok']} | {counts['defect']} | {counts['known']} | {total} |", flush=True)
    for k, r in results.items():
        if r["status"] != "ok":
            print(f"#   {r['status'].upper()}: {k}: {r['why']}: {r.get('error') or r.get('saw')}")
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps({"meta": meta, "counts": counts, "seconds": seconds, "total_s": total,
                                               "checks": results}, indent=1, default=str))
        print(f"# wrote {json_path}")
    return counts


def probe_args(doc: str | None, parts: Sequence[str], seeds: range, seeds_of: str, prefix: str,
               argv: Sequence[str] | None = None) -> tuple[Any, list[str], range, Path]:
    """An outside probe's command line (outside_probe4.py, outside_probe5.py): ``--parts`` (comma-separated, of
    ``parts``; default all), ``--seeds A-B`` (within ``seeds``' start and up; default all of ``seeds``, which
    ``seeds_of`` names the parts of), ``--json`` and ``--workdir``. A wrong part or seed range exits with
    argparse's usage error (status 2). Returns the parsed arguments, the parts in the order given, the seeds
    and the work folder, created (``--workdir``, kept; else a new temporary folder named ``prefix...``, which
    the caller removes when ``args.workdir`` is None)."""
    import argparse
    import tempfile

    first, last = seeds.start, seeds.stop - 1
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=",".join(parts), help=f"comma-separated, of {', '.join(parts)}")
    ap.add_argument("--json", help="write every check's record here")
    ap.add_argument("--workdir", help="keep the stores and files here (default: a temporary folder, removed)")
    ap.add_argument("--seeds", default=f"{first}-{last}", help=f"probe seeds A-B of {seeds_of} (default {first}-{last})")
    args = ap.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    if not (lo.isdigit() and (hi or lo).isdigit() and first <= int(lo) <= int(hi or lo)):
        ap.error(f"--seeds must be A-B with {first} <= A <= B (the probe's seeds start at {first}); got {args.seeds!r}")
    chosen = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(parts))
    if unknown:
        ap.error(f"unknown parts {unknown}; choose among {', '.join(parts)}")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix=prefix))
    workdir.mkdir(parents=True, exist_ok=True)
    return args, chosen, range(int(lo), int(hi or lo) + 1), workdir


class Wrong(AssertionError):
    """An outside probe's answer that is not what a user should get (raised by a check's function)."""


def same(a: Any, b: Any, what: str = "") -> bool:
    """True, or :class:`Wrong` naming both values."""
    if a != b:
        raise Wrong(f"{what + ': ' if what else ''}{a!r:.150} != {b!r:.150}")
    return True


def make_check(results: dict[str, dict[str, Any]], known: dict[str, str]) -> Any:
    """The ``check`` of an outside probe (outside_probe4.py .. outside_probe6b.py) recording into ``results``, with
    ``known`` the checks judged out of scope (key ``"part: name"`` -> the reason).

    ``check(part, name, fn, expect="ok", says=())`` runs ``fn``, records its outcome and classifies it ok / defect /
    known. ``expect``: "ok" (an answer; ``fn`` raises :class:`Wrong` for a wrong one), "refused" (a one-line
    NasbookError, whose message holds every word of ``says``, case-insensitive) or "either". Returns ``fn``'s value
    (None when it raised).
    """
    import time
    import traceback
    import warnings

    def check(part: str, name: str, fn: Any, expect: str = "ok", says: tuple[str, ...] = ()) -> Any:
        from nasbook import NasbookError

        key = f"{part}: {name}"
        t0 = time.perf_counter()
        value, why = None, ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = fn()
                rec: dict[str, Any] = {"outcome": "ok", "saw": " ".join(repr(value).split())[:300]}
            except Wrong as exc:
                rec = {"outcome": "wrong", "error": str(exc)[:400]}
                why = "wrong answer"
            except Exception as exc:  # noqa: BLE001 - the probe records every failure
                text = str(exc)
                rec = {"outcome": "refused", "error": f"{type(exc).__name__}: {text[:400]}"}
                if not isinstance(exc, NasbookError):
                    why = "not a nasbook error"
                    rec["traceback"] = traceback.format_exc(limit=-12)[-4000:]  # where a raw error came from
                elif len(text.strip().splitlines()) > 1:
                    why = "message spans lines"
                elif missing := [w for w in says if w.lower() not in text.lower()]:
                    why = f"message lacks {missing}"
        if not why and expect != "either" and rec["outcome"] != expect:
            why = f"expected {expect}"
        rec["expect"] = expect
        rec["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught
                                  if not issubclass(w.category, (DeprecationWarning, FutureWarning))})
        rec["wall_s"] = round(time.perf_counter() - t0, 3)
        rec["status"] = "ok" if not why else ("known" if key in known else "defect")
        rec["why"] = why if not why or key not in known else f"{why}; known: {known[key]}"
        results[key] = rec
        said = rec.get("saw") if rec["outcome"] == "ok" else rec["error"]
        flag = "" if rec["status"] == "ok" else f" {rec['status'].upper()} ({rec['why']})"
        print(f"[{part}] {name}: {rec['outcome']}{flag} {said[:200]}", flush=True)
        return value

    return check


def run_probe(results: dict[str, dict[str, Any]], args: Any, parts: Sequence[str], workdir: Path,
              funcs: dict[str, Any], figures: dict[str, Any] | None = None) -> None:
    """An outside probe's run: print where it runs, call ``funcs[part](workdir)`` for each part in turn (timed),
    remove ``workdir`` unless ``--workdir`` kept it, and end with :func:`probe_summary` of ``results`` (with
    ``figures``, the probe's measured numbers, printed and written beside them when given)."""
    import shutil
    import time

    meta = metadata()
    print(f"# {meta['command']}\n# {meta['date_utc']}; nasbook at {meta['package']}; load average "
          f"{meta['machine']['loadavg_at_start']}", flush=True)
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    try:
        for part in parts:
            t = time.perf_counter()
            funcs[part](workdir)
            seconds[part] = round(time.perf_counter() - t, 1)
            print(f"# part {part}: {seconds[part]} s", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if figures is not None:
        print("# figures: " + json.dumps(figures, default=str)[:4000])
        meta["figures"] = figures
    probe_summary(results, parts, seconds, round(time.perf_counter() - t0, 1), meta, args.json)
