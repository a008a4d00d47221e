"""Outside-evaluator probe 13: ``nasbook.KnowledgeBase`` opening files it should refuse, and the stores it should read.

Written from ``help(nasbook.KnowledgeBase)``, docs/knowledge-base.md, docs/search-loop.md and the README, through the
public API only (``kb.storage.list_searches()`` is the Storage's public method), on the shipped ``DigitsTable`` and
``MNIST1DTable``. Checks are classified as in probe 5 (``benchmarks/outside_probe5.py``): ``ok`` an answer (and where
the check states it, that answer) or a one-line ``NasbookError`` whose message holds the words listed; ``defect``
anything else. Probes 3 and 6b's KB checks are not repeated.

Parts (all by default; ``--parts bad,index,trips``):

``bad``    issue 11's bad inputs: a text file, a truncated SQLite file, another program's SQLite file, a file of a
           newer schema (nasbook_meta's schema_version edited), an unreachable URL (postgresql on a closed port),
           a mistyped scheme, a task without meta-features, an architecture of a space the base never saw, bad
           ``k``/``n``; each a clear error, and the file's bytes (sha256) unchanged by the failed open.
``index``  opening a store makes ``ix_nasbook_trials_best`` where missing: a store made by an older build (90bed0a,
           ``--old``, made by a subprocess) opens and gives the same frames; a read-only file (chmod 444, opened
           as another user when run as root) and a file in a read-only folder open or are refused as documented;
           a ``mode=ro`` URI opens an old store; a refused foreign/newer file gains no index.
``trips``  ingest then read back, ``similar``, ``similar_tasks``, ``warm_start`` on a fresh, empty and one-trial
           base; reprs of empty and filled bases; export/import round trip; two processes opening one file.

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe13.py --json bench-results/probe13.json [--old /tmp/old-probe13]
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Wrong, make_check, same  # noqa: E402

PARTS = ("bad", "index", "trips")
RESULTS: dict[str, dict[str, Any]] = {}
KNOWN: dict[str, str] = {}
QUICK = False
OLD: str | None = None
INDEX = "ix_nasbook_trials_best"

check = make_check(RESULTS, KNOWN)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _indexes(path: Path) -> set[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        con.close()


def _untouched(path: Path, fn: Any) -> Any:
    """``fn()`` must raise; the file's bytes stay the same and no -wal/-shm is left beside it."""
    before = _sha(path)
    try:
        fn()
    except Exception:
        if _sha(path) != before:
            raise Wrong(f"a refused open changed {path.name}") from None
        left = [p.name for p in path.parent.glob(path.name + "-*")]
        if left:
            raise Wrong(f"a refused open left {left}") from None
        raise
    raise Wrong("accepted")


def _fill(db: str | Path, budget: int = 6, seed: int = 0, task: Any = None, name: str | None = None) -> Any:
    from nasbook import Search
    from nasbook.tasks import DigitsTable

    return Search(task or DigitsTable(), strategy="random", budget=budget, seed=seed, storage=str(db),
                  name=name).run(progress="none")


def _frames(kb: Any) -> dict[str, Any]:
    s = kb.searches.drop(columns=[c for c in kb.searches.columns if "time" in c or c in ("created", "updated")],
                         errors="ignore")
    t = kb.trials()[["search", "arch_id", "value"]].sort_values(["search", "arch_id"]).reset_index(drop=True)
    recs = [(r.name, r.n_trials) for r in kb.storage.list_searches()]
    return {"searches": s.reset_index(drop=True), "trials": t, "list": recs, "tasks": kb.tasks.reset_index(drop=True)}


def _same_frames(a: dict[str, Any], b: dict[str, Any]) -> str:
    for k in a:
        x, y = a[k], b[k]
        if hasattr(x, "equals"):
            if not x.equals(y):
                raise Wrong(f"{k} differ:\n{x.head(3)}\n{y.head(3)}")
        else:
            same(x, y, k)
    return f"same {sorted(a)} ({len(a['trials'])} trials)"


