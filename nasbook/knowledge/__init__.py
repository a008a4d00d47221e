"""The knowledge base: every trial of every search, by task and space (:class:`KnowledgeBase`).

It lives in the same SQLAlchemy store the search loop commits to (a SQLite file by default, any
database URL for a team): every search created there is catalogued by its task (a stable key,
:meth:`KnowledgeBase.task_key`) and space. ``Search(..., kb=kb)`` records into it; ``ingest``
bulk-loads trials of runs made elsewhere; ``export``/``import_parquet`` share it as Parquet.
"""

from nasbook.knowledge._kb import ALL_STATES, KnowledgeBase

__all__ = ["ALL_STATES", "KnowledgeBase"]
