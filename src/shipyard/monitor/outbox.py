"""Alerts waiting for their webhook: one JSON file each, in a folder, until delivered.

The monitoring cycle only ``put``s an alert (an atomic file write) and goes on; the
``AlertDispatcher`` delivers the files oldest first, removing each once the webhook took it. An
alert that cannot be delivered stays on disk and is retried, after a restart of the job too.

    >>> outbox = AlertOutbox(home / "monitor-outbox" / "iris" / "3")
    >>> outbox.put({"text": "drift"})
    >>> [outbox.read(path) for path in outbox.pending()]
    [{'text': 'drift'}]
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from shipyard.errors import StoreError

__all__ = ["AlertOutbox"]


class AlertOutbox:
    """A folder of undelivered alerts, named so that sorting them gives their order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, payload: dict[str, Any]) -> Path:
        """Persist one alert (written whole or not at all)."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
        target = self.folder / name
        temporary = self.folder / f".{name}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(payload))
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StoreError(f"cannot queue an alert in {self.folder}: {exc}") from exc
        return target

    def pending(self) -> list[Path]:
        """Undelivered alerts, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.suffix == ".json")

    def read(self, path: Path) -> dict[str, Any] | None:
        """The alert in ``path``; None (and the file set aside as ``.bad``) if unreadable."""
        try:
            payload = json.loads(path.read_text())
            if isinstance(payload, dict):
                return payload
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            pass
        path.replace(path.with_suffix(".bad"))
        return None

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