# --------------------------------------------------------------------------------------------------- bad

def part_bad(workdir: Path) -> None:
    import numpy as np

    from nasbook import KnowledgeBase
    from nasbook.tasks import DigitsTable, MNIST1DTable

    B = "bad"
    text = workdir / "notes.db"
    text.write_text("these are my notes, not a database\n" * 20)
    check(B, "a text file named .db", lambda: _untouched(text, lambda: KnowledgeBase(text)), "refused",
          ("notes.db", "not a SQLite"))
    good = workdir / "good.db"
    _fill(good).close()
    trunc = workdir / "truncated.db"
    trunc.write_bytes(good.read_bytes()[:3000])
    check(B, "a truncated nasbook file (first 3000 bytes)", lambda: _untouched(trunc, lambda: KnowledgeBase(trunc).trials()),
          "refused", ("truncated.db",))
    foreign = workdir / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    con.execute("INSERT INTO invoices VALUES (1, 9.5)")
    con.commit()
    con.close()
    check(B, "another program's SQLite file", lambda: _untouched(foreign, lambda: KnowledgeBase(foreign)), "refused",
          ("foreign.db", "invoices", "not a nasbook"))
    check(B, "another program's SQLite file: no nasbook index added", lambda: same(_indexes(foreign), set(), "indexes"))
    check(B, "another program's SQLite file with create=False", lambda: _untouched(foreign, lambda: KnowledgeBase(foreign, create=False)),
          "refused", ("invoices",))
    newer = workdir / "newer.db"
    newer.write_bytes(good.read_bytes())
    con = sqlite3.connect(newer)
    con.execute(f"DROP INDEX IF EXISTS {INDEX}")
    con.execute("UPDATE nasbook_meta SET value='999' WHERE key='schema_version'")
    con.commit()
    con.close()
    check(B, "a file of a newer schema (schema_version 999)", lambda: _untouched(newer, lambda: KnowledgeBase(newer)), "refused",
          ("newer.db", "999", "upgrade"))
    check(B, "a newer file: no index added by the refused open", lambda: same(INDEX in _indexes(newer), False, "index"))
    bogus = workdir / "bogus.db"
    bogus.write_bytes(good.read_bytes())
    con = sqlite3.connect(bogus)
    con.execute("UPDATE nasbook_meta SET value='v2-beta' WHERE key='schema_version'")
    con.commit()
    con.close()
    check(B, "a file whose schema_version is not a number ('v2-beta')", lambda: _untouched(bogus, lambda: KnowledgeBase(bogus)),
          "refused", ("bogus.db", "v2-beta"))
    check(B, "postgresql:// on a closed port", lambda: KnowledgeBase("postgresql+psycopg://u:secret@127.0.0.1:1/nasbook"),
          "refused", ("127.0.0.1", "port"))
    check(B, "the closed-port error hides the password", lambda: _no_secret(KnowledgeBase, "postgresql+psycopg://u:secret@127.0.0.1:1/nasbook"))
    check(B, "a mistyped scheme 'postgersql://'", lambda: KnowledgeBase("postgersql://u@localhost/db"), "refused",
          ("postgersql", "sqlite"))
    check(B, "a mistyped scheme 'sqlite:/x.db' (one slash)", lambda: KnowledgeBase("sqlite:/x.db"), "either", ("sqlite",))
    check(B, "a missing file with create=False", lambda: KnowledgeBase(workdir / "missing.db", create=False), "refused",
          ("missing.db",))
    check(B, "a missing folder", lambda: KnowledgeBase(workdir / "no" / "such" / "dir.db"), "refused", ("dir.db",))
    check(B, "a folder given as the file", lambda: KnowledgeBase(workdir), "refused", (str(workdir.name),))
    check(B, "KnowledgeBase(42)", lambda: KnowledgeBase(42), "refused", ("path_or_url", "42", "int"))
    kb = KnowledgeBase(good)
    digits, mnist = DigitsTable(), MNIST1DTable()
    a_m = mnist.space.sample(np.random.default_rng(0))
    a_d = digits.space.sample(np.random.default_rng(0))
    check(B, "similar(an architecture of a space the base never saw)", lambda: kb.similar(a_m, k=3), "refused", ("space",))
    check(B, "warm_start(a space the base never saw)", lambda: _no_trials_param(lambda: _empty_or_refused(kb.warm_start(mnist.space, n=3))),
          "either", ("space=", mnist.space.space_id))
    check(B, "similar_tasks(a task without meta-features, never recorded)", lambda: kb.similar_tasks(mnist), "refused",
          ("meta",))
    check(B, "similar_tasks('no-such-task')", lambda: kb.similar_tasks("no-such-task"), "refused", ("no-such-task",))
    check(B, "similar(a, k=-1)", lambda: kb.similar(a_d, k=-1), "refused", ("k", "-1"))
    check(B, "similar(a, k='3')", lambda: kb.similar(a_d, k="3"), "refused", ("k", "'3'"))
    check(B, "similar('an id string')", lambda: kb.similar(a_d.id, k=3), "refused", ("arch",))
    check(B, "warm_start(space, n=0)", lambda: kb.warm_start(digits.space, n=0), "either", ("n", "0"))
    check(B, "warm_start(space, n=-2)", lambda: kb.warm_start(digits.space, n=-2), "refused", ("n", "-2"))
    check(B, "warm_start('not a space')", lambda: kb.warm_start("digits", n=2), "refused", ("space",))
    check(B, "add_task_meta(task, meta_features={'x': 'text'})", lambda: kb.add_task_meta(digits, {"x": "text"}), "either", ("x",))
    kb.close()
    check(B, "the good file still opens after all of the above", lambda: KnowledgeBase(good).trials().shape[0])


