"""Share a knowledge base as one Parquet file (pyarrow; never pickle).

The file holds one row per trial (every stored column; JSON columns as JSON text, so NaN and
infinities survive) and, in the Parquet schema's key-value metadata under ``b"nasbook"``, a JSON
document with the searches (name, config, state, ...), tasks (key, name, config, meta-features,
landmarks) and spaces. Importing checks that document, and that every trial row belongs to a search it
lists, before writing anything; inserts "unless present" (a search already there with the same config is
merged: importing twice stores once); and if a write fails part-way, the searches this import created
are deleted with their trials, so a failed import leaves the knowledge base as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, StorageError
from nasbook._version import __version__
from nasbook.knowledge._ingest import int_limit
from nasbook.storage import (
    SCHEMA_VERSION,
    TABLES,
    TRIAL_COLUMNS,
    dumps,
    insert_ignore,
    loads,
    rekeyed_task_rows,
    trial_row_problem,
)

if TYPE_CHECKING:
    from nasbook.knowledge._kb import KnowledgeBase

FORMAT = "nasbook-knowledge-base"
FORMAT_VERSION = 1
BATCH = 100_000
_S, _T, _K, _P = TABLES["searches"], TABLES["trials"], TABLES["tasks"], TABLES["spaces"]
_JSON = ("arch", "metrics", "attrs", "curves", "lineage")
_INT = ("number", "epochs", "n_told_before", "tell_seq", "parent")
_FLOAT = ("value", "started_at", "finished_at")


def _schema(meta: dict[str, Any]) -> Any:
    import pyarrow as pa

    types = {c: pa.string() for c in ("state", "arch_id", "reason", *_JSON)}
    types |= {c: pa.int64() for c in _INT} | {c: pa.float64() for c in _FLOAT}
    fields = [pa.field("search", pa.string())] + [pa.field(c, types[c]) for c in TRIAL_COLUMNS]
    return pa.schema(fields, metadata={b"nasbook": dumps(meta).encode()})


def _text(rows: Any, column: str) -> list[Any]:
    return [v if v is None or isinstance(v, str) else dumps(v) for v in rows]


def export(kb: KnowledgeBase, path: str | os.PathLike[str]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterTypeError(f"KnowledgeBase.export(path=...) must be a file path; got {path!r:.80}.")
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"KnowledgeBase.export(path=...) is a folder; give a file path such as "
                                    f"{str(path / 'kb.parquet')!r}.")
    if not path.parent.is_dir():  # else pyarrow's FileNotFoundError names the temporary '.partial' file
        raise InvalidParameterError(f"KnowledgeBase.export(path=...): the folder {str(path.parent)!r} does not exist; "
                                    f"create it first (got {str(path)!r}).")
    rows = kb._rows(sa.select(_S.c.id, _S.c.name, sa.type_coerce(_S.c.config, sa.Text), _S.c.state, _S.c.created_at,
                              _S.c.elapsed_s, _S.c.nasbook_version).order_by(_S.c.id))
    searches = [{"name": r[1], "config": loads(r[2]) if isinstance(r[2], str) else r[2], "state": r[3],
                 "created_at": r[4], "elapsed_s": r[5], "nasbook_version": r[6]} for r in rows]
    names = {int(r[0]): str(r[1]) for r in rows}
    tasks = [{"key": r[0], "name": r[1], "config": r[2], "meta_features": r[3], "landmarks": r[4], "created_at": r[5]}
             for r in kb._rows(sa.select(_K.c.key, _K.c.name, _K.c.config, _K.c.meta_features, _K.c.landmarks,
                                         _K.c.created_at))]
    spaces = [{"space_id": r[0], "config": r[1], "created_at": r[2]}
              for r in kb._rows(sa.select(_P.c.space_id, _P.c.config, _P.c.created_at))]
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": SCHEMA_VERSION,
            "nasbook_version": __version__, "searches": searches, "tasks": tasks, "spaces": spaces}
    schema = _schema(meta)
    cols = ", ".join(("search_id", *TRIAL_COLUMNS))
    tmp = path.with_name(path.name + ".partial")
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in _batches(kb, f"SELECT {cols} FROM nasbook_trials ORDER BY search_id, number"):
                data: dict[str, list[Any]] = {"search": [names.get(int(r[0]), "") for r in batch]}
                for j, c in enumerate(TRIAL_COLUMNS, start=1):
                    values = [r[j] for r in batch]
                    data[c] = _text(values, c) if c in _JSON else values
                writer.write_table(pa.table(data, schema=schema))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _batches(kb: KnowledgeBase, sql: str) -> Iterator[list[Any]]:
    with kb.storage.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(sa.text(sql))
        for part in result.partitions(BATCH):
            yield list(part)


def _read_meta(path: Path) -> tuple[Any, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.is_dir():  # "no such file" for a folder that exists misled
        raise InvalidParameterError(f"KnowledgeBase.import_parquet(path=...) is a folder, {str(path)!r}; give the file "
                                    f"KnowledgeBase.export wrote, such as {str(path / 'kb.parquet')!r}.")
    if not path.is_file():
        raise StorageError(f"KnowledgeBase.import_parquet: no such file {str(path)!r} (expected a file written by "
                           "KnowledgeBase.export).")
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise StorageError(f"{str(path)!r} is not a Parquet file ({exc}); expected a file written by "
                           "KnowledgeBase.export. Nothing was imported.") from None
    raw = (pf.schema_arrow.metadata or {}).get(b"nasbook")
    try:
        meta = loads(raw) if raw is not None else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StorageError(f"{str(path)!r} is a Parquet file but not a nasbook knowledge-base export (its metadata "
                           "lacks nasbook's marker); expected a file written by KnowledgeBase.export. Nothing was imported.")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise StorageError(f"{str(path)!r} was exported by a newer nasbook ({meta.get('nasbook_version')}, format "
                           f"{meta.get('format_version')}; this nasbook {__version__} reads format {FORMAT_VERSION}): "
                           "upgrade nasbook to import it. Nothing was imported.")
    missing = {"search", *TRIAL_COLUMNS} - set(pf.schema_arrow.names)
    if missing or not all(isinstance(meta.get(k), list) for k in ("searches", "tasks", "spaces")):
        raise StorageError(f"{str(path)!r} is a damaged knowledge-base export: columns {sorted(missing)!r} or its "
                           "searches/tasks/spaces lists are missing. Nothing was imported.")
    return pf, meta


def import_into(cls: type[KnowledgeBase], path: str | os.PathLike[str], into: Any) -> KnowledgeBase:
    """:meth:`KnowledgeBase.import_`: the file is checked before ``into`` is opened, so a refused import
    leaves no new store behind (``import_("missing.parquet", into="copy.db")`` created an empty copy.db)."""
    from nasbook.storage import Storage

    if not isinstance(into, (str, os.PathLike, Storage)):
        hint = " (to add to a KnowledgeBase you have, call its import_parquet(path))" if isinstance(into, cls) else ""
        raise InvalidParameterTypeError(f"KnowledgeBase.import_(into=...) must be a file path, ':memory:', a database URL "
                                        f"or a Storage{hint}; got {into!r:.60} of type {type(into).__name__}.")
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterTypeError(f"KnowledgeBase.import_(path=...) must be a file path; got {path!r:.80}.")
    _check_catalog(_read_meta(Path(path))[1], Path(path))
    kb = cls(into)
    kb.import_parquet(path)
    return kb


def _damaged(path: Path, what: str) -> StorageError:
    return StorageError(f"{str(path)!r} is a damaged knowledge-base export: {what}. Nothing was imported.")


def _check_catalog(meta: dict[str, Any], path: Path) -> None:
    """The metadata's searches, tasks and spaces are what :func:`export` writes, else StorageError.

    The file may come from someone else: an entry of the wrong shape, written into the knowledge base,
    would break every later read of it (``kb.tasks``, ``kb.space``), or fail half-way through the import."""
    number, text = (int, float), (str, type(None))
    for s in meta["searches"]:
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"] and isinstance(s.get("config"), dict)
                and isinstance(s.get("state"), text) and isinstance(s.get("elapsed_s"), (*number, type(None)))
                and not isinstance(s.get("elapsed_s"), bool)):
            raise _damaged(path, f"a search entry is {s!r:.80} (expected a name, a config object, a state and elapsed_s)")
    for t in meta["tasks"]:
        if not (isinstance(t, dict) and isinstance(t.get("key"), str) and t["key"] and isinstance(t.get("name"), text)
                and isinstance(t.get("config"), (dict, type(None))) and isinstance(t.get("meta_features"), (dict, type(None)))
                and isinstance(t.get("landmarks"), (dict, type(None)))):
            raise _damaged(path, f"a task entry is {t!r:.80} (expected a key, a name, a config object, and "
                                 "meta_features and landmarks objects or null)")
        if t["landmarks"] is not None and not all(isinstance(v, number) and not isinstance(v, bool)
                                                  for v in t["landmarks"].values()):
            raise _damaged(path, f"the landmarks of task {t['key']!r:.40} are not all numbers")
    for p in meta["spaces"]:
        if not (isinstance(p, dict) and isinstance(p.get("space_id"), str) and p["space_id"]
                and isinstance(p.get("config"), dict)):
            raise _damaged(path, f"a space entry is {p!r:.80} (expected a space_id and a config object)")


def _check_rows(pf: Any, path: Path, listed: set[str], limit: tuple[int, str] = (2**63 - 1, "")) -> None:
    """Every trial row is one :func:`export` writes: of a listed search, once, with every column readable.

    The checks that reading a stored trial back makes (:func:`~nasbook.storage.trial_row_problem`),
    made before anything is written: a row with an architecture that is not JSON, an unknown state or a
    value that is not a number would otherwise be stored, and break ``kb.trials()`` for every search. A
    batch is checked column by column (:func:`_batch_ok`); one that fails is read row by row, for the
    error that names the row."""
    seen: set[tuple[str, int]] = set()
    for batch in pf.iter_batches(batch_size=BATCH, columns=["search", *TRIAL_COLUMNS]):
        cols = batch.to_pydict()
        unknown = set(cols["search"]) - listed
        if unknown:
            raise _damaged(path, f"trials of searches {sorted(map(str, unknown))[:5]!r} that its metadata does not list")
        if not _batch_ok(batch, cols):
            for row in batch.to_pylist():
                problem = trial_row_problem(row)
                if problem is not None:
                    raise _damaged(path, f"trial {row['number']!r:.20} of search {row['search']!r}: {problem}")
        _check_range(batch, cols, path, limit)
        for key in zip(cols["search"], cols["number"]):
            if key in seen:
                raise _damaged(path, f"trial {key[1]} of search {key[0]!r} appears twice")
            seen.add(key)


def _check_range(batch: Any, cols: dict[str, list[Any]], path: Path, limit: tuple[int, str]) -> None:
    """Every integer column within what the store's INTEGER holds (``limit``: :func:`._ingest.int_limit`); a
    number above 2**31 - 1 raised the driver's error from PostgreSQL's INSERT."""
    import pyarrow.compute as pc

    for c in _INT:
        lo_hi = pc.min_max(batch.column(c)).as_py() if batch.num_rows else {"min": None, "max": None}
        if all(v is None or (isinstance(v, int) and -limit[0] - 1 <= v <= limit[0]) for v in lo_hi.values()):
            continue
        for i, v in enumerate(cols[c]):
            if isinstance(v, int) and not -limit[0] - 1 <= v <= limit[0]:
                raise InvalidParameterError(
                    f"KnowledgeBase.import_parquet(path=...): trial {cols['number'][i]!r:.20} of search "
                    f"{cols['search'][i]!r} in {str(path)!r} has {c} {v}; this store holds whole numbers from "
                    f"{-limit[0] - 1} to {limit[0]} ({limit[1]}). Nothing was imported.")


_KINDS = {"arch": dict, "metrics": dict, "attrs": dict, "curves": dict, "lineage": list}


def _batch_ok(batch: Any, cols: dict[str, list[Any]]) -> bool:
    """Whether every row of ``batch`` passes ``trial_row_problem`` (False: some row may not), by column."""
    import pyarrow as pa

    from nasbook.trial import TrialState

    types = {f.name: f.type for f in batch.schema}
    ints = all(pa.types.is_integer(types[c]) for c in _INT)
    floats = all(pa.types.is_integer(types[c]) or pa.types.is_floating(types[c]) for c in _FLOAT)
    texts = all(pa.types.is_string(types[c]) or pa.types.is_large_string(types[c]) for c in ("state", "arch_id", "reason", *_JSON))
    if not (ints and floats and texts) or set(cols["state"]) - {s.value for s in TrialState}:
        return False
    if any(batch.column(c).null_count for c in ("number", "n_told_before", "arch_id", *_JSON)):
        return False
    for column, kind in _KINDS.items():
        try:
            values = [loads(v) for v in cols[column]]
        except (ValueError, RecursionError):
            return False
        if not all(type(v) is kind for v in values):
            return False
        if column == "curves" and not all(type(x) is list for v in values for x in v.values()):
            return False
        if column == "lineage" and not all(type(x) is int for v in values for x in v):
            return False
    return True


def _same_but_budget(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Whether two configurations of a search differ at most in their budget (``Search.extend`` changed one)."""
    return ({k: v for k, v in ours.items() if k != "budget"} == {k: v for k, v in theirs.items() if k != "budget"}
            and all(isinstance(b, dict) for b in (ours.get("budget"), theirs.get("budget"))))


