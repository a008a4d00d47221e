"""From what the user typed (a path, ``":memory:"``, a URL) to a SQLAlchemy engine, with errors that say what to do.

A password in a URL never reaches a message: labels are rendered with ``hide_password=True`` and
driver errors pass through :meth:`Target.scrub`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from nasbook._errors import InvalidParameterError, StorageError, StorageNotFoundError
from nasbook.storage import _schema

#: DBAPI driver (SQLAlchemy's name) -> what to pip install for it
_DRIVER_PACKAGES: dict[str, str] = {
    "psycopg": '"psycopg[binary]"',
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "mysqldb": "mysqlclient",
    "pymysql": "pymysql",
    "mysqlconnector": "mysql-connector-python",
    "mariadbconnector": "mariadb",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
}
#: a lighter alternative to suggest where the default driver needs system libraries
_ALTERNATIVES: dict[str, str] = {
    "mysqldb": " (or, without a C compiler: pip install pymysql and use 'mysql+pymysql://...')",
    "psycopg": " (or pip install psycopg2-binary and use 'postgresql+psycopg2://...')",
}
#: seconds to wait for a database server to answer before giving up (``?connect_timeout=N`` in a URL overrides it)
CONNECT_TIMEOUT_S = 10
_TIMEOUT_DRIVERS = frozenset({"psycopg", "psycopg2", "pymysql", "mysqldb"})
_URL_HELP = ("a file path, ':memory:', or a database URL such as 'sqlite:///runs.db', "
             "'postgresql://user@host/db' or 'mysql+pymysql://user@host/db'")


@dataclass(frozen=True)
class Target:
    """Where a Storage lives."""

    url: str  # what SQLAlchemy connects to (may hold a password: never print it)
    label: str  # what messages and reprs print
    path: Path | None  # the SQLite file, if any
    password: str | None

    @property
    def memory(self) -> bool:
        return self.url == "sqlite://"

    def scrub(self, text: str) -> str:
        """``text`` with the URL's password (also URL-quoted) masked, on one line (a driver's message, such as
        libpq's "Is the server running on that host...?" hint, spans lines; errors are one line)."""
        if self.password:
            for secret in {self.password, quote(self.password, safe="")}:
                text = text.replace(secret, "***")
        return " ".join(text.split())


def resolve(storage: Any, *, create: bool) -> Target:
    """Check ``storage`` (a path, ':memory:' or a URL) and say where it lives."""
    if isinstance(storage, os.PathLike):
        storage = os.fspath(storage)
    if not isinstance(storage, str) or not storage.strip():  # "   " would be a file named by blanks
        raise InvalidParameterError(
            f"storage must be a file path, ':memory:', a database URL such as 'sqlite:///runs.db' or "
            f"'postgresql://host/db', or a nasbook Storage; got {storage!r}."
        )
    if storage == ":memory:":
        return Target("sqlite://", ":memory:", None, None)
    if "://" not in storage:
        return _sqlite_file(Path(storage).expanduser(), storage, create)
    try:
        url = make_url(storage)
        url.port  # noqa: B018 - a port that is not a number fails here, not at connect time
    except (sa.exc.ArgumentError, ValueError):
        raise InvalidParameterError(
            f"storage={_mask_raw(storage)!r} is not a usable database URL: it cannot be parsed. Give {_URL_HELP}."
        ) from None
    label = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return Target("sqlite://", ":memory:", None, None)
        if url.query.get("uri") or url.database.startswith("file:"):
            return Target(storage, label, None, None)  # a SQLite URI: taken as given
        target = _sqlite_file(Path(url.database).expanduser(), label, create)
        return Target(url.set(database=str(target.path)).render_as_string(hide_password=False), label, target.path, None)
    return Target(url.render_as_string(hide_password=False), label, None, url.password)


def _mask_raw(text: str) -> str:
    """Mask ``user:password@`` in a string SQLAlchemy could not parse."""
    head, sep, rest = text.partition("://")
    if sep and "@" in rest:
        cred, _, host = rest.rpartition("@")
        if ":" in cred:
            return f"{head}://{cred.split(':', 1)[0]}:***@{host}"
    return text


