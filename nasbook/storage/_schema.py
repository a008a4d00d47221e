"""Tables, the on-disk schema version, and the migrations between versions.

Schema versions
---------------
``"1"``  nasbook_meta, nasbook_searches, nasbook_trials (JSON held in TEXT columns).
``"2"``  adds ``nasbook_trials.lineage`` (a JSON list) and the ``nasbook_leases`` table (one
         process at a time per search). JSON columns are declared ``sa.JSON``.
``"3"``  the knowledge base's catalogue: ``nasbook_tasks`` (a stable task key, name, config,
         meta-features, landmarks), ``nasbook_spaces`` (every space seen, by ``space_id``) and, on
         ``nasbook_searches``, ``task_key``, ``space_id`` and ``strategy`` (filled when a search is
         created; the migration fills them from each stored search's config).
``"4"``  per-task aggregates for warm starts, kept as trials are written (:mod:`nasbook.storage._stats`):
         ``nasbook_space_archs`` (every architecture with a finished trial: an integer number and its
         spec), ``nasbook_arch_stats`` (per space, task and architecture: best value both ways, the
         searches that recorded it) and ``nasbook_task_ranks`` (per space and task: a write counter and
         the task's ranks, recomputed on the first read after a write). The migration fills them from
         the stored trials.
``"5"``  ``nasbook_trials.owner``: the lease owner token of the run that wrote a trial's row (RUNNING,
         QUEUED, finished) or took it over to run it again (:func:`nasbook.storage.claim_trials`). A
         run's later writes of that row apply only while it is still its own (a compare-and-set in the
         UPDATE's WHERE), so a run that another process took over never writes over the other's row.
         NULL on rows stored before, or without a run (a knowledge base's copies); nothing to fill.
``"6"``  no new column: task keys follow the identity rule of :func:`nasbook.storage.task_identity`, which
         leaves out the run-only Lightning options (``benchmark``...) that searches stored before they left
         the key hold in ``params["trainer"]``. The migration files such searches, their task rows and
         their aggregates under the key their task has now (:mod:`nasbook.storage._rekey`), so a knowledge
         base counts them as the same task as the same task stored since.

BEST_INDEX: ``ix_nasbook_trials_best`` on ``nasbook_trials (search_id, state, epochs, value)`` is not a schema
version: :func:`init_schema` makes it in a store that lacks it (one pass over the trials, once; not in a file
whose mode has no write bit, which opening leaves as it was even for root), and an older
nasbook still opens such a store, its writes keeping the index as the database keeps every index. Every
search's best by the top-fidelity rule is read from it by seeks (``Storage.list_searches``,
``KnowledgeBase.searches``: :func:`nasbook.storage.search_bests`); without it the answers are the same, slower.

Creating and migrating run in one write transaction (``BEGIN IMMEDIATE`` on SQLite), so processes
opening the same new or old file at once serialise: the first creates or migrates, the others then
find the current schema. Migrations use Alembic's ``Operations`` API programmatically (no
``alembic.ini``, no script directory); ``batch_alter_table`` keeps them portable to SQLite.

A migrated version-1 SQLite file keeps its JSON columns declared ``TEXT``: SQLite's declared type only
sets a column's affinity, TEXT affinity holds JSON text unchanged, and nasbook reads those columns as
text and decodes them itself. Re-declaring them would mean copying the tables with foreign keys
switched off, which SQLite cannot do inside the single transaction that keeps migration race-safe.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from nasbook._errors import StorageError
from nasbook._version import __version__

SCHEMA_VERSION = "6"
MAGIC = "nasbook"
#: the ``nasbook_meta`` key of the store's identity: a random id written when the store is created (or, in a store
#: an older nasbook created, by the first :func:`nasbook.storage._stats.store_id` that asks); a meta row, no new
#: column or table, so that older builds still open the store
STORE_ID = "store_id"


# -- JSON ------------------------------------------------------------------------------------------------
def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays (a task's metrics often are): their plain Python value
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        return obj.item()
    if hasattr(obj, "tolist") and callable(obj.tolist):
        return obj.tolist()
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} {obj!r} cannot be stored as JSON")


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=True, default=_json_default)  # built once: ~2 us a call
try:  # the C encoder itself, built once (JSONEncoder.encode builds one per call: ~40% of a small dict's cost)
    from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
    from json.encoder import encode_basestring_ascii as _ascii

    _C_ENCODE: Any = _c_make_encoder(None, _json_default, _ascii, None, ":", ",", False, False, True)
except ImportError:  # pragma: no cover - a Python without the C accelerator
    _C_ENCODE = None


def dumps(obj: Any) -> str:
    """Compact JSON; NaN and +-inf are written as ``NaN``/``Infinity`` (read back by :func:`loads`).

    Parameters
    ----------
    obj : object
        JSON-able data (dicts, lists, str, numbers, bool, None).

    Returns
    -------
    str
        The JSON text.
    """
    if isinstance(obj, str) or _C_ENCODE is None:
        return _ENCODER.encode(obj)
    try:
        return "".join(_C_ENCODE(obj, 0))
    except RecursionError:
        raise ValueError("Circular reference detected") from None


def loads(text: str | bytes) -> Any:
    """Parse JSON text written by :func:`dumps`, ``NaN`` and ``Infinity`` included.

    Parameters
    ----------
    text : str or bytes
        The JSON text.

    Returns
    -------
    object
        The data.
    """
    return json.loads(text)


class JSONText(TypeDecorator[Any]):
    """JSON kept as text, with NaN/inf: the JSON columns on servers whose native JSON refuses NaN."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else loads(value)


