"""An append-only journal: what the webhook answered 200 for survives a kill.

The message log is saved whole with a delayed ``Store`` (a snapshot at most
every few seconds). Between snapshots every change is also appended here, and
the webhook answers only once its line is written: a process killed right
after a 200 (OOM killer, ``kill -9``, a crashed add-on) loses nothing. Writes
are grouped the way databases group commits: whatever arrives while one write
is in progress goes out in the next, so a burst costs a few writes, not one
per message. Lines are handed to the operating system at once and forced to
the disk (fsync) at most every ``FSYNC_INTERVAL`` seconds, the last ones too:
a power cut can lose that last second.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import time
from typing import Any, BinaryIO, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.json import json_bytes
from homeassistant.util.json import json_loads

from .const import DOMAIN, LOGGER

FSYNC_INTERVAL: Final = 1.0


class JournalWriteError(OSError):
    """A journal line could not be written."""


def journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's journal lives (beside its Store file)."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.journal"))


class Journal:
    """Numbered lines, written in groups; dropped once a snapshot holds them."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create a journal; nothing is read or written yet."""
        self._hass = hass
        self._path = journal_path(hass, entry_id)
        self.seq = 0
        """The number of the last line appended."""
        self._pending: list[bytes] = []
        self._batch: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._drop_upto: int | None = None
        self._last_fsync = 0.0
        self._fsync_due = False
        self._fsync_later: asyncio.Task[None] | None = None
        self._torn = False

    async def async_read(self, after: int) -> list[dict[str, Any]]:
        """The lines numbered above ``after`` (a torn last line is skipped)."""
        lines = await self._hass.async_add_executor_job(self._read)
        entries = []
        for line in lines:
            if (entry := _entry(line)) is None:
                LOGGER.warning("Skipped an unreadable line of the message journal")
            elif entry["seq"] > after:
                entries.append(entry)
                self.seq = max(self.seq, entry["seq"])
        return entries

    def _read(self) -> list[bytes]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return []
        # A kill in the middle of a write: start the next line on a new one.
        self._torn = bool(raw) and not raw.endswith(b"\n")
        return raw.splitlines()

    @callback
    def append(self, entry: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a line; the future is done once it is written (or failed)."""
        self.seq += 1
        self._pending.append(json_bytes({"seq": self.seq, **entry}) + b"\n")
        if (batch := self._batch) is None:
            batch = self._batch = self._hass.loop.create_future()
        self._async_start_writer()
        return batch

    @callback
    def drop_upto(self, seq: int) -> None:
        """Lines up to ``seq`` are in a snapshot on disk: drop them."""
        self._drop_upto = seq
        self._async_start_writer()

    @callback
    def _async_start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = self._hass.async_create_background_task(
                self._async_write_loop(), f"{DOMAIN} journal writer"
            )

    async def _async_write_loop(self) -> None:
        while self._pending or self._drop_upto is not None or self._fsync_due:
            lines, self._pending = self._pending, []
            batch, self._batch = self._batch, None
            drop_upto, self._drop_upto = self._drop_upto, None
            fsync = (
                self._fsync_due or time.monotonic() - self._last_fsync >= FSYNC_INTERVAL
            )
            self._fsync_due = False
            try:
                await self._hass.async_add_executor_job(
                    self._write, b"".join(lines), drop_upto, fsync
                )
            except OSError as err:
                LOGGER.error("Could not write the message journal: %s", err)
                if batch is not None and not batch.done():
                    batch.set_exception(JournalWriteError(str(err)))
                    batch.exception()  # retrieved: callers may be gone
                continue
            if fsync:
                self._last_fsync = time.monotonic()
            elif self._fsync_later is None or self._fsync_later.done():
                # The last lines of a burst reach the disk within a second too.
                self._fsync_later = self._hass.async_create_background_task(
                    self._async_fsync_later(), f"{DOMAIN} journal fsync"
                )
            if batch is not None and not batch.done():
                batch.set_result(None)

    async def _async_fsync_later(self) -> None:
        await asyncio.sleep(FSYNC_INTERVAL)
        self._fsync_due = True
        self._async_start_writer()

    def _write(self, data: bytes, drop_upto: int | None, fsync: bool) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if drop_upto is not None:
            self._compact(drop_upto)
        if data and self._torn:
            data, self._torn = b"\n" + data, False
        if data or (fsync and self._path.exists()):
            with _open_private(self._path, os.O_APPEND) as file:
                file.write(data)
                if fsync:
                    file.flush()
                    os.fsync(file.fileno())

    def _compact(self, drop_upto: int) -> None:
        # Line by line: a burst can leave a journal of many megabytes.
        temp = self._path.with_suffix(".tmp")
        kept = 0
        try:
            source = self._path.open("rb")
        except FileNotFoundError:
            return
        with source, _open_private(temp, os.O_TRUNC) as target:
            for line in source:
                entry = _entry(line) if line.endswith(b"\n") else None
                if entry is not None and entry["seq"] > drop_upto:
                    target.write(line)
                    kept += 1
        if kept:
            temp.replace(self._path)
        else:
            temp.unlink()
            self._path.unlink()
        # Only whole lines were kept: the next one starts on a line of its own.
        self._torn = False

    async def async_remove(self) -> None:
        """Delete the journal (the entry is removed)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)
        self._pending.clear()
        await self._hass.async_add_executor_job(self._path.unlink, True)


def _open_private(path: Path, flag: int) -> BinaryIO:
    """Open for writing, private like the Store file (it holds message texts)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | flag, 0o600), "wb")


def _entry(line: bytes) -> dict[str, Any] | None:
    """A journal line as written, or None (torn or not ours)."""
    try:
        entry = json_loads(line)
    except ValueError:
        return None
    if isinstance(entry, dict) and type(entry.get("seq")) is int:
        return entry
    return None