def _sqlite_file(path: Path, label: str, create: bool) -> Target:
    if path.is_dir():
        raise InvalidParameterError(
            f"storage={label!r} is a directory; give a file path such as {str(path / 'nasbook.db')!r}."
        )
    if not path.exists():
        if not create:
            raise StorageNotFoundError(
                f"storage {label!r} does not exist (no such file: {str(path)!r}); check the path, or create the "
                "search first (nothing was created)."
            )
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise StorageError(
                f"storage {label!r} cannot be created: the folder {str(parent)!r} does not exist. Create it "
                "first (os.makedirs) or give another path."
            )
    return Target(f"sqlite:///{path}", label if "://" in label else str(path), path, None)


def _sqlite_pragmas(dbapi_con: Any, _record: Any) -> None:
    dbapi_con.execute("PRAGMA busy_timeout=10000")  # first: switching to WAL may wait for another opener
    # Switching a new file to WAL needs a moment alone with it. While another process creates the tables
    # SQLite can answer "database is locked" at once, without calling the busy handler (20 processes
    # opening one new file hit it): retry for up to the busy timeout.
    deadline = time.monotonic() + 10.0
    while True:
        try:
            dbapi_con.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + 0.04 * random.random())  # jittered: the openers do not retry in lockstep
    dbapi_con.execute("PRAGMA synchronous=NORMAL")
    dbapi_con.execute("PRAGMA foreign_keys=ON")


