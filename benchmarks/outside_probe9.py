"""Outside-evaluator probe 9: storage as a user gives it, executors as a user configures them, the live progress
widget and the reprs in odd states.

Written from README.md, docs/executors.md and the docstrings (``help(nasbook.Search)``'s ``storage`` / ``name`` /
``executor``, ``help(nasbook.load_search)``, ``help(nasbook.storage.open_storage)``, ``help(nasbook.KnowledgeBase)``,
``help(nasbook.executors.DaskExecutor)``, ``help(nasbook.Search.run)``'s ``progress``), as an evaluator who has
not seen the code would try them; the areas probes 1-7 barely touched. Each check runs one call and is
classified as in probe 5 (``benchmarks/outside_probe5.py``):

``ok``      what a user should get: an answer (and where a check states the answer, that answer), or a one-line
            ``NasbookError`` naming the parameter (``refused``); ``either`` accepts both;
``defect``  anything else (a wrong outcome or answer, a raw error, a message spanning lines or missing a word);
``known``   a defect judged out of scope here, listed in ``KNOWN`` with a one-line reason.

Parts (all by default; ``--parts storage,widget``):

``storage``   storage paths of every documented form (relative, absolute, ``pathlib``, ``sqlite:///`` relative and
              absolute, ``~``, spaces and unicode in the file name, the default ``nasbook.db``), and what should be
              refused: a folder, a file that is not a database, another program's SQLite file, a path in a
              missing folder, a read-only SQLite URI, bad types; ``load_search`` of missing files and names;
              search names (unicode, empty, blank, 1000 characters, quotes and SQL, duplicates); a failed open
              changes nothing stored; a ``Storage`` the user owns is not closed by ``search.close()``.
``postgres``  a throwaway PostgreSQL server (``nasbook.testing._postgres``, as the tests start one): a search and
              ``load_search`` over a URL; a wrong port, a missing database, an unknown role and a wrong password
              (a role with scram-sha-256 authentication) refused quickly with one line that never shows the password.
``executors`` ``executor=`` strings and bad values; ``DaskExecutor`` options out of range; a ``distributed.Client``
              and a scheduler address of a cluster the user owns (still running after ``run()`` / ``close()``);
              a closed client; an address nobody answers; ``DaskExecutor(n_workers=1)`` closes its own cluster.
``widget``    ``run(progress=...)`` in a script (``"widget"``, ``"auto"``, ``"bar"``: progress visible, no widget
              markup or tracebacks on the terminal); ``_repr_html_`` / ``_repr_mimebundle_`` of Search, Predictor
              and KnowledgeBase fresh, empty, failed-trials-only, closed, read-only and overtaken by another object.
``scale``     a 10,000-trial NAS-Bench-Graph search: the size and time of its repr, HTML, and the knowledge base's.

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe9.py --json bench-results/probe9.json
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import Wrong, make_check, same

PARTS = ("storage", "postgres", "executors", "widget", "scale")
SEEDS = range(990, 991)  # one seed: the checks are not random (--seeds is accepted as the other probes take it)
RESULTS: dict[str, dict[str, Any]] = {}
#: checks judged out of scope, with the reason (a check listed here that passes is still ``ok``)
KNOWN: dict[str, str] = {}

check = make_check(RESULTS, KNOWN)


def _digits() -> Any:
    from nasbook.tasks import DigitsTable

    return DigitsTable()


def _run(storage: Any, name: str | None = None, budget: int = 3, **kw: Any) -> Any:
    from nasbook import Search

    s = Search(_digits(), budget=budget, seed=0, storage=storage, name=name, **kw)
    s.run(progress="none")
    return s


def _roundtrip(storage: Any, load_as: Any, name: str) -> str:
    """A 3-trial search stored at ``storage`` loads back from ``load_as`` with its 3 trials."""
    from nasbook import load_search

    s = _run(storage, name)
    s.close()
    back = load_search(name, load_as)
    try:
        same(back.n_trials, 3, "trials loaded back")
        same(back.name, name, "name")
        same([t.arch.id for t in back.trials], [t.arch.id for t in s.trials], "architectures")
    finally:
        back.close()
    return f"{name!r:.40}: 3 trials back"


def _unchanged(path: Path, fn: Any) -> Any:
    """``fn()`` must raise; the file at ``path`` keeps its bytes (a failed open changes nothing stored)."""
    before = path.read_bytes() if path.is_file() else None
    try:
        fn()
    except Exception:
        after = path.read_bytes() if path.is_file() else None
        if after != before:
            raise Wrong(f"{path.name} changed by a refused open ({len(before or b'')} -> {len(after or b'')} bytes)") from None
        raise
    raise Wrong("accepted")


def part_storage(workdir: Path) -> None:
    import sqlite3

    from nasbook import KnowledgeBase, Search, load_search
    from nasbook.storage import open_storage

    Q = "storage"
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    old_cwd, old_home = os.getcwd(), os.environ.get("HOME")
    os.chdir(workdir)
    os.environ["HOME"] = str(home)
    try:
        check(Q, "relative path 'rel.db': stored in the working folder, loads back",
              lambda: _roundtrip("rel.db", str(workdir / "rel.db"), "rel") + _exists(workdir / "rel.db"))
        check(Q, "absolute path: loads back", lambda: _roundtrip(str(workdir / "abs.db"), str(workdir / "abs.db"), "abs"))
        check(Q, "pathlib.Path: loads back from the str", lambda: _roundtrip(workdir / "pl.db", str(workdir / "pl.db"), "pl"))
        check(Q, "'sqlite:///rel2.db' (relative URL) is the file rel2.db", lambda: _roundtrip("sqlite:///rel2.db", "rel2.db", "u1") + _exists(workdir / "rel2.db"))
        check(Q, "'sqlite:////abs/u.db' (absolute URL) is the file", lambda: _roundtrip(f"sqlite:///{workdir / 'u.db'}", str(workdir / "u.db"), "u2"))
        check(Q, "'~/t.db' is $HOME/t.db (no folder named ~)",
              lambda: _roundtrip("~/t.db", str(home / "t.db"), "tilde") + _exists(home / "t.db") + _absent(workdir / "~"))
        check(Q, "Path('~/p.db') is $HOME/p.db", lambda: _roundtrip(Path("~/p.db"), str(home / "p.db"), "tildep") + _exists(home / "p.db"))
        check(Q, "load_search('~/t.db') finds $HOME/t.db", lambda: _roundtrip(str(home / "t2.db"), "~/t2.db", "tilde2"))
        check(Q, "KnowledgeBase('~/t.db') lists its search", lambda: _kb_lists("~/t.db", "tilde"))
        check(Q, "a file name with spaces and unicode 'mes données ß.db'", lambda: _roundtrip("mes données ß.db", str(workdir / "mes données ß.db"), "sp"))
        check(Q, "storage omitted: nasbook.db in the working folder", lambda: _roundtrip(None, "nasbook.db", "dflt") + _exists(workdir / "nasbook.db"))
        (workdir / "afolder").mkdir(exist_ok=True)
        check(Q, "storage=a folder", lambda: Search(_digits(), budget=2, storage=str(workdir / "afolder")), "refused", ("storage", "afolder"))
        check(Q, "load_search(storage=a folder)", lambda: load_search("x", str(workdir / "afolder")), "refused", ("afolder",))
        txt = workdir / "notes.txt"
        txt.write_text("my notes, not a database\n" * 40)
        check(Q, "storage=a text file: refused, the file unchanged",
              lambda: _unchanged(txt, lambda: Search(_digits(), budget=2, storage=str(txt))), "refused", ("notes.txt",))
        check(Q, "load_search(storage=a text file): refused, unchanged",
              lambda: _unchanged(txt, lambda: load_search("x", str(txt))), "refused", ("notes.txt",))
        check(Q, "KnowledgeBase(a text file): refused, unchanged", lambda: _unchanged(txt, lambda: KnowledgeBase(str(txt))), "refused", ("notes.txt",))
        other = workdir / "other_app.db"
        con = sqlite3.connect(other)
        con.execute("create table customers (id integer primary key, name text)")
        con.execute("insert into customers values (1, 'ada')")
        con.commit()
        con.close()
        check(Q, "storage=another program's SQLite file: refused or shared, its table intact",
              lambda: _other_app(other), "either", ("other_app.db",))
        check(Q, "storage in a missing folder 'no/such/dir/x.db': made or refused naming it",
              lambda: _run(str(workdir / "no" / "such" / "dir" / "x.db"), "deep") and "made", "either", ("no/such/dir",))
        check(Q, "load_search from a missing file: refused, no file made",
              lambda: _unchanged(workdir / "missing.db", lambda: load_search("x", str(workdir / "missing.db"))), "refused", ("missing.db",))
        check(Q, "load_search of a missing name: refused, names the searches there",
              lambda: load_search("nope", str(workdir / "abs.db")), "refused", ("nope", "abs"))
        check(Q, "load_search(name=None)", lambda: load_search(None, str(workdir / "abs.db")), "refused", ("name",))
        check(Q, "load_search(name=3)", lambda: load_search(3, str(workdir / "abs.db")), "refused", ("name",))
        check(Q, "read-only SQLite URI (mode=ro): load_search reads it",
              lambda: _load_n(f"sqlite:///file:{workdir / 'abs.db'}?mode=ro&uri=true", "abs", 3))
        check(Q, "read-only SQLite URI: a new search refused, one line",
              lambda: _run(f"sqlite:///file:{workdir / 'abs.db'}?mode=ro&uri=true", "ro-new"), "refused", ("read",))
        for bad, says in ((123, ("storage", "123")), ("", ("storage",)), ("   ", ("storage",)), (b"x.db", ("storage",)),
                          (["a.db"], ("storage",)), ("mysql://u@localhost/db", ("mysql",)), ("nosuchdialect://x/y", ("nosuchdialect",)),
                          ("sqlite://", ("storage",))):
            check(Q, f"storage={bad!r}", lambda b=bad: Search(_digits(), budget=2, storage=b), "either" if bad == "sqlite://" else "refused", says)
        check(Q, "open_storage(':memory:') twice: two stores", lambda: _two_memory(open_storage))
        check(Q, "load_search(name, ':memory:'): refused, says a memory store holds nothing", lambda: load_search("x", ":memory:"),
              "refused", ("x",))
        names = workdir / "names.db"
        for nm in ("données-ß-🚀 東京", "x'; DROP TABLE searches;--", 'quote"s and \\ back', "a" * 255, "non\u00a0breaking space"):
            check(Q, f"name {nm!r:.40}: stored and loaded back", lambda n=nm: _roundtrip(str(names), str(names), n))
        for nm, says in (("", ("name",)), ("   ", ("name",)), (3, ("name",)), ("a" * 1000, ("name", "255", "1000")), ("tab\tinside", ("name", "tab"))):
            check(Q, f"name={nm!r}", lambda n=nm: Search(_digits(), budget=2, storage=str(names), name=n), "refused", says)
        check(Q, "a duplicate name: refused, naming it, the stored search unchanged",
              lambda: _dup(names), "refused", ("données",))
        check(Q, "KnowledgeBase lists every named search", lambda: _kb_count(str(names), 5))
        check(Q, "nasbook list --storage STORE shows the unicode name", lambda: _cli_list(names, "données-ß-🚀 東京"))
        check(Q, "name='line\\nbreak': refused, or listed on one line by nasbook list",
              lambda: _line_break(names), "either", ("name",))
        check(Q, "a refused Search (bad strategy) on an existing store adds no search",
              lambda: _unchanged(names, lambda: Search(_digits(), strategy="nope", budget=2, storage=str(names), name="new")), "refused", ("strategy",))
        check(Q, "KnowledgeBase(missing file, create=False): refused, no file made",
              lambda: _unchanged(workdir / "kbmissing.db", lambda: KnowledgeBase(str(workdir / "kbmissing.db"), create=False)), "refused", ("kbmissing.db",))
        check(Q, "KnowledgeBase(a path in a missing folder)", lambda: KnowledgeBase(str(workdir / "nofolder" / "kb.db")), "refused", ("nofolder",))
        check(Q, "load_search(budget below what was spent): refused, the stored budget unchanged",
              lambda: _lower_budget(str(workdir / "abs.db")), "refused", ("budget",))
        for argv, rc, says in ((["list", "--storage", str(txt)], (1, 2), "notes.txt"), (["show", "abs", "--storage", str(workdir / "gone.db")], (2,), "gone.db"),
                               (["show", "nope", "--storage", str(workdir / "abs.db")], (2,), "nope"), (["list", "--storage", "   "], (2,), "storage")):
            check(Q, f"nasbook {' '.join(a if len(a) < 30 else '...' + a[-12:] for a in argv)}: exit {rc}, one line, no traceback",
                  lambda a=argv, r=rc, w=says: _cli_refused(a, r, w, workdir))
        check(Q, "a Storage the user opened is not closed by search.close()", lambda: _own_storage(open_storage, workdir))
        check(Q, "a Storage the user opened is not closed by load_search(...).close()", lambda: _own_storage_loaded(open_storage, workdir))
        check(Q, "two searches in one Storage object: both load back", lambda: _two_in_one(open_storage, workdir))
    finally:
        os.chdir(old_cwd)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home


def _exists(p: Path) -> str:
    if not p.is_file():
        raise Wrong(f"{p} not made (files there: {sorted(x.name for x in p.parent.iterdir())[:10]})")
    return f"; {p.name} there"


def _absent(p: Path) -> str:
    if p.exists():
        raise Wrong(f"{p} made")
    return ""


def _kb_lists(path: str, name: str) -> str:
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(path, create=False)
    try:
        names = list(kb.searches["search"])
    finally:
        kb.close()
    if name not in names:
        raise Wrong(f"{name!r} not in {names}")
    return str(names)


def _kb_count(path: str, n: int) -> str:
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(path, create=False)
    try:
        got = len(kb.searches)
    finally:
        kb.close()
    same(got, n, "searches listed")
    return f"{got} searches"


def _load_n(storage: str, name: str, n: int) -> str:
    from nasbook import load_search

    s = load_search(name, storage)
    try:
        same(s.n_trials, n, "trials")
        return repr(s)
    finally:
        s.close()


def _other_app(path: Path) -> str:
    import sqlite3

    try:
        _run(str(path), "in-other")
        outcome = "shared"
    finally:
        con = sqlite3.connect(path)
        rows = con.execute("select * from customers").fetchall()
        con.close()
        same(rows, [(1, "ada")], "the other program's rows")
    return outcome


def _two_memory(open_storage: Any) -> str:
    a, b = open_storage(":memory:"), open_storage(":memory:")
    a.create_search("only-in-a", {"mode": "max"})
    same(b.search_names(), [], "the second :memory: store's searches")
    a.close()
    b.close()
    return "separate"


def _dup(path: Path) -> Any:
    from nasbook import Search, load_search

    name = "données-ß-🚀 東京"
    before = load_search(name, str(path))
    n0, cfg0 = before.n_trials, before.budget
    before.close()
    try:
        Search(_digits(), budget=7, seed=1, storage=str(path), name=name)
    finally:
        after = load_search(name, str(path))
        same((after.n_trials, after.budget), (n0, cfg0), "the stored search after a refused duplicate")
        after.close()


def _cli_list(path: Path, name: str) -> str:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    p = subprocess.run([sys.executable, "-m", "nasbook", "list", "--storage", str(path)], capture_output=True, text=True, timeout=120, env=env)
    if p.returncode != 0 or name not in p.stdout:
        raise Wrong(f"rc {p.returncode}: {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
    return f"{len(p.stdout.splitlines())} lines"


def _line_break(path: Path) -> str:
    from nasbook import Search

    Search(_digits(), budget=2, storage=str(path), name="line\nbreak").close()
    p = subprocess.run([sys.executable, "-m", "nasbook", "list", "--storage", str(path)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    rows = [ln for ln in p.stdout.splitlines() if "line" in ln or "break" in ln]
    if len(rows) != 1:
        raise Wrong(f"nasbook list shows the name on {len(rows)} lines: {rows}")
    return rows[0]


def _lower_budget(path: str) -> Any:
    from nasbook import load_search

    try:
        load_search("abs", path, budget=1)
    finally:
        s = load_search("abs", path)
        same((s.budget.trials, s.n_trials), (3, 3), "the stored budget and trials after a refused load_search")
        s.close()


def _cli_refused(argv: list[str], rcs: tuple[int, ...], says: str, workdir: Path) -> str:
    p = subprocess.run([sys.executable, "-m", "nasbook", *argv], capture_output=True, text=True, timeout=120, cwd=workdir,
                       env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    err = p.stderr.strip()
    if p.returncode not in rcs or "Traceback" in err or says not in err or len(err.splitlines()) > 2:
        raise Wrong(f"rc {p.returncode}, stderr {err[-400:]!r}")
    if "gone.db" in " ".join(argv) and (workdir / "gone.db").exists():
        raise Wrong("nasbook show made the missing file")
    return f"rc {p.returncode}: {err[:120]}"


def _own_storage_loaded(open_storage: Any, workdir: Path) -> str:
    from nasbook import load_search

    st = open_storage(str(workdir / "own.db"))
    try:
        s = load_search("own1", st)
        s.close()
        same(sorted(st.search_names()), ["own1", "own2"], "the user's Storage after a loaded search's close()")
    finally:
        st.close()
    return "still open"


def _own_storage(open_storage: Any, workdir: Path) -> str:
    st = open_storage(str(workdir / "own.db"))
    s = _run(st, "own1")
    s.close()
    try:
        same(sorted(st.search_names()), ["own1"], "the user's Storage after search.close()")
        _run(st, "own2").close()
    except Wrong:
        raise
    except Exception as exc:
        raise Wrong(f"the user's Storage is unusable after search.close(): {type(exc).__name__}: {exc}") from None
    finally:
        st.close()
    return "still open"


def _two_in_one(open_storage: Any, workdir: Path) -> str:
    from nasbook import load_search

    st = open_storage(str(workdir / "shared.db"))
    a, b = _run(st, "a"), _run(st, "b", budget=4)
    same(sorted(st.search_names()), ["a", "b"], "names")
    a.close()
    b.close()
    st.close()
    got = [load_search(n, str(workdir / "shared.db")) for n in ("a", "b")]
    same([g.n_trials for g in got], [3, 4], "trials")
    for g in got:
        g.close()
    return "a: 3, b: 4"


def _pg_hba_password(url: str, role: str, password: str) -> str:
    """A role that must give its password (scram-sha-256) on the throwaway server, owning a database of its own;
    returns the URL to that database with the password."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database, autocommit=True) as con:
        con.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        con.execute(f"CREATE DATABASE {role}_db OWNER {role}")
        hba = con.execute("SHOW hba_file").fetchone()[0]
        lines = con.execute("SELECT pg_read_file(%s)", (hba,)).fetchone()[0]
        new = f"host all {role} 127.0.0.1/32 scram-sha-256\n" + lines
        con.execute("CREATE TEMP TABLE hba_lines (l text)")
        with con.cursor().copy("COPY hba_lines FROM STDIN") as cp:
            for ln in new.splitlines():
                cp.write_row((ln,))
        con.execute(f"COPY hba_lines TO '{hba}'")
        con.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)  # the server reloads its configuration (no other thread involved)
    return u.set(username=role, password=password, database=f"{role}_db").render_as_string(hide_password=False)