def _no_secret(cls: Any, url: str) -> str:
    try:
        cls(url)
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        if "secret" in str(exc):
            raise Wrong(f"password in the message: {exc}") from None
        return "hidden"
    raise Wrong("accepted")


def _empty_or_refused(ws: Any) -> Any:
    if len(ws):
        raise Wrong(f"{len(ws)} warm starts for a space the base has no trials of")
    return ws


# --------------------------------------------------------------------------------------------------- index

def _old_store(path: Path) -> None:
    code = ("from nasbook import Search; from nasbook.tasks import DigitsTable;"
            f"Search(DigitsTable(), strategy='random', budget=8, seed=3, storage={str(path)!r}, name='old').run(progress='none')")
    env = dict(os.environ, PYTHONPATH=str(OLD), OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True, timeout=300,
                   cwd=str(OLD))


def _open_elsewhere(path: Path) -> str:
    """Open ``path`` in a subprocess (as root, which ignores file modes, it opens: the refusal for other users
    is docs/search-loop.md's, tested in tests/storage); its answer or its error."""
    code = ("import sys; from nasbook import KnowledgeBase\n"
            "try:\n kb = KnowledgeBase(sys.argv[1]); print('OPEN', len(kb.searches), sorted(r.name for r in kb.storage.list_searches()))\n"
            "except Exception as e:\n print('ERR', type(e).__name__, str(e).replace(chr(10), ' '))\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).resolve().parent.parent), HOME="/tmp")
    p = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, timeout=120,
                       cwd="/tmp")
    return (p.stdout.strip() or p.stderr.strip()[-300:])


def _read_only_answer(path: Path, expect: str) -> str:
    out = _open_elsewhere(path)
    if out.startswith("OPEN"):
        same(out, expect, "answer")
        return out
    if out.startswith("ERR StorageError") and "read-only" in out and "nothing was changed" in out:
        return out[:200]  # docs/search-loop.md: refused at once, saying so
    raise Wrong(out[:300])


