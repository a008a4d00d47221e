"""Durable storage of searches and trials (SQLAlchemy; a SQLite file by default)."""

from nasbook._errors import SearchLockedError
from nasbook.storage._records import SearchRecord
from nasbook.storage._schema import SCHEMA_VERSION
from nasbook.storage._sql import Storage, open_storage

__all__ = ["SCHEMA_VERSION", "SearchLockedError", "SearchRecord", "Storage", "open_storage"]