def _quick_refusal(fn: Any, secret: str | None = None, within_s: float = 15.0) -> Any:
    t0 = time.perf_counter()
    try:
        fn()
    except Exception as exc:
        took = time.perf_counter() - t0
        if secret and secret in str(exc):
            raise Wrong(f"the message shows the password: {str(exc)[:200]}") from None
        if took > within_s:
            raise Wrong(f"refused after {took:.1f} s (more than {within_s} s): {str(exc)[:200]}") from None
        raise
    raise Wrong("accepted")


def part_postgres(workdir: Path) -> None:
    from sqlalchemy.engine import make_url

    from nasbook import KnowledgeBase, Search, load_search
    from nasbook.testing._postgres import find_postgres, fresh_database, postgres_server

    Q = "postgres"
    if find_postgres() is None:
        check(Q, "a PostgreSQL server to probe", lambda: (_ for _ in ()).throw(Wrong("no PostgreSQL binaries")))
        return
    with postgres_server() as server:
        db = fresh_database(server)
        check(Q, "a search over a postgresql+psycopg URL loads back", lambda: _roundtrip(db, db, "pg"))
        check(Q, "the same URL without '+psycopg' ('postgresql://')", lambda: _load_n(db.replace("+psycopg", ""), "pg", 3))
        check(Q, "KnowledgeBase(URL) lists the search", lambda: _kb_count(db, 1))
        u = make_url(db)
        wrong_port = u.set(port=1).render_as_string(hide_password=False)
        check(Q, "a wrong port: StorageError quickly, naming the server", lambda: _quick_refusal(lambda: Search(_digits(), budget=2, storage=wrong_port)),
              "refused", ("127.0.0.1",))
        nodb = u.set(database="nosuchdb").render_as_string(hide_password=False)
        check(Q, "a missing database: refused, naming it", lambda: _quick_refusal(lambda: Search(_digits(), budget=2, storage=nodb)), "refused", ("nosuchdb",))
        check(Q, "load_search on a missing database: refused", lambda: _quick_refusal(lambda: load_search("pg", nodb)), "refused", ("nosuchdb",))
        norole = u.set(username="nosuchrole").render_as_string(hide_password=False)
        check(Q, "an unknown role: refused, naming it", lambda: _quick_refusal(lambda: Search(_digits(), budget=2, storage=norole)), "refused", ("nosuchrole",))
        secret = "S3cretPassw0rd"
        good = check(Q, "a role with a password (scram-sha-256): set up", lambda: _pg_hba_password(db, "alice", secret))
        if good:
            check(Q, "the right password: a search loads back", lambda: _roundtrip(good, good, "alice-pg"))
            bad = make_url(good).set(password="wrong-" + secret).render_as_string(hide_password=False)
            check(Q, "a wrong password: refused quickly, the password not shown",
                  lambda: _quick_refusal(lambda: Search(_digits(), budget=2, storage=bad), secret), "refused", ("password", "alice"))
            check(Q, "a wrong password: load_search refused, nothing changed", lambda: _quick_refusal(lambda: load_search("pg", bad), secret),
                  "refused", ("password",))
            check(Q, "a wrong password: KnowledgeBase refused", lambda: _quick_refusal(lambda: KnowledgeBase(bad), secret), "refused", ("password",))
            check(Q, "the store after refused opens: still its 1 search", lambda: _kb_count(good, 1))
            gu = make_url(good)  # (URL.set(password=None) keeps the password: None there means unchanged)
            nopw = f"{gu.drivername}://{gu.username}@{gu.host}:{gu.port}/{gu.database}"
            check(Q, "no password given to a role that needs one: refused", lambda: _quick_refusal(lambda: Search(_digits(), budget=2, storage=nopw)),
                  "refused", ("password",))
            check(Q, "repr of a search over a URL with a password hides it", lambda: _no_secret(good, secret))


