"""A throwaway PostgreSQL server on 127.0.0.1 for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

Nothing is downloaded: it uses the server binaries installed on the machine (Debian's ``postgresql``
package puts them in ``/usr/lib/postgresql/<version>/bin``; ``NASBOOK_PG_BIN`` names another
folder). PostgreSQL refuses to run as root, so as root the server runs as the unprivileged
``postgres`` user (``runuser``), which owns the temporary folder. The server listens only on
127.0.0.1, on a free port, with ``trust`` authentication for local users, and with ``fsync`` off
(a test server loses nothing worth keeping). :func:`fresh_database` makes an empty database per test.

    with postgres_server() as url:    # 'postgresql+psycopg://postgres@127.0.0.1:PORT/postgres'
        db = fresh_database(url)      # another URL, to an empty database of its own
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from nasbook._errors import NasbookError

#: how to install the server where it is missing
INSTALL_HINT = "install Debian's PostgreSQL server (apt-get install postgresql) or set NASBOOK_PG_BIN"


def find_postgres() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest installed version), or None."""
    env = os.environ.get("NASBOOK_PG_BIN")
    candidates = [Path(env)] if env else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)

    def version(p: str) -> tuple[int, ...]:
        part = Path(p).parent.parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit()) or (0,)

    candidates += [Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version, reverse=True)]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise NasbookError("a test PostgreSQL server cannot run as root, and runuser (util-linux) is missing.")
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], what: str, log: Path | None = None) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        tail = (log.read_text(errors="replace")[-1500:] if log is not None and log.exists() else "")
        raise NasbookError(f"the test PostgreSQL server failed to {what} (exit {res.returncode}): "
                           f"{(res.stderr or res.stdout).strip()[-1500:]}\n{tail}")


@contextlib.contextmanager
def postgres_server(bindir: Path | None = None) -> Iterator[str]:
    """Start a throwaway server and yield its URL; stop it and delete its files on exit."""
    bindir = bindir or find_postgres()
    if bindir is None:
        raise NasbookError(f"no PostgreSQL server binaries (initdb, pg_ctl) found: {INSTALL_HINT}.")
    run_as = _runner()
    root = Path(tempfile.mkdtemp(prefix="nasbook-pg-"))
    data, log = root / "data", root / "server.log"
    try:
        if run_as:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(root, entry.pw_uid, entry.pw_gid)
        _run([*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--no-sync"], "initialise")
        for attempt in range(3):
            port = _free_port()
            opts = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=200"
            try:
                _run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60",
                      "start"], "start", log)
                break
            except NasbookError:
                if attempt == 2:
                    raise
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server and return the URL to it."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"nb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True, connect_timeout=10) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