def part_index(workdir: Path) -> None:
    import shutil

    from nasbook import KnowledgeBase

    Q = "index"
    new = workdir / "new.db"
    _fill(new, budget=5, name="new").close()
    check(Q, "a store made now has the index", lambda: same(INDEX in _indexes(new), True, "index"))
    ref = KnowledgeBase(new)
    want = f"OPEN {len(ref.searches)} {sorted(r.name for r in ref.storage.list_searches())}"
    ref.close()
    os.chmod(workdir, 0o777)
    ro = workdir / "ro.db"
    shutil.copy(new, ro)
    os.chmod(ro, 0o444)
    check(Q, "a chmod 444 file (another process): opens with the same answers or refused saying read-only",
          lambda: _read_only_answer(ro, want))
    check(Q, "the chmod 444 file's bytes are unchanged", lambda: same(_sha(ro), _sha(new), "sha256"))
    rodir = workdir / "rodir"
    rodir.mkdir()
    shutil.copy(new, rodir / "s.db")
    os.chmod(rodir / "s.db", 0o666)
    os.chmod(rodir, 0o555)
    check(Q, "a file in a read-only folder (another process): opens or refused saying read-only",
          lambda: _read_only_answer(rodir / "s.db", want))
    os.chmod(rodir, 0o755)
    if OLD is None:
        return
    old = workdir / "old.db"
    _old_store(old)
    check(Q, "a store made by 90bed0a lacks the index", lambda: same(INDEX in _indexes(old), False, "index"))
    olds = workdir / "old-copy.db"
    shutil.copy(old, olds)
    uri = f"sqlite:///file:{olds}?mode=ro&uri=true"
    check(Q, "an old store opened through a mode=ro URI: same frames as opened writable",
          lambda: _same_frames(_frames(KnowledgeBase(uri)), _frames(KnowledgeBase(old))))
    check(Q, "after opening it, the old store has the index", lambda: same(INDEX in _indexes(old), True, "index"))
    check(Q, "the mode=ro open left the old copy without the index", lambda: same(INDEX in _indexes(olds), False, "index"))
    old2 = workdir / "old2.db"
    _old_store(old2)
    before = _frames_of_old(old2)
    check(Q, "an old store: kb.searches, trials, tasks, list_searches as the old build gave them",
          lambda: _same_frames(before, _frames(KnowledgeBase(old2))))
    ro_old = workdir / "old-ro.db"
    _old_store(ro_old)
    os.chmod(ro_old, 0o444)
    check(Q, "an old store, chmod 444 (another process): opens or refused saying read-only; bytes unchanged",
          lambda: _keep(ro_old, lambda: _open_elsewhere(ro_old), "OPEN 1 ['old']"))
    check(Q, "an old store, chmod 444: no index added by the open", lambda: same(INDEX in _indexes(ro_old), False, "index"))
    check(Q, "an old store: a search resumed on it adds trials", lambda: _resumed_old(old2))


def _keep(path: Path, fn: Any, want: str) -> Any:
    before = _sha(path)
    out = fn()
    same(_sha(path), before, "sha256")
    if out.startswith("OPEN"):
        same(out, want, "answer")
    elif not ("read-only" in out and out.startswith("ERR StorageError")):
        raise Wrong(out[:300])
    return out[:200]


def _frames_of_old(path: Path) -> dict[str, Any]:
    """The frames the old build gives, computed by a subprocess on that build."""
    import pickle

    out = path.with_suffix(".frames.pkl")
    code = (f"import pickle, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r});"
            "import outside_probe13 as p; from nasbook import KnowledgeBase;"
            f"pickle.dump(p._frames(KnowledgeBase({str(path)!r})), open({str(out)!r}, 'wb'))")
    env = dict(os.environ, PYTHONPATH=str(OLD), OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True, timeout=300, cwd=str(OLD))
    with open(out, "rb") as fh:
        return dict(pickle.load(fh))