def _no_secret(url: str, secret: str) -> str:
    from nasbook import load_search

    s = load_search("alice-pg", url)
    try:
        b = s._repr_mimebundle_()
        texts = [repr(s), b["text/plain"], b.get("text/html", ""), str(s.storage.label)]
    finally:
        s.close()
    if any(secret in t for t in texts):
        raise Wrong("the password shows in a repr")
    return "hidden"


def part_executors(workdir: Path) -> None:
    from nasbook import Search
    from nasbook.executors import DaskExecutor

    Q = "executors"
    check(Q, "executor='local' runs", lambda: _run(":memory:", executor="local").n_trials)
    check(Q, "executor=None runs in process", lambda: _run(":memory:", executor=None).n_trials, "either", ("executor",))
    for bad, says in (("nope", ("executor", "local", "nope")), ("LOCAL", ("executor",)), (3, ("executor",)), (object(), ("executor",)),
                      ("tcp//127.0.0.1:8786", ("executor",))):
        check(Q, f"executor={bad!r:.30}", lambda b=bad: Search(_digits(), budget=2, storage=":memory:", executor=b),
              "either" if bad == "LOCAL" else "refused", says)
    for kw, says in (({"n_workers": 0}, ("n_workers",)), ({"n_workers": -1}, ("n_workers",)), ({"n_workers": 2.5}, ("n_workers",)),
                     ({"n_workers": "2"}, ("n_workers",)), ({"n_workers": True}, ("n_workers",)), ({"torch_threads": -1}, ("torch_threads",)),
                     ({"connect_timeout_s": 0}, ("connect_timeout_s",)), ({"connect_timeout_s": float("nan")}, ("connect_timeout_s",)),
                     ({"no_workers_timeout_s": -1}, ("no_workers_timeout_s",)), ({"allowed_failures": -1}, ("allowed_failures",)),
                     ({"memory_limit": "lots"}, ("memory_limit",)), ({"security": "yes"}, ("security",))):
        check(Q, f"DaskExecutor(**{kw})", lambda k=kw: DaskExecutor(**k), "refused", says)
    check(Q, "DaskExecutor(client=3)", lambda: DaskExecutor(client=3), "refused", ("client",))
    check(Q, "an address nobody answers: ExecutorError within connect_timeout_s",
          lambda: _quick_refusal(lambda: _run(":memory:", executor=DaskExecutor("tcp://127.0.0.1:1", connect_timeout_s=2)), within_s=20),
          "refused", ("127.0.0.1:1",))
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    client = Client(cluster)
    try:
        check(Q, "the user's Client: DaskExecutor(client, memory_limit='1GiB') refused", lambda: DaskExecutor(client, memory_limit="1GiB"),
              "refused", ("memory_limit",))
        check(Q, "executor=the user's Client: runs, the client and cluster still up after run() and close()",
              lambda: _user_cluster(client, cluster, client))
        check(Q, "executor=the user's scheduler address: runs, the cluster still up after close()",
              lambda: _user_cluster(cluster.scheduler_address, cluster, client))
        check(Q, "DaskExecutor(the user's Client) shared by two searches, executor.close() leaves the client",
              lambda: _shared_executor(DaskExecutor(client), cluster, client))
        check(Q, "one DaskExecutor(the user's Client) given to two searches started at once: the second refused or both run",
              lambda: _two_at_once(DaskExecutor(client)), "either", ("executor", "one search at a time"))
        check(Q, "executor=the user's Client given to two searches started at once: both run", lambda: _two_at_once(client))
        check(Q, "memory_limit with a scheduler address: refused", lambda: DaskExecutor(cluster.scheduler_address, memory_limit="1GiB"),
              "refused", ("memory_limit",))
    finally:
        client.close()
        cluster.close()
    check(Q, "one LocalExecutor() given to two searches started at once: the second refused or both run",
          lambda: _two_at_once(__import__("nasbook.executors", fromlist=["LocalExecutor"]).LocalExecutor()), "either",
          ("executor", "one search at a time"))
    check(Q, "executor=a LocalCluster object (not a Client): runs or refused naming executor",
          lambda: _cluster_object(LocalCluster), "either", ("executor", "Client"))
    check(Q, "executor='127.0.0.1:1' (an address without tcp://)", lambda: Search(_digits(), budget=2, storage=":memory:", executor="127.0.0.1:1"),
          "either", ("executor",))
    check(Q, "trial_timeout_s=0.3 with executor='local': trials of 6 epochs of 0.25 s FAIL, timed out (or refused)",
          lambda: _local_timeout(), "either", ("trial_timeout_s",))
    gone_cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    gone = Client(gone_cluster)
    gone_cluster.close()
    check(Q, "a Client whose cluster was closed: refused quickly (ExecutorError), the search resumable",
          lambda: _quick_refusal(lambda: _run(":memory:", executor=DaskExecutor(gone, connect_timeout_s=3, no_workers_timeout_s=5)), within_s=40),
          "refused", ("scheduler",))
    gone.close()
    closed = Client(LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None))
    closed_cluster = closed.cluster
    closed.close()
    closed_cluster.close()
    check(Q, "a closed Client: refused, saying it is closed", lambda: _quick_refusal(lambda: _run(":memory:", executor=closed)), "refused", ("closed",))
    ex = DaskExecutor(n_workers=1)
    check(Q, "DaskExecutor(n_workers=1): runs, close() shuts the cluster it started", lambda: _own_cluster(ex))
    check(Q, "the same DaskExecutor after a search closed it: a second search runs (a new cluster) or is refused clearly",
          lambda: _run(":memory:", budget=2, executor=ex).n_trials, "either", ("closed",))
    ex.close()
    check(Q, "DaskExecutor(n_workers=1) shared in turn: closing the first search while the second runs leaves its cluster",
          lambda: _close_under(DaskExecutor(n_workers=1)))