def create_engine(target: Target) -> sa.Engine:
    kwargs: dict[str, Any] = {}
    url: str | URL = target.url
    backend = make_url(url).get_backend_name()
    if target.memory:
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    elif backend == "sqlite":
        kwargs = {"connect_args": {"check_same_thread": False}}
    if backend in ("sqlite", "postgresql", "mysql", "mariadb"):
        kwargs |= {"json_serializer": _schema.dumps, "json_deserializer": _schema.loads}
    parsed = make_url(url)
    if (backend in ("postgresql", "mysql", "mariadb") and parsed.get_driver_name() in _TIMEOUT_DRIVERS
            and "connect_timeout" not in parsed.query):
        # an unreachable server fails fast with a clear error instead of hanging on the OS's TCP timeout
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = sa.create_engine(url, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise InvalidParameterError(
            f"storage={target.label!r} is not a usable database URL: SQLAlchemy has no database "
            f"{make_url(url).drivername!r}. Give {_URL_HELP}."
        ) from None
    except ImportError as exc:
        driver = make_url(url).get_driver_name()
        package = _DRIVER_PACKAGES.get(driver)
        what = (f"pip install {package}{_ALTERNATIVES.get(driver, '')}" if package
                else f"install the Python package that provides the {driver!r} driver")
        raise StorageError(
            f"storage {target.label!r} needs the database driver {driver!r}, which is not installed "
            f"({target.scrub(str(exc))}). To use it: {what}."
        ) from None
    except sa.exc.ArgumentError as exc:
        raise InvalidParameterError(
            f"storage={target.label!r} is not a usable database URL: {target.scrub(str(exc))}. Give {_URL_HELP}."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def what_to_do(exc: BaseException) -> str:
    """What a user does about a database error met while a search writes: the disk filled up, or the
    file became read-only (a remount, changed permissions). Nothing committed is lost either way."""
    text = str(exc).lower()
    if "disk is full" in text or "no space left" in text or "diskfull" in text.replace(" ", ""):
        what = "The disk is full: free some space"
    elif "readonly database" in text or "read-only" in text:
        what = "The store became read-only: make it writable again"
    else:
        return ""
    return (f". {what}, then run() the search again (or load_search it): every trial committed so far is kept, "
            "and the trials that were in flight run again.")


def check_writable(path: Path, label: str) -> None:
    """Refuse a SQLite file this process cannot write, saying so (SQLite's own "attempt to write a
    readonly database" came out as a server that did not accept a connection).

    Even reading needs writes: nasbook keeps the file in WAL mode, whose ``-wal`` and ``-shm`` files
    SQLite creates beside it, and a search takes its lease in it. ``os.access`` asks the OS, so a
    read-only mount, another user's file and a folder without write permission all count.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.exists() and not os.access(path, os.W_OK):
        what = f"the file is read-only for this process ({stat.filemode(path.stat().st_mode)}, owner uid {path.stat().st_uid})"
    elif folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        what = (f"its folder {str(folder)!r} is read-only for this process (SQLite writes its journal, "
                f"{path.name}-wal and {path.name}-shm, beside the file)")
    else:
        return
    raise StorageError(
        f"storage {label!r} cannot be used: {what}. nasbook writes to its store even to read it (the journal, "
        "a search's lease); nothing was changed. Copy the file to a folder you can write "
        f"(cp {str(path)!r} ~/copy.db) and open the copy, or fix the permissions."
    )


def mode_writable(path: Path | None) -> bool:
    """False for a SQLite file whose mode has no write bit (chmod 444): a process that may write it anyway
    (root) still opens it without adding to it what only speeds it up (the best-trial index)."""
    try:
        return path is None or not path.exists() or bool(path.stat().st_mode & 0o222)
    except OSError:
        return True


def probe_sqlite_file(path: Path, label: str) -> None:
    """Refuse, without writing a byte, a file that is not SQLite, not nasbook's, or from a newer nasbook.

    Opening read-only first means a foreign database is never switched to WAL mode and a newer
    file is left exactly as it was; the write transaction that creates or migrates checks again.
    """
    check_writable(path, label)
    if not path.exists() or path.stat().st_size == 0:
        return
    # A file without a -wal beside it is open nowhere and fully checkpointed: read it as immutable, so
    # probing a WAL-mode file refused here does not leave new -wal/-shm files next to it
    wal = path.with_name(path.name + "-wal")
    immutable, before = not wal.exists(), _stamp(path)
    try:
        found = _read_meta(path, immutable)
    except sqlite3.Error as first:
        _check_header(path, label)  # only now: see _check_header
        if not immutable or (_stamp(path) == before and not wal.exists()):  # the file itself is damaged
            raise StorageError(f"storage {label!r} cannot be opened as a database: {first}") from None
        # immutable promises that nobody writes the file; another process that began migrating or
        # creating it after the -wal check broke that promise ("database disk image is malformed"):
        # read it again as an ordinary reader, which takes SQLite's locks (its -wal is that writer's)
        try:
            found = _read_meta(path, immutable=False)
        except sqlite3.Error as exc:
            raise StorageError(f"storage {label!r} cannot be opened as a database: {exc}") from None
    if found is None:
        return
    tables, rows = found
    if "nasbook_meta" not in tables:
        raise _schema.foreign_error(label, tables)
    _schema.check_meta(rows, tables, label)


def _check_header(path: Path, label: str) -> None:
    """Refuse a file that does not start as a SQLite database does.

    Called only for a file SQLite failed to read: closing any descriptor of a file drops every POSIX
    lock this process holds on it, the SQLite connections' too, so reading the header of a store this
    process has open (a second ``load_search`` of it) let another process take itself for the last
    one open and delete the -wal and -shm files under them: this process's next query failed with
    "disk I/O error" (docs/benchmarks.md, "Outside-evaluator probe 4"). SQLite's own connections
    share their descriptors and never do this.
    """
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise StorageError(
            f"storage {label!r} is not a SQLite database (it starts with {head[:16]!r}); "
            "nasbook will not overwrite it. Give a new file path or a database URL."
        )


def _stamp(path: Path) -> tuple[int, int]:
    """Size and modification time (ns) of ``path``: whether another process wrote it meanwhile."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _read_meta(path: Path, immutable: bool) -> tuple[set[str], dict[str, str]] | None:
    """The table names and ``nasbook_meta`` rows of a SQLite file, read-only (None: no tables)."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    con = sqlite3.connect(f"file:{quote(str(path.resolve()))}?{flags}", uri=True, timeout=10)
    try:
        tables = {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        if "nasbook_meta" not in tables:
            return tables, {}
        return tables, {str(k): str(v) for k, v in con.execute("SELECT key, value FROM nasbook_meta")}
    finally:
        con.close()