def _resumed_old(path: Path) -> str:
    from nasbook import load_search

    s = load_search("old", storage=str(path), budget=10)
    s.run(progress="none")
    same(s.n_trials, 10, "trials")
    return "10 trials"


# --------------------------------------------------------------------------------------------------- trips

def _reprs(kb: Any, says: tuple[str, ...]) -> str:
    r, html = repr(kb), kb._repr_html_()
    if not r or len(r) > 2000 or not html or "Traceback" in html:
        raise Wrong(f"repr {r[:200]!r} html {html[:200]!r}")
    missing = [w for w in says if w.lower() not in (r + html).lower()]
    if missing:
        raise Wrong(f"reprs lack {missing}: {r[:200]!r}")
    return r[:160]


def part_trips(workdir: Path) -> None:
    import numpy as np

    from nasbook import KnowledgeBase
    from nasbook.tasks import DigitsTable

    T = "trips"
    d = DigitsTable()
    a = d.space.sample(np.random.default_rng(1))
    fresh = KnowledgeBase(workdir / "fresh.db")
    check(T, "fresh base: reprs", lambda: _reprs(fresh, ("0",)))
    check(T, "fresh base: similar -> an empty frame", lambda: same(len(fresh.similar(a, k=3)), 0, "rows"), "either", ("space",))
    check(T, "fresh base: warm_start refused naming its space= (it has no trials= parameter)",
          lambda: _no_trials_param(lambda: fresh.warm_start(d.space, n=3)), "refused", ("space=", d.space.space_id))
    check(T, "fresh base: similar_tasks(digits)", lambda: fresh.similar_tasks(d), "either", ("meta",))
    check(T, "fresh base: export/import round trip", lambda: same(
        KnowledgeBase.import_(fresh.export(workdir / "fresh.parquet")).trials().shape[0], 0, "rows"))
    one = KnowledgeBase(workdir / "one.db")
    rows = [{"arch": a.spec, "value": 0.8}]
    check(T, "ingest one trial", lambda: one.ingest(rows, task=d, space=d.space, name="one"))
    check(T, "one-trial base: trials() gives it back", lambda: same(
        (one.trials()["arch_id"].tolist(), one.trials()["value"].tolist()), ([a.id], [0.8]), "trial"))
    check(T, "one-trial base: similar(a) leaves a out -> 0 rows", lambda: same(len(one.similar(a, k=3)), 0, "rows"))
    b = d.space.sample(np.random.default_rng(2))
    check(T, "one-trial base: similar(another arch) -> the one trial", lambda: same(
        one.similar(b, k=3)["arch_id"].tolist(), [a.id], "ids"))
    check(T, "one-trial base: warm_start(n=5) -> that one", lambda: same([x.id for x, _ in one.warm_start(d.space, n=5)], [a.id], "ids"))
    check(T, "one-trial base: reprs", lambda: _reprs(one, ("1",)))
    check(T, "one-trial base: similar_tasks(digits)", lambda: one.similar_tasks(d), "either", ("digits-table",))
    filled_db = workdir / "filled.db"
    s = _fill(filled_db, budget=8, seed=5, name="f")
    kb = KnowledgeBase(filled_db)
    check(T, "filled base: reprs name the search count", lambda: _reprs(kb, ("1",)))
    check(T, "filled base: ingest the search's frame into a new base: same values",
          lambda: _reingest(s, d, workdir))
    check(T, "filled base: similar(best arch, k=3): 3 others, nearest first", lambda: _others(kb, s.best.arch))
    check(T, "filled base: warm_start(n=3) is the 3 best", lambda: _warm_best(kb, d))
    path = check(T, "filled base: export", lambda: kb.export(workdir / "filled.parquet"))
    if path is not None:
        check(T, "export/import: same trials, searches, similar", lambda: _round(kb, KnowledgeBase.import_(path), s.best.arch))
        check(T, "import_ into an existing file refuses or adds", lambda: KnowledgeBase.import_(path, into=str(filled_db)), "either",
              ("into",))
    check(T, "two processes open one new file at once; both see one store", lambda: _two_processes(workdir))


