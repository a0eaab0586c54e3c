"""Posts no dialect understands, kept aside instead of lost.

ACTIO's live API does not document its inbound SMS format, so an account may
post shapes this integration has never seen. Such a post is still refused
(4xx), but its body is kept in a small private file beside the store, so a
person can report it and nothing is silently dropped. Bounded: identical
posts are kept once (counted), and at most ``MAX_POSTS`` bodies of at most
``MAX_BYTES`` in all; beyond that posts are only counted.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .actio import shape_of, utc_now_iso
from .const import DOMAIN

STORAGE_VERSION: Final = 1
MAX_POSTS: Final = 50
MAX_BYTES: Final = 128 * 1024
SAVE_DELAY: Final = 1.0


class KeptPost(TypedDict):
    """One kind of post nobody understood."""

    digest: str
    body: str
    shape: list[str]
    count: int
    first: str
    last: str


class StoredQuarantine(TypedDict):
    """What the file holds."""

    posts: list[KeptPost]
    dropped: int


class Quarantine:
    """An entry's posts in unknown shapes: bounded, deduplicated, private."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is read until the first post or load."""
        self._store: Store[StoredQuarantine] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.quarantine", private=True
        )
        self._posts: dict[str, KeptPost] = {}
        self._bytes = 0
        self.dropped = 0
        """Posts counted but not kept (the file was full)."""
        self._loaded = False

    async def async_load(self) -> None:
        """Read what was kept before (once)."""
        if self._loaded:
            return
        self._loaded = True
        if (data := await self._store.async_load()) is not None:
            for post in data.get("posts", []):
                self._posts[post["digest"]] = post
                self._bytes += len(post["body"].encode())
            self.dropped = int(data.get("dropped", 0))

    @property
    def count(self) -> int:
        """Every unrecognised post received, kept or only counted."""
        return sum(post["count"] for post in self._posts.values()) + self.dropped

    @property
    def last(self) -> str | None:
        """When the last one arrived (ISO 8601, UTC)."""
        return max((post["last"] for post in self._posts.values()), default=None)

    async def async_keep(self, raw: bytes, data: Any) -> None:
        """Keep one post (or count it, when it is a repeat or the file is full)."""
        await self.async_load()
        now = utc_now_iso()
        digest = hashlib.sha256(raw).hexdigest()
        if (post := self._posts.get(digest)) is not None:
            post["count"] += 1
            post["last"] = now
        elif len(self._posts) < MAX_POSTS and self._bytes + len(raw) <= MAX_BYTES:
            body = raw.decode("utf-8", "replace")
            self._posts[digest] = {
                "digest": digest,
                "body": body,
                "shape": shape_of(data),
                "count": 1,
                "first": now,
                "last": now,
            }
            self._bytes += len(body.encode())
        else:
            self.dropped += 1
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    @callback
    def shapes(self) -> list[dict[str, Any]]:
        """What diagnostics may show: shapes and counts, no value of any post."""
        return [
            {"shape": post["shape"], "count": post["count"]}
            for post in self._posts.values()
        ]

    async def async_clear(self) -> None:
        """Forget every kept post (the person has seen or reported them)."""
        self._posts.clear()
        self._bytes = 0
        self.dropped = 0
        await self._store.async_remove()

    async def async_remove(self) -> None:
        """The entry is removed."""
        await self.async_clear()

    @callback
    def _data_to_save(self) -> StoredQuarantine:
        return {"posts": list(self._posts.values()), "dropped": self.dropped}
