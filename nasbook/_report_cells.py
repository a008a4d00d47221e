"""The kernel and the failed cell of ``nasbook report`` (:mod:`nasbook._report`): the kernel's configuration,
and which of the user's cells failed or was running when a run stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def kernel_config() -> Any:
    """Encrypt the kernel's local TCP sockets (CurveZMQ) where the kernel supports it.

    ipykernel 7 warns on stderr that a kernel "is running over TCP without encryption" otherwise;
    ``transport_encryption='auto'`` provisions keys only for kernelspecs that declare support.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve") and "transport_encryption" in KernelManager.class_trait_names():
        config.KernelManager.transport_encryption = "auto"
    return config


def failed_cell(executed: Path, index: int) -> str:
    """Which of the *user's* cells failed: papermill counts from 0 and includes the parameters cell it
    injects (only when -p is given), so its index named another cell depending on the command line."""
    import nbformat

    try:
        cells = [c for c in nbformat.read(executed, as_version=4).cells  # less the error banner papermill adds on top
                 if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    except Exception:  # noqa: BLE001 - the error message must not fail
        return f"cell {index}"
    injected = sum("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells[:index])
    first = next((line.strip() for line in cells[index].source.splitlines() if line.strip()), "") if index < len(cells) else ""
    where = f"cell {index - injected + 1}"
    return where + (f" ({first[:60]!r})" if first else "")


def stopped_cell(executed: Path) -> int:
    """The index (as :func:`failed_cell` counts) of the last cell that started: the one running when a cell
    timed out or the kernel died, which papermill does not name (it records each cell's start time)."""
    import nbformat

    try:
        cells = [c for c in nbformat.read(executed, as_version=4).cells
                 if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    except Exception:  # noqa: BLE001 - the error message must not fail
        return 0
    started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else 0