def _close_under(ex: Any) -> str:
    from nasbook import Search
    from nasbook.space import ChainSpace
    from nasbook.testing import ToyTask

    space = ChainSpace(kind="mlp")
    a = Search(space, ToyTask(space), budget=3, seed=0, storage=":memory:", name="a", executor=ex).run(progress="none")
    b = Search(space, ToyTask(space, epochs=4, epoch_s=0.2), budget=6, seed=1, storage=":memory:", name="b", executor=ex)
    b.start(progress="none")
    hung = False
    try:
        deadline = time.monotonic() + 30
        while not b.running and time.monotonic() < deadline:  # b's trials are on the workers
            time.sleep(0.01)
        a.close()
        b.wait(timeout_s=45)
        if b._thread is not None and b._thread.is_alive():
            hung = True
            raise Wrong(f"the second search still waits 45 s after the first one's close() ({b.n_trials} of 6 trials)")
        same([t.state.value for t in b.trials], ["complete"] * 6, "the second search's trials")
        return "b ran to its end"
    finally:
        if not hung:  # (a hung run is left to its daemon thread: close() would wait for it forever)
            b.close()
            ex.close()


def _two_at_once(ex: Any) -> str:
    from nasbook import Search
    from nasbook.space import ChainSpace
    from nasbook.testing import ToyTask

    space = ChainSpace(kind="mlp")
    a = Search(space, ToyTask(space, epochs=3, epoch_s=0.05), budget=20, seed=0, storage=":memory:", name="first", executor=ex)
    b = Search(space, ToyTask(space, epochs=3, epoch_s=0.05), budget=4, seed=1, storage=":memory:", name="second", executor=ex)
    a.start(progress="none")
    hung = False  # a hung run is left to its daemon thread: stop() and close() would wait for it forever
    try:
        deadline = time.monotonic() + 30
        while not a.running and a.n_trials == 0 and time.monotonic() < deadline:  # a's run holds the executor
            time.sleep(0.01)
        b.start(progress="none")
        b.wait(timeout_s=30)
        if b._thread is not None and b._thread.is_alive():
            hung = True
            raise Wrong(f"the second search still waits after 30 s ({b.n_trials} trials): the two runs took each other's results")
        a.wait(timeout_s=30)
        if a._thread is not None and a._thread.is_alive():
            hung = True
            raise Wrong(f"the first search still waits after 30 s ({a.n_trials} of 20 trials)")
        same((a.n_trials, b.n_trials), (20, 4), "trials of the two searches")
        return "both ran"
    finally:
        if not hung:
            a.stop()


