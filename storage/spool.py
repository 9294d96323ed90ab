"""The local spool: where an acknowledged request goes when the database can't take it.

One JSON line per request, appended under an exclusive file lock and fsynced before the ack;
drained into the inbox (idempotently, by key) once the database answers again. Several
processes on one host may share the directory: a writer that finds the file was taken for
draining while it waited for the lock writes to the new file instead.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CURRENT = "inbox.jsonl"
DRAINING_PREFIX = "draining-"


class Spool:
    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.directory / CURRENT

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably (fsync); OSError when the disk can't take it."""
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._locked_current() as fd:
                os.write(fd, line)
                os.fsync(fd)

    @contextmanager
    def _locked_current(self) -> Iterator[int]:
        while True:
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:  # taken for draining while we waited: write to the new file
                    continue
                if created:
                    _fsync_dir(self.directory)
                yield fd
                return
            finally:
                os.close(fd)  # closing releases the lock

    def take(self) -> list[Path]:
        """Move the current file aside for draining; return every file waiting to be drained
        (including ones a crashed drain left behind)."""
        if not self.directory.exists():
            return []
        with self._lock:
            if self.path.exists():
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if os.fstat(fd).st_size > 0:
                        target = self.directory / f"{DRAINING_PREFIX}{uuid.uuid4().hex}.jsonl"
                        os.rename(self.path, target)
                        _fsync_dir(self.directory)
                finally:
                    os.close(fd)
        return sorted(self.directory.glob(f"{DRAINING_PREFIX}*.jsonl"))

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """The records of a file; a line cut short by a crash mid-write is skipped."""
        records: list[dict[str, Any]] = []
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # another process drained it meanwhile
            return records
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                records.append(json.loads(raw))
            except ValueError:
                logger.error("spool %s line %d is unreadable; skipped", path.name, number)
        return records

    @staticmethod
    def finish(path: Path) -> None:
        path.unlink(missing_ok=True)

    def waiting(self) -> int:
        """How many records wait in the spool (for /healthz)."""
        if not self.directory.exists():
            return 0
        files = [self.path, *self.directory.glob(f"{DRAINING_PREFIX}*.jsonl")]
        total = 0
        for f in files:
            try:
                total += f.read_bytes().count(b"\n")
            except FileNotFoundError:
                continue
        return total


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
