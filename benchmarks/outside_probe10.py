"""Outside-evaluator probe 10: durability and failure injection ("live in the notebook, durable on disk").

Written from the README, ``help(nasbook.load_search)``, ``help(nasbook.Search.extend)``, ``help(nasbook.Budget)``
and the CLI's help, as a demanding user would meet a search that dies. Each check is classified as in probe 5
(``benchmarks/outside_probe5.py``): ``ok`` (what a user should get), ``defect`` (anything else) or ``known`` (a
defect judged out of scope here, listed in ``KNOWN`` with its reason).

Parts (all by default; ``--parts kill,sigint,dask,faults,readers``):

``kill``     a search process (a child script: ``load_search`` if stored, else ``Search(...)``, then ``run()``)
             SIGKILLed at seeded random moments (during set-up: import, store creation, the first trials; and at a
             seeded trial count plus a jitter of 0-20 ms: mid-commit, in a callback, between trials), ``--kills``
             times per scenario, half before and half after ``extend``; strategies random, evolution, bo on
             NAS-Bench-Graph cora and ASHA on the Digits table (epochs budget); on a SQLite file and on a
             throwaway PostgreSQL server (``nasbook.testing._postgres``, as the tests' fixture). After each kill:
             the stored rows numbered 0..n-1 with no duplicate, within the budget (trials, epochs); each resume's
             wait for the store (stale lease); at the end the trials (number, architecture, value, epochs) equal
             an unkilled run with the same seed, ``nasbook list`` and ``KnowledgeBase.searches`` agree with the store.
``sigint``   SIGINT (Ctrl-C) at seeded moments in a script's ``run()``: one clean message, no traceback wall, exit
             status 130 (or killed by SIGINT), and the search resumes to the unkilled result.
``dask``     a dask worker process SIGKILLed from outside at seeded moments while a ``DaskExecutor(n_workers=2)``
             search runs a ToyTask that trains for epochs: each trial completes (retried) or fails naming its
             worker, the search goes on to its budget (trials; epochs), every epoch trained (by a killed attempt
             too: ``trial.lost_attempt_epochs``) is in ``epochs_spent``, and resumes with ``extend``. A trial that
             hangs without reporting (``trial_timeout_s``) fails with a reason and the search goes on.
``faults``   a task whose training raises, returns NaN, or hangs past ``trial_timeout_s`` (local executor): each
             recorded with a reason, the search goes on, and resumes (``load_search`` keeps the timeout).
``readers``  while a child process writes (SQLite and PostgreSQL): ``load_search``, ``KnowledgeBase.searches``,
             ``nasbook list`` (in-process and one ``python -m nasbook list``): no lock error, each snapshot's trials
             numbered 0..n-1, counts never going back.

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    nice -n 5 python benchmarks/outside_probe10.py --kills 4 --seed 1000 --json bench-results/probe10.json
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import Wrong, make_check

PARTS = ("kill", "sigint", "dask", "faults", "readers")
RESULTS: dict[str, dict[str, Any]] = {}
#: checks judged out of scope, with the reason (a check listed here that passes is still ``ok``)
KNOWN: dict[str, str] = {}
FIGURES: dict[str, Any] = {}  # measured numbers (resume waits, kill moments), printed and written with --json

check = make_check(RESULTS, KNOWN)
PY = sys.executable
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                                                        os.environ.get("PYTHONPATH", "")]))
#: per strategy: (budget before extend, budget after it), in trials (epochs for ASHA)
BUDGETS = {"random": (50, 70), "evolution": (50, 70), "bo": (9, 12), "asha": (90, 130)}

CHILD = textwrap.dedent(
    """
    import json, sys, time
    t_start = time.monotonic()
    import nasbook
    from nasbook._errors import StorageNotFoundError

    url, name, strategy, total, seed, sleep_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])

    first = []

    def slow(search, trial):
        if not first:  # the first trial this process committed: how long run() waited for the store and lease
            first.append(1)
            print(json.dumps({"first_trial_s": time.monotonic() - t_run}), flush=True)
        time.sleep(sleep_s)  # widens the windows between commits

    def build():
        from nasbook.tasks import DigitsTable, NasBenchGraph
        if strategy == "asha":
            from nasbook.strategies import ASHA
            return DigitsTable(), ASHA(max_epochs=9), {"epochs": total}
        return NasBenchGraph("cora"), strategy, total

    print(json.dumps({"ready": time.monotonic() - t_start}), flush=True)
    t0 = time.monotonic()
    try:
        s = nasbook.load_search(name, url, callbacks=[slow])
        how = "resumed"
    except (KeyError, StorageNotFoundError):  # not stored yet (a kill during set-up)
        task, strat, budget = build()
        s = nasbook.Search(task, strategy=strat, budget=budget, seed=seed, storage=url, name=name, callbacks=[slow])
        how = "created"
    print(json.dumps({"opened_s": time.monotonic() - t0, "how": how}), flush=True)
    have = s.budget.epochs if strategy == "asha" else s.budget.trials
    if have < total:  # the extend: idempotent across kills (a kill before it is stored extends again)
        s.extend(**({"epochs": total - have} if strategy == "asha" else {"trials": total - have}))
    t_run = time.monotonic()
    s.run(progress="none")
    print(json.dumps({"done": s.n_trials}), flush=True)
    """
)


# -- the store as a reader sees it ------------------------------------------------------------------------
_ENGINES: dict[str, Any] = {}


def _engine(url: str) -> Any:
    import sqlalchemy as sa

    if url not in _ENGINES:
        _ENGINES[url] = sa.create_engine(url if "://" in url else f"sqlite:///{url}")
    return _ENGINES[url]


def rows(url: str, name: str) -> list[Any]:
    """The stored trials of search ``name`` (number, state, arch_id, value, epochs), by number; [] before it exists."""
    import sqlalchemy as sa

    try:
        with _engine(url).connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT t.number, t.state, t.arch_id, t.value, t.epochs, t.reason FROM nasbook_trials t JOIN nasbook_searches s "
                "ON s.id = t.search_id WHERE s.name = :n ORDER BY t.number, t.id"), {"n": name}).all())
    except sa.exc.DBAPIError:
        return []


def contiguous(rs: list[Any], limit: int | None = None, what: str = "") -> str:
    numbers = [r.number for r in rs]
    if numbers != list(range(len(numbers))):
        dup = sorted({n for n in numbers if numbers.count(n) > 1})
        raise Wrong(f"{what}trial numbers not 0..{len(numbers) - 1}: duplicated {dup[:5]}, {numbers[:8]}...{numbers[-5:]}")
    if limit is not None and len(rs) > limit:
        raise Wrong(f"{what}{len(rs)} trials stored, budget {limit}")
    return f"{len(rs)} trials"


def epochs_spent(url: str, name: str, epochs: int | None, what: str = "") -> str:
    """The search's ``epochs_spent`` as ``load_search`` reads it (a promotion trains only the epochs past its
    parent's checkpoint), within ``epochs``."""
    import nasbook

    s = nasbook.load_search(name, url)
    try:
        spent = s.epochs_spent
    finally:
        s.close()
    if epochs is not None and spent > epochs:
        raise Wrong(f"{what}{spent} epochs spent, budget {epochs}")
    return f"{spent} epochs spent"