def _others(kb: Any, a: Any) -> str:
    df = kb.similar(a, k=3)
    same(len(df), 3, "rows")
    if a.id in set(df["arch_id"]) or list(df["distance"]) != sorted(df["distance"]):
        raise Wrong(f"{df[['arch_id', 'distance']]}")
    return f"{len(df)} rows"


def _no_trials_param(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:
        if "(trials=" in str(exc):
            raise Wrong(f"names a trials= parameter the method lacks: {exc}") from None
        raise


def _warm_best(kb: Any, d: Any) -> str:
    ws = kb.warm_start(d.space, n=3, diversify=False)
    t = kb.trials().sort_values("value", ascending=False)
    same(sorted(x.id for x, _ in ws), sorted(t["arch_id"].head(3)), "warm starts vs the 3 best")
    return "the 3 best"


def _reingest(s: Any, d: Any, workdir: Path) -> str:
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(workdir / "re.db")
    df = s.to_dataframe()
    kb.ingest(df, task=d, space=s.space, name="again")
    got = kb.trials().set_index("arch_id")["value"].sort_index()
    want = df.set_index("arch_id")["value"].sort_index() if "arch_id" in df else None
    if want is not None:
        same(got.round(12).tolist(), want.round(12).tolist(), "values")
    return f"{len(got)} trials"


def _round(a: Any, b: Any, arch: Any) -> str:
    x = a.trials()[["arch_id", "value"]].sort_values("arch_id").reset_index(drop=True)
    y = b.trials()[["arch_id", "value"]].sort_values("arch_id").reset_index(drop=True)
    if not x.equals(y):
        raise Wrong("trials differ")
    same(list(a.searches["name"]) if "name" in a.searches else None, list(b.searches["name"]) if "name" in b.searches else None, "names")
    same(a.similar(arch, k=3)["arch_id"].tolist(), b.similar(arch, k=3)["arch_id"].tolist(), "similar")
    return f"{len(x)} trials"


def _two_processes(workdir: Path) -> str:
    db = workdir / "shared.db"
    code = ("import sys; from nasbook import KnowledgeBase, Search; from nasbook.tasks import DigitsTable\n"
            "kb = KnowledgeBase(sys.argv[1])\n"
            "Search(DigitsTable(), strategy='random', budget=3, seed=int(sys.argv[2]), storage=sys.argv[1], name='p'+sys.argv[2]).run(progress='none')\n"
            "print(len(KnowledgeBase(sys.argv[1]).storage.list_searches()))\n")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), str(i)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_o, e) in zip(procs, outs):
        if p.returncode:
            raise Wrong(e.strip().splitlines()[-1][:300])
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(db)
    same(sorted(r.name for r in kb.storage.list_searches()), ["p1", "p2"], "searches")
    same(kb.trials().shape[0], 6, "trials")
    same(INDEX in _indexes(db), True, "index")
    return "2 searches, 6 trials"


def main() -> None:
    global QUICK, OLD
    from _common import probe_args, run_probe

    argv = sys.argv[1:]
    QUICK = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    if "--old" in argv:
        i = argv.index("--old")
        OLD = argv[i + 1]
        del argv[i:i + 2]
    args, parts, _, workdir = probe_args((__doc__ or "") + "\n--quick: as the default (the smoke test passes it)\n"
                                         "--old DIR: a checkout of an older build (git archive 90bed0a)", PARTS,
                                         range(0, 1), "the probe (its checks are not random)", "nasbook-probe13-", argv)
    run_probe(RESULTS, args, parts, workdir, {"bad": part_bad, "index": part_index, "trips": part_trips})


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