def _cluster_object(LocalCluster: Any) -> str:
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        s = _run(":memory:", budget=2, executor=cluster)
        s.close()
        if cluster.status.name != "running":
            raise Wrong(f"the user's cluster is {cluster.status.name} after search.close()")
        return "ran; cluster running"
    finally:
        cluster.close()


def _local_timeout() -> str:
    from nasbook import Search
    from nasbook.space import ChainSpace
    from nasbook.testing import ToyTask

    space = ChainSpace(kind="mlp")
    t0 = time.perf_counter()
    s = Search(space, ToyTask(space, epochs=6, epoch_s=0.25), budget=2, seed=0, storage=":memory:", executor="local",
               trial_timeout_s=0.3).run(progress="none")
    took = time.perf_counter() - t0
    states = [(t.state.value, t.reason) for t in s.trials]
    if any(st != "failed" or "trial_timeout_s" not in (r or "") for st, r in states):
        raise Wrong(f"the limit was not applied: {states} in {took:.1f} s (each trial 1.5 s)")
    return f"{states[0]}, {took:.1f} s for both"


def _user_cluster(executor: Any, cluster: Any, client: Any) -> str:
    s = _run(":memory:", budget=4, executor=executor)
    same(s.n_trials, 4, "trials")
    s.close()
    if client.status != "running":
        raise Wrong(f"the user's client is {client.status} after search.close()")
    n = len(cluster.scheduler_info["workers"])
    if n != 1:
        raise Wrong(f"the user's cluster has {n} workers after search.close()")
    same(client.submit(sum, [1, 2]).result(timeout=30), 3, "a task on the user's client after close()")
    return "client and cluster up"