def _later_budget(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """The budget of a search extended in either copy: every limit either has, at the larger value."""
    out = dict(ours)
    for key, value in theirs.items():
        mine = out.get(key)
        both_numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mine, value))
        out[key] = max(mine, value) if both_numbers else (value if mine is None else mine)
    return out


def import_parquet(kb: KnowledgeBase, path: str | os.PathLike[str], *, prefix: str = "") -> list[str]:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterTypeError(f"KnowledgeBase.import_parquet(path=...) must be a file path; got {path!r:.80}.")
    if not isinstance(prefix, str):
        raise InvalidParameterTypeError(f"KnowledgeBase.import_parquet(prefix=...) must be a str; got {prefix!r:.80}.")
    pf, meta = _read_meta(Path(path))
    st = kb.storage
    existing = {r.name: r for r in st.list_searches()}
    plan: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {}  # exported name -> (new name, search, match)
    _check_catalog(meta, Path(path))
    for s in meta["searches"]:
        new = prefix + s["name"]
        old = existing.get(new)
        stored = dict(s["config"], name=new) if prefix else s["config"]
        budget = None
        if old is not None and old.config != stored and _same_but_budget(old.config, stored):
            budget = _later_budget(old.config["budget"], stored["budget"])  # the same search, extended since
        elif old is not None and old.config != stored:
            raise StorageError(
                f"knowledge base {kb.label!r} already has a different search named {new!r}; import with a prefix, "
                f"e.g. kb.import_parquet({str(path)!r}, prefix='shared/'). Nothing was imported.")
        plan[s["name"]] = (new, s, None if old is None else {"id": old.id, "config": old.config, "budget": budget})
    now = time.time()
    def when(row: dict[str, Any]) -> float:  # first recorded there (kb.tasks and kb.spaces list in that order)
        t = row.get("created_at")
        return float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else now

    # a task exported before run-only options left its key is filed under the key its configuration has now,
    # as create_search files its searches; rows that now share a key are one (rekeyed_task_rows)
    task_rows = rekeyed_task_rows([
        {"key": str(t["key"]), "name": str(t.get("name") or t["key"])[:255], "config": t.get("config") or {},
         "meta_features": t.get("meta_features"), "landmarks": t.get("landmarks"), "created_at": when(t),
         "updated_at": now} for t in meta["tasks"] if isinstance(t, dict) and t.get("key")])
    space_rows = [{"space_id": str(p["space_id"]), "config": p.get("config") or {}, "created_at": when(p)}
                  for p in meta["spaces"] if isinstance(p, dict) and p.get("space_id")]

    def catalog(conn: sa.Connection) -> None:
        insert_ignore(conn, _K, task_rows)
        insert_ignore(conn, _P, space_rows)
        for t in task_rows:  # meta-features and landmarks fill gaps, never overwrite
            for field in ("meta_features", "landmarks"):
                if t[field] is not None:
                    conn.execute(_K.update().where(_K.c.key == t["key"], _K.c[field].is_(None)).values({field: t[field]}))

    _check_rows(pf, Path(path), set(plan), int_limit(st.engine.dialect.name))  # before anything is written: a damaged or crafted file changes nothing
    kb._write(catalog)
    ids: dict[str, int] = {}
    created: list[int] = []
    try:
        for exported, (new, s, match) in plan.items():
            if match is not None:
                ids[exported] = match["id"]
                if match["budget"] is not None and match["budget"] != match["config"].get("budget"):
                    st.update_search(match["id"], config=dict(match["config"], budget=match["budget"]))
                continue
            sid = st.create_search(new, dict(s["config"], name=new) if prefix else s["config"])
            created.append(sid)
            st.update_search(sid, state=str(s.get("state") or "done"), elapsed_s=float(s.get("elapsed_s") or 0.0))
            ids[exported] = sid
            origin = {k: s[k] for k, t in (("created_at", (int, float)), ("nasbook_version", str))
                      if isinstance(s.get(k), t)}
            if origin:  # when it ran and with which nasbook, not when it was imported by which
                kb._write(lambda conn, sid=sid, origin=origin: conn.execute(_S.update().where(_S.c.id == sid)
                                                                             .values(**origin)))
        for batch in pf.iter_batches(batch_size=BATCH, columns=["search", *TRIAL_COLUMNS]):
            cols = batch.to_pydict()
            rows = [(ids[name], *vals) for name, *vals in zip(cols["search"], *(cols[c] for c in TRIAL_COLUMNS))]
            st.insert_trial_rows(rows, ignore_existing=True)
    except BaseException:
        # undo this import's searches (and their trials); searches that were merged keep what they had
        # plus rows inserted "unless present", which are the export's own copies of theirs
        if created:
            def undo(conn: sa.Connection) -> None:
                from nasbook.storage import rebuild_stats

                keys = conn.execute(sa.select(_S.c.space_id, _S.c.task_key).where(_S.c.id.in_(created))).all()
                conn.execute(_T.delete().where(_T.c.search_id.in_(created)))
                conn.execute(_S.delete().where(_S.c.id.in_(created)))
                for space_id, task_key in set(keys):  # the per-task aggregates the removed trials fed
                    rebuild_stats(conn, space_id, task_key)
            try:
                kb._write(undo)
            except StorageError:
                pass
        raise
    return [new for new, _, _ in plan.values()]
