"""The marker of a checkpoint folder: ``search.json`` in a ``search-<id>/`` folder names the search whose
checkpoints it holds (:mod:`nasbook.search._checkpoints` claims a folder through :func:`claim`)."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile
from typing import Any

from nasbook._errors import StorageError

#: the file in a ``search-<id>/`` folder naming the search whose checkpoints it holds (JSON, compared only): by
#: the key kept in its configuration in a given folder, by its creation time in the store beside a SQLite file
MARKER = "search.json"


def read_marker(marker: pathlib.Path) -> dict[str, Any] | None:
    """The marker's content; None when there is none; ``{"error": ...}`` when it cannot be read."""
    try:
        found: Any = json.loads(marker.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"error": str(exc)[:80]}
    return found if isinstance(found, dict) else {"error": f"not a JSON object: {found!r:.40}"}


def claim(path: pathlib.Path, mine: dict[str, Any]) -> dict[str, Any]:
    """Make ``path`` and mark it as ``mine`` unless it is marked already; returns its marker's content.

    Race-safe between processes: the marker is written whole to a temporary file, then linked to its name
    (``os.link`` fails if the name exists), so two processes claiming a folder at once read the same winner."""
    marker = path / MARKER
    try:
        path.mkdir(parents=True, exist_ok=True)
        found = read_marker(marker)
        if found is not None:
            return found
        fd, tmp = tempfile.mkstemp(dir=path, prefix=f".{MARKER}.", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(mine, f)
            os.link(tmp, marker)
        except FileExistsError:  # another process marked it first: its marker stands
            return read_marker(marker) or {"error": "vanished while read"}
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except OSError as exc:
        raise StorageError(f"cannot create the checkpoint folder {str(path)!r}: {exc}") from exc
    return mine