def _shared_executor(ex: Any, cluster: Any, client: Any) -> str:
    a = _run(":memory:", name="a", budget=3, executor=ex)
    b = _run(":memory:", name="b", budget=3, executor=ex)
    same((a.n_trials, b.n_trials), (3, 3), "trials")
    a.close()
    b.close()
    ex.close()
    same(client.submit(sum, [2, 2]).result(timeout=30), 4, "a task on the user's client after executor.close()")
    return "client up"


def _own_cluster(ex: Any) -> str:
    s = _run(":memory:", budget=3, executor=ex)
    same(s.n_trials, 3, "trials")
    c = ex.client
    s.close()
    status = getattr(c, "status", None) if c is not None else "none"
    if status not in ("closed", "none", None):
        raise Wrong(f"nasbook's own cluster's client is {status} after search.close()")
    return f"client {status}"


def part_widget(workdir: Path) -> None:
    from nasbook import Search

    Q = "widget"
    for mode in ("widget", "auto", "bar"):
        check(Q, f"a script's run(progress={mode!r}): progress visible, no markup or traceback", lambda m=mode: _script(workdir, m))
        check(Q, f"a script's start(progress={mode!r}).wait(): progress visible, no markup or traceback",
              lambda m=mode: _script(workdir, m, background=True))
    for mode in ("widget", "bar"):
        check(Q, f"a callback stops the run, progress={mode!r} in a script: the last line says interrupted",
              lambda m=mode: _script(workdir, m, "stopper", stop=True))
    check(Q, "run(progress='nope')", lambda: _run(":memory:").run(progress="nope"), "refused", ("progress", "nope"))
    check(Q, "run(progress=1)", lambda: _run(":memory:").run(progress=1), "either", ("progress",))
    fresh = Search(_digits(), budget=5, seed=0, storage=":memory:", name="fresh")
    check(Q, "Search fresh (no trial): repr, text and HTML", lambda: _reprs(fresh, ("fresh",)))
    fresh.close()
    check(Q, "Search closed before any trial: reprs", lambda: _reprs(fresh, ("fresh",)))
    failing = _failing_search()
    check(Q, "Search with failed trials only: reprs name the failure", lambda: _reprs(failing, ("failed",), html_says=("always fails",)))
    failing.close()
    done = _run(str(workdir / "w.db"), "done")
    check(Q, "Search done: reprs", lambda: _reprs(done, ("done",)))
    done.close()
    check(Q, "Search done then closed: reprs", lambda: _reprs(done, ("done",)))
    check(Q, "Search overtaken by a load_search object that ran on: reprs of both", lambda: _overtaken(workdir))
    check(Q, "Search loaded read-only (a strategy not registered here): reprs say read-only", lambda: _read_only(workdir))
    evil = Search(_digits(), budget=2, seed=0, storage=":memory:", name="<img src=x onerror=alert(1)>")
    check(Q, "a search named '<img src=x onerror=...>': HTML escapes it", lambda: _escaped(evil))
    check(Q, "run(progress='widget') of that search in a script: no markup", lambda: _script(workdir, "widget", "<img src=x onerror=alert(1)>"))
    check(Q, "start(progress='widget') in a script, then wait(): summary lines, no markup", lambda: _script(workdir, "widget", "bg", background=True))
    check(Q, "a 0-trial budget left (run() of a finished search) with progress='widget': one line or none",
          lambda: _script(workdir, "widget", "again", again=True))
    check(Q, "Predictor after a refused fit (one architecture): reprs", lambda: _reprs(_refused_fit(), ("Predictor",)))
    check(Q, "Predictor unfitted: reprs", lambda: _reprs(__import__("nasbook").Predictor(), ("Predictor",)))
    check(Q, "Predictor fitted on 20 Digits trials: reprs", lambda: _reprs(_fitted_predictor(), ("Predictor",)))
    check(Q, "KnowledgeBase empty: reprs", lambda: _reprs(__import__("nasbook").KnowledgeBase(":memory:"), ("KnowledgeBase",)))
    check(Q, "KnowledgeBase over the store: reprs", lambda: _kb_reprs(str(workdir / "w.db")))
    check(Q, "KnowledgeBase closed: reprs", lambda: _kb_closed(str(workdir / "w.db")))