def cli_list(url: str) -> str:
    from nasbook.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["list", "--storage", url])
    if rc != 0 or err.getvalue().strip():
        raise Wrong(f"nasbook list: exit {rc}, stderr {err.getvalue()[:300]!r}")
    return out.getvalue()


def listed_trials(text: str, name: str) -> tuple[str, int]:
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0] == name:
            return cells[1], int(cells[2])
    raise Wrong(f"nasbook list does not show {name!r}: {text[:300]!r}")


def kb_trials(url: str, name: str) -> tuple[str, int]:
    from nasbook import KnowledgeBase

    kb = KnowledgeBase(url)
    try:
        df = kb.searches
        row = df[df["search"] == name]
        if len(row) != 1:
            raise Wrong(f"kb.searches has {len(row)} rows for {name!r}")
        col = "n_trials" if "n_trials" in df.columns else "trials"
        return str(row["state"].iloc[0]), int(row[col].iloc[0])
    finally:
        kb.close()


# -- kill ------------------------------------------------------------------------------------------------------
def _reference(strategy: str, seed: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """An unkilled run's trials (number, arch id, value, epochs) after the first budget and after the extend."""
    import nasbook
    from nasbook.strategies import ASHA
    from nasbook.tasks import DigitsTable, NasBenchGraph

    b1, b2 = BUDGETS[strategy]
    if strategy == "asha":
        s = nasbook.Search(DigitsTable(), strategy=ASHA(max_epochs=9), budget={"epochs": b1}, seed=seed, storage=":memory:")
    else:
        s = nasbook.Search(NasBenchGraph("cora"), strategy=strategy, budget=b1, seed=seed, storage=":memory:")
    s.run(progress="none")
    first = [(t.number, t.arch.id, t.value, t.epochs or None) for t in s.trials]
    s.extend(**({"epochs": b2 - b1} if strategy == "asha" else {"trials": b2 - b1}))
    s.run(progress="none")
    return first, [(t.number, t.arch.id, t.value, t.epochs or None) for t in s.trials]


def _spawn(script: Path, url: str, name: str, strategy: str, total: int, seed: int) -> subprocess.Popen[str]:
    sleep_s = "0.002" if strategy == "bo" else "0.01"
    return subprocess.Popen([PY, str(script), url, name, strategy, str(total), str(seed), sleep_s], env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _events(out: str) -> list[dict[str, Any]]:
    evs = []
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            evs.append(json.loads(line))
    return evs


def _kill_stage(script: Path, url: str, name: str, strategy: str, total: int, seed: int, kills: int,
                rng: np.random.Generator, log: list[dict[str, Any]], twins: bool = False) -> None:
    """``kills`` children killed at seeded moments, then one run to the end. Raises Wrong on a broken invariant."""
    epochs = total if strategy == "asha" else None
    limit = None if strategy == "asha" else total
    for i in range(kills):
        before = len(rows(url, name))
        kind = str(rng.choice(["setup", "trial"], p=[0.35, 0.65]))
        proc = _spawn(script, url, name, strategy, total, seed)
        at = None
        try:
            if kind == "setup":
                time.sleep(float(rng.uniform(0.05, 1.6)))
            else:
                target = before + int(rng.integers(1, max(2, (total - before) // 2 if limit else 12)))
                deadline = time.monotonic() + 60
                while len(rows(url, name)) < target and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.003)
                time.sleep(float(rng.uniform(0, 0.02)))
            at = len(rows(url, name))
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            out, err = proc.communicate(timeout=60)
        evs = _events(out)
        opened = next((e for e in evs if "opened_s" in e), None)
        first = next((e["first_trial_s"] for e in evs if "first_trial_s" in e), None)
        log.append({"kill": i, "kind": kind, "rows_before": before, "rows_at_kill": len(rows(url, name)),
                    "finished_first": finished and proc.returncode == 0, "opened_s": opened and round(opened["opened_s"], 3),
                    "how": opened and opened["how"], "first_trial_s": first and round(first, 3)})
        if proc.returncode not in (0, -signal.SIGKILL):
            raise Wrong(f"kill {i} ({kind}): the child exited {proc.returncode} before the kill: {err[-600:]}")
        if rows(url, name):  # what a user looking at the store sees of the dead run
            log[-1]["list_state"] = listed_trials(cli_list(url), name)[0]
            log[-1]["kb_state"] = kb_trials(url, name)[0]
        contiguous(rows(url, name), limit, what=f"after kill {i} ({kind}, {at} rows): ")
        if epochs is not None and rows(url, name):
            epochs_spent(url, name, epochs, f"after kill {i} ({kind}, {at} rows): ")
    proc = _spawn(script, url, name, strategy, total, seed)
    if twins:  # a second terminal resumes it too, at the same moment: one runs, the other is refused or finds it done
        twin = _spawn(script, url, name, strategy, total, seed)
        t_out, t_err = twin.communicate(timeout=240)
        out, err = proc.communicate(timeout=240)
        ends = []
        for p, e in ((proc, err), (twin, t_err)):
            lines = [ln for ln in e.splitlines() if ln.strip()]
            ends.append((p.returncode, lines[-1][:200] if lines else ""))
        log.append({"twins (exit, last stderr line)": ends})
        refused = [x for x in ends if x[0] != 0]
        if len(refused) == 2 or any(not (x[1].startswith("nasbook._errors.SearchLockedError: ") and "another process" in x[1])
                                    for x in refused):
            raise Wrong(f"two resumes at once: {ends}; expected one to run and the other refused by the lease (or finding it done)")
        if proc.returncode:
            proc, out, err = twin, t_out, t_err
    else:
        out, err = proc.communicate(timeout=240)
    evs = _events(out)
    opened = next((e for e in evs if "opened_s" in e), None)
    first = next((e["first_trial_s"] for e in evs if "first_trial_s" in e), None)
    log.append({"kill": "none (to the end)", "opened_s": opened and round(opened["opened_s"], 3), "how": opened and opened["how"],
                "first_trial_s": first and round(first, 3)})
    if proc.returncode != 0:
        raise Wrong(f"the final resume exited {proc.returncode}: {err[-800:]}")


def _kill_scenario(workdir: Path, url: str, backend: str, strategy: str, kills: int, seed: int) -> None:
    Q = "kill"
    script = workdir / "child_kill.py"
    script.write_text(CHILD)
    rng = np.random.default_rng([seed, kills, len(backend), len(strategy)])
    name = f"k-{strategy}"
    ref1, ref2 = check(Q, f"{backend} {strategy}: an unkilled reference run (seed {seed})", lambda: _reference(strategy, seed)) or ([], [])
    b1, b2 = BUDGETS[strategy]
    k1 = (kills + 1) // 2
    log: list[dict[str, Any]] = []
    FIGURES[f"{backend} {strategy}"] = log

    def stage(total: int, k: int, ref: list[tuple[Any, ...]], twins: bool = False) -> str:
        _kill_stage(script, url, name, strategy, total, seed, k, rng, log, twins)
        rs = rows(url, name)
        said = contiguous(rs, None if strategy == "asha" else total) + ", " + epochs_spent(url, name, total if strategy == "asha" else None)
        # an epochs budget ends with the next promotion that does not fit stored QUEUED (help(nasbook.Budget))
        while strategy == "asha" and rs and rs[-1].state == "queued":
            rs = rs[:-1]
        bad = [r for r in rs if r.state not in ("complete", "pruned")]
        if bad:
            raise Wrong(f"trials left {[(r.number, r.state) for r in bad][:5]}")
        got = [(r.number, r.arch_id, r.value, r.epochs or None) for r in rs]
        if got != ref:
            diff = next((i for i, (a, b) in enumerate(zip(got, ref)) if a != b), min(len(got), len(ref)))
            raise Wrong(f"differs from the unkilled run at trial {diff}: {got[diff:diff + 1]} vs {ref[diff:diff + 1]} "
                        f"({len(got)} vs {len(ref)} trials)")
        return said

    check(Q, f"{backend} {strategy}: {k1} SIGKILLs then a resume: no trial lost or repeated, budget kept, = unkilled run",
          lambda: stage(b1, k1, ref1))
    twins = strategy == "random"
    check(Q, f"{backend} {strategy}: extend, {kills - k1} SIGKILLs, resume{' twice at once' if twins else ''}: = unkilled run extended",
          lambda: stage(b2, kills - k1, ref2, twins))
    def waited() -> str:
        opens = [e["opened_s"] for e in log if e.get("how") == "resumed" and e.get("opened_s") is not None]
        firsts = [e["first_trial_s"] for e in log if e.get("how") == "resumed" and e.get("first_trial_s") is not None]
        # a stale lease that blocked would wait out its time to live (60 s); on this loaded machine a resume's
        # load_search and its first trial (the strategy replayed, bo's GP fitted) take seconds
        if max(opens + firsts, default=0) > 20.0:
            raise Wrong(f"a resume waited {max(opens + firsts):.1f} s (stale lease?): load_search {opens}, first trial {firsts}")
        return (f"{len(opens)} resumes: load_search longest {max(opens, default=0):.2f} s, run() to the first trial "
                f"longest {max(firsts, default=0):.2f} s")

    check(Q, f"{backend} {strategy}: each resume opens the store at once (no stale lease blocking)", waited)

    def dead_states() -> str:
        seen = [(e["kill"], e.get("list_state"), e.get("kb_state")) for e in log if "list_state" in e]
        if wrong := [x for x in seen if x[1] == "running" or x[2] == "running"]:
            raise Wrong(f"after SIGKILL (kill, nasbook list, kb.searches): {wrong} -- no process runs it")
        return f"{seen}"

    check(Q, f"{backend} {strategy}: after each SIGKILL nasbook list and kb.searches do not say running", dead_states)

    def views() -> str:
        every = rows(url, name)  # nasbook list and kb.searches count every state (their docs)
        rs = [r for r in every if r.state != "queued"]  # a search's n_trials: a QUEUED proposal has not run yet
        state, n = listed_trials(cli_list(url), name)
        if n != len(every) or state != "done":
            raise Wrong(f"nasbook list says {state} {n} trials; the store holds {len(every)}")
        kstate, nk = kb_trials(url, name)
        if nk != len(every) or kstate != "done":
            raise Wrong(f"kb.searches says {kstate} {nk} trials; the store holds {len(every)}")
        import nasbook

        s = nasbook.load_search(name, url)
        try:
            if s.n_trials != len(rs) or str(s.state.value) != "done":
                raise Wrong(f"load_search: {s.n_trials} trials, state {s.state}")
        finally:
            s.close()
        return f"list, kb.searches, load_search: {n} trials, done"

    check(Q, f"{backend} {strategy}: nasbook list, kb.searches and load_search agree with the store", views)


def _backends(workdir: Path, chosen: list[str], stack: contextlib.ExitStack) -> dict[str, Any]:
    """backend name -> a function returning a new empty store URL."""
    out: dict[str, Any] = {}
    counter = iter(range(10**6))
    if "sqlite" in chosen:
        out["sqlite"] = lambda: str(workdir / f"store{next(counter)}.db")
    if "postgresql" in chosen:
        from nasbook.testing._postgres import find_postgres, fresh_database, postgres_server

        bindir = find_postgres()
        if bindir is None:
            print("# PostgreSQL server binaries not found: the postgresql backend is skipped", flush=True)
        else:
            server = stack.enter_context(postgres_server(bindir))
            out["postgresql"] = lambda: fresh_database(server)
    return out


def part_kill(workdir: Path) -> None:
    with contextlib.ExitStack() as stack:
        for backend, fresh in _backends(workdir, ARGS.backends, stack).items():
            for strategy in ARGS.strategies if backend == "sqlite" else [s for s in ARGS.strategies if s in ARGS.pg_strategies]:
                _kill_scenario(workdir, fresh(), backend, strategy, ARGS.kills, ARGS.seed)
        for e in _ENGINES.values():
            e.dispose()
        _ENGINES.clear()


# -- sigint ----------------------------------------------------------------------------------------------------
SIGINT_CHILD = textwrap.dedent(
    """
    import sys, time
    import nasbook
    from nasbook._errors import StorageNotFoundError
    from nasbook.tasks import NasBenchGraph

    def slow(search, trial):
        time.sleep(0.01)

    try:
        s = nasbook.load_search("ctrl-c", sys.argv[1], callbacks=[slow])
    except (KeyError, StorageNotFoundError):
        s = nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=int(sys.argv[2]), seed=11, storage=sys.argv[1],
                           name="ctrl-c", callbacks=[slow])
    print("ready", flush=True)
    s.run(progress="none")
    print("done", s.n_trials, flush=True)
    """
)


def part_sigint(workdir: Path) -> None:
    import nasbook
    from nasbook.tasks import NasBenchGraph

    Q = "sigint"
    script = workdir / "child_sigint.py"
    script.write_text(SIGINT_CHILD)
    path = str(workdir / "sigint.db")
    budget = 400  # ~8 s of run() (its first second or two: the first ask enumerates the space)
    rng = np.random.default_rng([ARGS.seed, 2])
    for i in range(max(2, ARGS.kills)):
        delay = float(rng.uniform(0.0, 4.0))

        def interrupt(delay: float = delay) -> str:
            proc = subprocess.Popen([PY, str(script), path, str(budget)], env=ENV, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE,  # SIGINT as a terminal leaves it (not ignored, as under nohup)
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            try:
                assert proc.stdout is not None
                line = proc.stdout.readline()  # "ready": imported, the search opened (Ctrl-C in imports is Python's)
                time.sleep(delay)
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=60)
            finally:
                proc.kill()
            out = line + out
            if "done" in out:
                return f"finished before the interrupt ({delay:.2f} s)"
            lines = [ln for ln in err.splitlines() if ln.strip()]
            if proc.returncode not in (130, -signal.SIGINT):
                raise Wrong(f"exit status {proc.returncode}; stderr {err[-500:]!r}")
            if "Traceback" in err or len(lines) > 2:
                raise Wrong(f"{len(lines)} lines on stderr (a traceback wall): {lines[0][:80]!r} ... {lines[-1][:160]!r}")
            return f"after {delay:.2f} s: {len(rows(path, 'ctrl-c'))} trials stored; stderr {err.strip()[:160]!r}"

        check(Q, f"Ctrl-C {i} after {delay:.2f} s of run(): one clean message, no traceback wall", interrupt)
        check(Q, f"Ctrl-C {i}: the store holds trials 0..n-1", lambda: contiguous(rows(path, "ctrl-c"), budget))

    def resume() -> str:
        proc = subprocess.run([PY, str(script), path, str(budget)], env=ENV, text=True, capture_output=True, timeout=240)
        if proc.returncode:
            raise Wrong(f"the resume exited {proc.returncode}: {proc.stderr[-500:]}")
        ref = nasbook.Search(NasBenchGraph("cora"), strategy="evolution", budget=budget, seed=11, storage=":memory:").run(progress="none")
        got = [(r.number, r.arch_id) for r in rows(path, "ctrl-c")]
        if got != [(t.number, t.arch.id) for t in ref.trials]:
            raise Wrong(f"{len(got)} trials differ from the uninterrupted run's {len(ref.trials)}")
        return f"{len(got)} trials = the uninterrupted run"

    check(Q, "the interrupted search resumes to the uninterrupted run's trials", resume)


# -- dask ------------------------------------------------------------------------------------------------------
def _toy_classes() -> tuple[Any, Any]:
    from nasbook.space import stable_hash
    from nasbook.tasks import Result
    from nasbook.testing import ToyTask

    class CountingToy(ToyTask):
        """ToyTask that appends one line per epoch trained to ``log`` (all attempts, killed ones included)."""

        def __init__(self, space: Any, log: str = "", **kw: Any):
            super().__init__(space, **kw)
            self.log = log

        def get_params(self) -> dict[str, Any]:
            return {**super().get_params(), "log": self.log}

        def evaluate(self, arch: Any, *, space: Any = None, fidelity: Any = None, report: Any = None) -> Any:
            def counted(epoch: int, **m: Any) -> Any:
                with open(self.log, "a") as fh:
                    fh.write(f"{arch.id} {epoch}\n")
                return None if report is None else report(epoch, **m)

            return super().evaluate(arch, space=space, fidelity=fidelity, report=counted)

    class FaultToy(ToyTask):
        """Some architectures (by a hash of their id) raise, return NaN, or hang; ``report_hang``: the hang reports."""

        def __init__(self, space: Any, report_hang: bool = True, **kw: Any):
            super().__init__(space, **kw)
            self.report_hang = report_hang

        def get_params(self) -> dict[str, Any]:
            return {**super().get_params(), "report_hang": self.report_hang}

        @staticmethod
        def fault(arch_id: str) -> str:
            return ("raise", "nan", "hang", "ok", "ok", "ok", "ok")[int(stable_hash(arch_id, 6), 16) % 7]

        def evaluate(self, arch: Any, *, space: Any = None, fidelity: Any = None, report: Any = None) -> Any:
            kind = self.fault(arch.id)
            if kind == "raise":
                raise RuntimeError(f"injected training failure on {arch.id}")
            if kind == "nan":
                if report is not None:
                    report(0, **{self.metric: float("nan")})
                return Result(float("nan"), epochs=1)
            if kind == "hang":
                from nasbook.tasks import Decision

                for epoch in range(300):  # 30 s: reporting, it stops when told (as nasbook's trainers do)
                    time.sleep(0.1)
                    if self.report_hang and report is not None and report(epoch, **{self.metric: 0.0}) is Decision.STOP:
                        return Result(0.0, epochs=epoch + 1)
                return Result(0.0, epochs=300)
            return super().evaluate(arch, space=space, fidelity=fidelity, report=report)

    return CountingToy, FaultToy


def _worker_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.Process().children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE]


def part_dask(workdir: Path) -> None:
    import threading

    import nasbook
    from nasbook.executors import DaskExecutor
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS

    Q = "dask"
    CountingToy, FaultToy = _toy_classes()
    space = GraphSpace(ops=PROTEINS_OPS)
    rng = np.random.default_rng([ARGS.seed, 3])
    path = str(workdir / "dask.db")
    log = str(workdir / "epochs.log")
    budget = {"trials": 12, "epochs": 50}
    task = CountingToy(space, log=log, epochs=5, epoch_s=0.12)
    killed: list[tuple[float, int]] = []
    with DaskExecutor(n_workers=2) as ex:
        s = nasbook.Search(space, task, strategy="random", budget=budget, seed=5, storage=path, name="dk", executor=ex)
        times = sorted(float(t) for t in rng.uniform(1.0, 6.0, size=max(2, ARGS.kills // 2)))
        stop = threading.Event()

        def killer() -> None:
            t0 = time.monotonic()
            for at in times:
                while time.monotonic() - t0 < at:
                    if stop.wait(0.01):
                        return
                pids = _worker_pids()
                if pids:
                    pid = pids[int(rng.integers(len(pids)))]
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                        killed.append((round(at, 2), pid))

        th = threading.Thread(target=killer, daemon=True)
        th.start()
        t0 = time.monotonic()
        try:
            check(Q, f"random, 12 trials / 50 epochs on 2 workers, {len(times)} workers SIGKILLed at {[round(t, 1) for t in times]} s: run ends",
                  lambda: s.run(progress="none").n_trials)
        finally:
            stop.set()
            th.join()
        FIGURES["dask kills"] = {"killed (s, pid)": killed, "run_s": round(time.monotonic() - t0, 1)}

        def outcome() -> str:
            rs = rows(path, "dk")
            loaded = nasbook.load_search("dk", path)
            try:
                spent, lost = loaded.epochs_spent, sum(getattr(t, "lost_attempt_epochs", 0) for t in loaded.trials)
            finally:
                loaded.close()
            trained = len(Path(log).read_text().splitlines()) if Path(log).exists() else 0
            FIGURES["dask kills"].update({"epochs trained (killed attempts too)": trained, "epochs_spent": spent,
                                          "lost attempts' epochs": lost})
            said = f"{contiguous(rs, 12)}, {spent} epochs spent ({lost} by lost attempts), {trained} trained in all"
            # lost epochs count from the poll that finds the loss: the trials then running may finish past it
            if spent > 50 + lost:
                raise Wrong(f"{said}: over the budget of 50 epochs by more than the lost attempts' epochs")
            # every epoch trained is counted, but one a killed worker trained without sending its report yet
            if not spent <= trained <= spent + len(killed):
                raise Wrong(f"{said}: {trained - spent} epochs trained but not counted in epochs_spent")
            # a trial the budget had no room for is kept QUEUED for extend() (Budget's docstring): the last ones only
            queued = [r.number for r in rs if r.state == "queued"]
            bad = [(r.number, r.state, r.reason) for r in rs if r.state not in ("complete",) and
                   not (r.state == "failed" and r.reason and "worker" in r.reason) and
                   not (r.state == "queued" and r.number >= len(rs) - len(queued))]
            if bad:
                raise Wrong(f"trials neither complete nor failed naming the worker: {bad[:3]}")
            failed = [r.number for r in rs if r.state == "failed"]
            return f"{said}; failed {failed}; queued for extend {queued}"

        check(Q, "each trial complete (retried) or failed naming its worker; trials 0..n-1; every epoch trained "
                 "(lost attempts' too) in epochs_spent; budget kept", outcome)

        def extend() -> str:
            s2 = nasbook.load_search("dk", path, task=task, executor=ex)
            s2.extend(trials=4, epochs=20)
            s2.run(progress="none")
            s2.close()
            return f"{contiguous(rows(path, 'dk'), 16)}, {epochs_spent(path, 'dk', 70)}"

        check(Q, "load_search + extend(trials=4, epochs=20) + run on the same executor: 0..n-1, budget kept", extend)

        hang = FaultToy(space, report_hang=False, epochs=2, epoch_s=0.05)

        def hung() -> str:
            s3 = nasbook.Search(space, hang, strategy="random", budget=8, seed=2, storage=path, name="hang", executor=ex,
                                trial_timeout_s=1.5)
            t0 = time.monotonic()
            s3.run(progress="none")
            took = time.monotonic() - t0
            s3.close()
            rs = rows(path, "hang")
            contiguous(rs, 8)
            hangs = [r for r in rs if FaultToy.fault(r.arch_id) == "hang"]
            wrong = [(r.number, r.state, r.reason) for r in hangs if r.state != "failed" or not r.reason or "timeout" not in r.reason.lower()]
            if wrong or len(rs) != 8:
                raise Wrong(f"{len(rs)} trials; hung trials not failed with a timeout reason: {wrong[:2]}")
            return f"{len(hangs)} hung trials failed by the timeout; run {took:.1f} s; reason {hangs[0].reason[:100] if hangs else ''!r}"

        check(Q, "a trial that hangs without reporting, trial_timeout_s=1.5: fails with a reason, the search goes on", hung)


# -- faults ----------------------------------------------------------------------------------------------------
def part_faults(workdir: Path) -> None:
    import nasbook
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS

    Q = "faults"
    _, FaultToy = _toy_classes()
    space = GraphSpace(ops=PROTEINS_OPS)
    task = FaultToy(space, epochs=3, epoch_s=0.01)
    path = str(workdir / "faults.db")
    words = {"raise": ("injected training failure",), "nan": ("nan",), "hang": ("trial_timeout_s",)}

    def recorded(rs: list[Any]) -> str:
        kinds: dict[str, int] = {}
        for r in rs:
            kind = FaultToy.fault(r.arch_id)
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == "ok" and r.state != "complete":
                raise Wrong(f"trial {r.number} (no fault) is {r.state}: {r.reason}")
            if kind != "ok" and (r.state not in ("failed", "diverged") or not r.reason
                                 or any(w.lower() not in r.reason.lower() for w in words[kind])):
                raise Wrong(f"trial {r.number} ({kind}) stored {r.state} with reason {r.reason!r:.200} (expected words {words[kind]})")
        return f"{kinds}"

    def first() -> str:
        t0 = time.monotonic()
        s = nasbook.Search(space, task, strategy="random", budget=16, seed=3, storage=path, name="faults", trial_timeout_s=0.5)
        s.run(progress="none")
        s.close()
        rs = rows(path, "faults")
        said = contiguous(rs, 16)
        if len(rs) != 16:
            raise Wrong(f"{len(rs)} trials, budget 16: the search stopped")
        return f"{said}; {recorded(rs)}; {time.monotonic() - t0:.1f} s"

    check(Q, "raises / NaN / hangs (trial_timeout_s=0.5): each recorded with a reason, the search goes on", first)

    def resumed() -> str:
        before = rows(path, "faults")
        t0 = time.monotonic()
        s = nasbook.load_search("faults", path, task=task, budget=30)  # trials 26 and 27 hang: the stored timeout stops them
        s.run(progress="none")
        s.close()
        took = time.monotonic() - t0
        rs = rows(path, "faults")
        said = contiguous(rs, 30)
        if len(rs) != 30 or [tuple(r) for r in rs[:16]] != [tuple(r) for r in before]:
            raise Wrong(f"{len(rs)} trials; the first 16 changed: {rs[:16] != before}")
        return f"{said}; {recorded(rs)}; {took:.1f} s"

    check(Q, "load_search(task=..., budget=30) without trial_timeout_s: the stored timeout still stops hangs", resumed)


# -- readers ---------------------------------------------------------------------------------------------------
def part_readers(workdir: Path) -> None:
    import nasbook

    Q = "readers"
    script = workdir / "child_kill.py"
    script.write_text(CHILD)
    with contextlib.ExitStack() as stack:
        for backend, fresh in _backends(workdir, ARGS.backends, stack).items():
            url = fresh()
            proc = _spawn(script, url, "read-me", "random", 300, 21)  # ~5 s of writing
            snaps: list[tuple[str, int]] = []
            errors: list[str] = []
            try:
                t_end = time.monotonic() + 90
                sub = None
                while proc.poll() is None and time.monotonic() < t_end:
                    try:
                        rs = rows(url, "read-me")
                        if not rs:
                            time.sleep(0.02)
                            continue
                        s = nasbook.load_search("read-me", url)
                        numbers = [t.number for t in s.trials]
                        s.close()
                        if numbers != list(range(len(numbers))):
                            errors.append(f"load_search snapshot numbers {numbers[:5]}..{numbers[-3:]}")
                        snaps.append(("load_search", len(numbers)))
                        snaps.append(("list", listed_trials(cli_list(url), "read-me")[1]))
                        snaps.append(("kb.searches", kb_trials(url, "read-me")[1]))
                        if sub is None:
                            sub = subprocess.run([PY, "-m", "nasbook", "list", "--storage", url], env=ENV, text=True,
                                                 capture_output=True, timeout=60)
                            if sub.returncode or sub.stderr.strip():
                                errors.append(f"python -m nasbook list: exit {sub.returncode}: {sub.stderr[-300:]}")
                    except Exception as exc:  # noqa: BLE001 - each reader's error is what the check reports
                        errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
            finally:
                out, err = proc.communicate(timeout=240)

            def judged(snaps: list[tuple[str, int]] = snaps, errors: list[str] = errors, rc: int | None = proc.returncode,
                       err: str = err) -> str:
                if rc != 0:
                    raise Wrong(f"the writer exited {rc}: {err[-400:]}")
                if errors:
                    raise Wrong(f"{len(errors)} reader errors: {errors[:3]}")
                counts = [n for _, n in snaps]
                back = [(snaps[i], snaps[i + 1]) for i in range(len(snaps) - 1) if counts[i + 1] < counts[i]]
                if back:
                    raise Wrong(f"a later snapshot saw fewer trials: {back[:3]}")
                if len(snaps) < 6:
                    raise Wrong(f"only {len(snaps)} snapshots while the writer ran: the readers were blocked?")
                return f"{len(snaps)} snapshots, trials {counts[0]}..{counts[-1]}"

            check(Q, f"{backend}: load_search / nasbook list / kb.searches while a run writes: no error, snapshots consistent", judged)
            check(Q, f"{backend}: the written search afterwards", lambda url=url: contiguous(rows(url, "read-me"), 300))
        for e in _ENGINES.values():
            e.dispose()
        _ENGINES.clear()


ARGS: Any = None


def main() -> None:
    import argparse
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import run_probe

    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    ap.add_argument("--kills", type=int, default=2, help="SIGKILLs per kill scenario, half before the extend (and SIGINTs; default 2)")
    ap.add_argument("--seed", type=int, default=1000, help="seeds the kill moments and the searches (default 1000)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated, of sqlite, postgresql")
    ap.add_argument("--strategies", default="random,evolution,bo,asha", help="the kill part's strategies")
    ap.add_argument("--pg-strategies", default="random,asha",
                    help="of those, the ones also killed on PostgreSQL (default random,asha: the run stays near 5 minutes)")
    ap.add_argument("--json", help="write every check's record here")
    ap.add_argument("--workdir", help="keep the stores and files here (default: a temporary folder, removed)")
    ARGS = ap.parse_args()
    parts = [p.strip() for p in ARGS.parts.split(",") if p.strip()]
    for what, chosen, allowed in (("parts", parts, PARTS), ("backends", ARGS.backends.split(","), ("sqlite", "postgresql")),
                                  ("strategies", ARGS.strategies.split(","), tuple(BUDGETS))):
        if unknown := sorted(set(chosen) - set(allowed)):
            ap.error(f"unknown {what} {unknown}; choose among {', '.join(allowed)}")
    if ARGS.kills < 1:
        ap.error(f"--kills must be >= 1; got {ARGS.kills}")
    ARGS.backends, ARGS.strategies, ARGS.pg_strategies = (ARGS.backends.split(","), ARGS.strategies.split(","),
                                                          ARGS.pg_strategies.split(","))
    workdir = Path(ARGS.workdir) if ARGS.workdir else Path(tempfile.mkdtemp(prefix="nasbook-probe10-"))
    workdir.mkdir(parents=True, exist_ok=True)
    funcs = {"kill": part_kill, "sigint": part_sigint, "dask": part_dask, "faults": part_faults, "readers": part_readers}
    run_probe(RESULTS, ARGS, parts, workdir, funcs, figures=FIGURES)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