def _json() -> sa.types.TypeEngine[Any]:
    # SQLite: sa.JSON (text on disk; the engine's json_serializer keeps NaN). PostgreSQL and MySQL
    # validate their native JSON and refuse NaN, which metrics and curves may hold: text there.
    return sa.JSON().with_variant(JSONText(), "postgresql", "mysql", "mariadb")


# -- tables ----------------------------------------------------------------------------------------------
metadata = sa.MetaData()
meta = sa.Table(
    "nasbook_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
searches = sa.Table(
    "nasbook_searches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("nasbook_version", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("config", _json(), nullable=False),
    sa.Column("elapsed_s", sa.Float, nullable=False, default=0.0),
    sa.Column("task_key", sa.String(32), nullable=True, index=True),
    sa.Column("space_id", sa.String(64), nullable=True),
    sa.Column("strategy", sa.String(64), nullable=True),
)
trials = sa.Table(
    "nasbook_trials", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("search_id", sa.Integer, sa.ForeignKey("nasbook_searches.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("arch_id", sa.String(64), nullable=False),
    sa.Column("arch", _json(), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("metrics", _json(), nullable=False),
    sa.Column("attrs", _json(), nullable=False),
    sa.Column("epochs", sa.Integer, nullable=True),
    sa.Column("n_told_before", sa.Integer, nullable=False),
    sa.Column("tell_seq", sa.Integer, nullable=True),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("curves", _json(), nullable=False),
    sa.Column("parent", sa.Integer, nullable=True),
    sa.Column("lineage", _json(), nullable=False, server_default=sa.text("'[]'")),
    sa.Column("owner", sa.String(64), nullable=True),  # schema 5: the run that wrote the row (a lease owner token)
    sa.UniqueConstraint("search_id", "number", name="uq_trial_number"),
    # every search's best by the top-fidelity rule by index seeks (nasbook.storage.search_bests): no version
    # of its own, made by init_schema where missing (BEST_INDEX)
    sa.Index("ix_nasbook_trials_best", "search_id", "state", "epochs", "value"),
)
leases = sa.Table(
    "nasbook_leases", metadata,
    sa.Column("search_id", sa.Integer, sa.ForeignKey("nasbook_searches.id"), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)

tasks = sa.Table(
    "nasbook_tasks", metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("config", _json(), nullable=False),
    sa.Column("meta_features", _json(), nullable=True),
    sa.Column("landmarks", _json(), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
spaces = sa.Table(
    "nasbook_spaces", metadata,
    sa.Column("space_id", sa.String(64), primary_key=True),
    sa.Column("config", _json(), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
# schema 4: the warm-start aggregates (filled by nasbook.storage._stats)
space_archs = sa.Table(
    "nasbook_space_archs", metadata,
    sa.Column("no", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("space_id", sa.String(64), nullable=False),
    sa.Column("arch_id", sa.String(64), nullable=False),
    sa.Column("arch", sa.Text, nullable=False),
    sa.UniqueConstraint("space_id", "arch_id", name="uq_space_arch"),
)
arch_stats = sa.Table(
    "nasbook_arch_stats", metadata,
    sa.Column("space_id", sa.String(64), primary_key=True),
    sa.Column("task_key", sa.String(32), primary_key=True),
    sa.Column("arch_id", sa.String(64), primary_key=True),
    sa.Column("vmax", sa.Float, nullable=False),
    sa.Column("vmin", sa.Float, nullable=False),
    sa.Column("searches", sa.Text, nullable=False),
)
task_ranks = sa.Table(
    "nasbook_task_ranks", metadata,
    sa.Column("space_id", sa.String(64), primary_key=True),
    sa.Column("task_key", sa.String(32), primary_key=True),
    sa.Column("changed", sa.Integer, nullable=False),
    sa.Column("ranked", sa.Integer, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("nos", sa.LargeBinary, nullable=True),
    sa.Column("qmax", sa.LargeBinary, nullable=True),
    sa.Column("qmin", sa.LargeBinary, nullable=True),
)

#: The trial columns a Trial is written to, in table order (``search_id`` aside).
TRIAL_COLUMNS: tuple[str, ...] = (
    "number", "state", "arch_id", "arch", "value", "metrics", "attrs", "epochs", "n_told_before",
    "tell_seq", "started_at", "finished_at", "reason", "curves", "parent", "lineage",
)
JSON_TRIAL_COLUMNS = frozenset({"arch", "metrics", "attrs", "curves", "lineage"})


# -- migrations ------------------------------------------------------------------------------------------
def _v1_to_v2(conn: sa.Connection) -> None:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    op = Operations(MigrationContext.configure(connection=conn))
    with op.batch_alter_table("nasbook_trials") as batch:  # SQLite: ADD COLUMN needs no table copy
        batch.add_column(sa.Column("lineage", sa.Text, nullable=False, server_default=sa.text("'[]'")))
    leases.create(conn, checkfirst=True)


def _v2_to_v3(conn: sa.Connection) -> None:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    from nasbook.storage._catalog import backfill

    op = Operations(MigrationContext.configure(connection=conn))
    with op.batch_alter_table("nasbook_searches") as batch:  # SQLite: ADD COLUMN, no table copy
        batch.add_column(sa.Column("task_key", sa.String(32), nullable=True))
        batch.add_column(sa.Column("space_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("strategy", sa.String(64), nullable=True))
    op.create_index("ix_nasbook_searches_task_key", "nasbook_searches", ["task_key"])
    tasks.create(conn, checkfirst=True)
    spaces.create(conn, checkfirst=True)
    backfill(conn)  # every stored search joins the catalogue, from its config


def _v3_to_v4(conn: sa.Connection) -> None:
    from nasbook.storage import _stats

    for table in (space_archs, arch_stats, task_ranks):
        table.create(conn, checkfirst=True)
    _stats.backfill(conn)  # every stored finished trial joins the aggregates


def _v4_to_v5(conn: sa.Connection) -> None:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    if "owner" in {c["name"] for c in sa.inspect(conn).get_columns("nasbook_trials")}:
        return  # added already (a server without transactional DDL that stopped before the version was written)
    op = Operations(MigrationContext.configure(connection=conn))
    with op.batch_alter_table("nasbook_trials") as batch:  # SQLite: ADD COLUMN, no table copy
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))  # NULL: no run owns an old row


def _v5_to_v6(conn: sa.Connection) -> None:
    from nasbook.storage._rekey import rekey

    rekey(conn)  # searches, task rows and aggregates under the keys their configurations have now


#: from-version -> the step that upgrades it to the next version, in place, inside the open transaction
MIGRATIONS: dict[str, tuple[str, Callable[[sa.Connection], None]]] = {
    "1": ("2", _v1_to_v2), "2": ("3", _v2_to_v3), "3": ("4", _v3_to_v4), "4": ("5", _v4_to_v5),
    "5": ("6", _v5_to_v6)}


def _version_number(version: str | None, label: str) -> int:
    try:
        n = int(str(version))
    except ValueError:
        n = -1
    if n < 1:
        raise StorageError(
            f"storage {label!r} is damaged: its schema version is {version!r}, not a version nasbook wrote."
        ) from None
    return n


def best_index() -> sa.Index:
    """``ix_nasbook_trials_best``, ``(search_id, state, epochs, value)`` on the trials (BEST_INDEX)."""
    return next(ix for ix in trials.indexes if ix.name == "ix_nasbook_trials_best")


def _ensure_best_index(conn: sa.Connection) -> None:
    """Make ``ix_nasbook_trials_best`` in a store made before it (once: BEST_INDEX), in a savepoint: a role that
    may not create indexes (a read-only server account) still opens the store, whose answers are the same without
    it, slower."""
    try:
        with conn.begin_nested():
            best_index().create(conn, checkfirst=True)
    except sa.exc.DBAPIError:
        pass


def check_meta(rows: dict[str, str], tables: set[str], label: str) -> str:
    """Validate nasbook_meta's rows; return the stored schema version (raises for foreign/newer files)."""
    if rows.get("magic") != MAGIC:
        raise StorageError(f"storage {label!r} has a nasbook_meta table without nasbook's marker; refusing to use it.")
    version = rows.get("schema_version")
    if _version_number(version, label) > int(SCHEMA_VERSION):
        raise StorageError(
            f"storage {label!r} was written by a newer nasbook (schema version {version!r}; this nasbook "
            f"{__version__} reads schema versions up to {SCHEMA_VERSION!r}): upgrade nasbook "
            "(pip install -U nasbook) to open it. The file was not changed."
        )
    if version != SCHEMA_VERSION and version not in MIGRATIONS:
        raise StorageError(
            f"storage {label!r} has schema version {version!r}, which this nasbook ({__version__}) cannot migrate."
        )
    missing = {"nasbook_searches", "nasbook_trials"} - tables
    if missing:
        raise StorageError(f"storage {label!r} is damaged: tables {sorted(missing)!r} are missing.")
    return str(version)


def foreign_error(label: str, tables: set[str]) -> StorageError:
    return StorageError(
        f"storage {label!r} is a database of something else (tables {sorted(tables)[:5]!r}), "
        "not a nasbook storage; nasbook will not write into it. Give a new file path."
    )


def init_schema(conn: sa.Connection, label: str, *, make_index: bool = True) -> None:
    """Create the tables in an empty database, or check (and migrate) a nasbook one.

    Runs inside the caller's open write transaction and leaves committing to the caller. ``make_index``
    False leaves a missing BEST_INDEX missing (a file whose mode has no write bit: root may write it,
    but opening it to read must not change it).
    """
    tables = set(sa.inspect(conn).get_table_names())
    if tables and "nasbook_meta" not in tables:
        raise foreign_error(label, tables)
    if not tables:
        metadata.create_all(conn, checkfirst=True)
        conn.execute(meta.insert(), [
            {"key": "magic", "value": MAGIC},
            {"key": "schema_version", "value": SCHEMA_VERSION},
            {"key": "created_by", "value": __version__},
            {"key": STORE_ID, "value": uuid.uuid4().hex},
        ])
        return
    rows = {str(k): str(v) for k, v in conn.execute(sa.select(meta.c.key, meta.c.value)).all()}
    version = check_meta(rows, tables, label)
    migrated = False
    while version != SCHEMA_VERSION:
        version, step = MIGRATIONS[version]
        step(conn)
        migrated = True
    if make_index:
        _ensure_best_index(conn)
    if migrated:
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=SCHEMA_VERSION))
        conn.execute(meta.delete().where(meta.c.key == "migrated_by"))
        conn.execute(meta.insert().values(key="migrated_by", value=__version__))