SCRIPT = """
import sys
import nasbook
from nasbook.tasks import DigitsTable
mode, name, how = sys.argv[1:4]
s = nasbook.Search(DigitsTable(), budget=30, seed=0, storage=":memory:", name=name)
if how == "stop":
    s = nasbook.Search(DigitsTable(), budget=30, seed=0, storage=":memory:", name=name,
                       callbacks=[lambda search, trial: search.stop() if trial.number == 4 else None])
    s.run(progress=mode)
    print("END", s.n_trials, s.state.value)
    sys.exit(0)
if how == "bg":
    s.start(progress=mode).wait()
else:
    s.run(progress=mode)
s.extend(10)
s.run(progress=mode)
if how == "again":
    s.run(progress=mode)
s.close()
print("END", s.n_trials)
"""


def _escaped(search: Any) -> str:
    b = search._repr_mimebundle_()
    if "<img src=x" in b["text/html"]:
        raise Wrong("the name is not escaped in the HTML")
    return "escaped"


def _refused_fit() -> Any:
    import nasbook

    s = _run(":memory:", budget=2)
    p = nasbook.Predictor(seed=0)
    try:
        p.fit([s.trials[0].arch], [s.trials[0].value])
    except nasbook.NasbookError:
        pass
    else:
        raise Wrong("a fit on one architecture was accepted")
    return p


def _script(workdir: Path, mode: str, name: str = "scripted", background: bool = False, again: bool = False, stop: bool = False) -> str:
    path = workdir / "script_progress.py"
    path.write_text(SCRIPT)
    how = "stop" if stop else "bg" if background else "again" if again else "run"
    p = subprocess.run([sys.executable, str(path), mode, name, how], capture_output=True, text=True, timeout=300)
    out, err = p.stdout, p.stderr
    both = (out + err).replace(name, "NAME")
    if p.returncode != 0 or "Traceback" in both:
        raise Wrong(f"rc {p.returncode}: {both[-400:]!r}")
    for bad in ("VBox(", "IntProgress(", "<svg", "<div", "<span"):
        if bad in both:
            raise Wrong(f"widget markup on the terminal ({bad!r}, {len(both)} characters): {both[:200]!r}")
    if stop:
        last = [ln for ln in both.splitlines() if ln.startswith("NAME") or "\r" in ln]
        if not last or "interrupted" not in last[-1].split("\r")[-1]:
            raise Wrong(f"the last progress line does not say interrupted: {both[-300:]!r}")
        return last[-1]
    if "40" not in both.replace("END 40", "") or "NAME" not in both:
        raise Wrong(f"the progress does not show the search and its 40 trials: {both[-300:]!r}")
    if len(both) > 5000:
        raise Wrong(f"{len(both)} characters on the terminal for 40 trials")
    return f"{len(out)} + {len(err)} characters"


