"""Durable storage of searches and trials (SQLAlchemy; a SQLite file by default)."""

from nasbook.storage._sql import SCHEMA_VERSION, Storage, open_storage

__all__ = ["SCHEMA_VERSION", "Storage", "open_storage"]