def _reprs(obj: Any, says: tuple[str, ...], html_says: tuple[str, ...] = ()) -> str:
    t0 = time.perf_counter()
    r = repr(obj)
    b = obj._repr_mimebundle_()
    h = obj._repr_html_() if hasattr(obj, "_repr_html_") else b.get("text/html", "")
    took = time.perf_counter() - t0
    if "\n" in r:
        raise Wrong(f"repr spans lines: {r[:200]!r}")
    text = b.get("text/plain", "")
    if not text or "text/html" not in b:
        raise Wrong(f"bundle keys {sorted(b)}")
    for w in says:
        if w.lower() not in (r + text).lower():
            raise Wrong(f"repr/text lack {w!r}: {r[:200]!r} {text[:300]!r}")
    for w in html_says:
        if w.lower() not in h.lower():
            raise Wrong(f"HTML lacks {w!r}")
    if h and _no_ids(h) != _no_ids(b["text/html"]):
        raise Wrong("_repr_html_ differs from the bundle's text/html")
    return f"repr {len(r)}, text {len(text)}, html {len(b['text/html'])} chars, {took * 1e3:.0f} ms: {r[:100]}"


def _no_ids(html: str) -> str:
    import re

    return re.sub(r"nb-[0-9a-f]{32}", "nb-ID", html)  # each rendering draws its own element ids


def _failing_search() -> Any:
    import warnings

    from nasbook import Search, set_options
    from nasbook.space import ChainSpace
    from nasbook.tasks import Task

    class AlwaysFails(Task):
        metric, mode = "score", "max"

        def __init__(self) -> None:
            self.space_ = ChainSpace(kind="mlp")

        @property
        def space(self) -> Any:
            return self.space_

        def get_params(self) -> dict[str, Any]:
            return {}

        def evaluate(self, arch: Any, **kw: Any) -> Any:
            raise RuntimeError("this task always fails")

    s = Search(AlwaysFails(), budget=4, seed=0, storage=":memory:", name="failing")
    set_options(stop_after_failures=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s.run(progress="none")
    finally:
        set_options(stop_after_failures=3)
    return s


def _overtaken(workdir: Path) -> str:
    from nasbook import load_search

    store = str(workdir / "over.db")
    a = _run(store, "shared", budget=3)
    b = load_search("shared", store, budget=6)
    b.run(progress="none")
    out = [_reprs(a, ("shared",)), _reprs(b, ("shared",))]
    a.extend(2)
    try:
        a.run(progress="none")
        ran = "a ran on"
    except Exception as exc:  # noqa: BLE001 - either outcome is fine; the reprs after it are checked
        ran = f"a refused: {type(exc).__name__}"
    out.append(_reprs(a, ("shared",)))
    a.close()
    b.close()
    return f"{ran}; " + " | ".join(o[:60] for o in out)


def _read_only(workdir: Path) -> str:
    from nasbook import Search, load_search
    from nasbook.strategies import RandomSearch

    class MyRandom(RandomSearch):
        pass

    store = str(workdir / "ro.db")
    Search(_digits(), strategy=MyRandom(seed=0), budget=3, seed=0, storage=store, name="mine").run(progress="none").close()
    s = load_search("mine", store)
    try:
        return _reprs(s, ("read-only",))
    finally:
        s.close()


def _fitted_predictor() -> Any:
    import nasbook

    s = _run(":memory:", budget=20)
    done = [t for t in s.trials if t.value is not None]
    return nasbook.Predictor(seed=0).fit([t.arch for t in done], [t.value for t in done])


def _kb_reprs(path: str) -> str:
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(path)
    try:
        return _reprs(kb, ("KnowledgeBase",))
    finally:
        kb.close()


def _kb_closed(path: str) -> str:
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(path)
    kb.close()
    return _reprs(kb, ("KnowledgeBase",))


def part_scale(workdir: Path) -> None:
    from nasbook import KnowledgeBase, Search
    from nasbook.tasks import NasBenchGraph

    Q = "scale"
    store = str(workdir / "big.db")
    s = check(Q, "a 10,000-trial random search on NAS-Bench-Graph cora",
              lambda: Search(NasBenchGraph("cora"), budget=10_000, seed=0, storage=store, name="big").run(progress="none"))
    if s is None:
        return
    check(Q, "Search at 10^4 trials: repr one line, text <= 20 KB, HTML <= 300 KB, each under 2 s", lambda: _sized(s))
    kb = KnowledgeBase(store)
    check(Q, "KnowledgeBase at 10^4 trials: reprs bounded", lambda: _sized(kb))
    kb.close()
    s.close()
    check(Q, "Search at 10^4 trials, closed: reprs bounded", lambda: _sized(s))


def _sized(obj: Any) -> str:
    t0 = time.perf_counter()
    r = repr(obj)
    t_repr = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = obj._repr_mimebundle_()
    t_bundle = time.perf_counter() - t0
    text, html = b.get("text/plain", ""), b.get("text/html", "")
    if "\n" in r or len(r) > 300:
        raise Wrong(f"repr {len(r)} characters: {r[:200]!r}")
    if len(text) > 20_000 or len(html) > 300_000:
        raise Wrong(f"text {len(text)}, html {len(html)} characters")
    if t_repr > 2 or t_bundle > 2:
        raise Wrong(f"repr {t_repr:.2f} s, bundle {t_bundle:.2f} s")
    return f"repr {len(r)} ({t_repr * 1e3:.0f} ms), text {len(text)}, html {len(html)} chars ({t_bundle * 1e3:.0f} ms)"


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import probe_args, run_probe

    global SEEDS
    args, parts, SEEDS, workdir = probe_args(__doc__, PARTS, SEEDS, "the probe (one seed: its checks are not random)", "nasbook-probe9-")
    run_probe(RESULTS, args, parts, workdir, {"storage": part_storage, "postgres": part_postgres, "executors": part_executors,
                                              "widget": part_widget, "scale": part_scale})


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
