"""Posts no dialect understands, kept aside instead of lost.

ACTIO's live API does not document its inbound SMS format, so an account may
post shapes this integration has never seen. Such a post is still refused
(4xx), but its body is kept in a small private file beside the store, so a
person can report it and nothing is silently dropped. Bounded: identical
posts are kept once (counted), and at most ``MAX_POSTS`` posts of at most
``MAX_BYTES`` in all (bodies and shapes); beyond that posts are only counted.
A shape is cut to ``MAX_SHAPE_LINES`` lines of at most ``MAX_SHAPE_LINE``
characters: long keys nested deep would otherwise make it many times larger
than the post.
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
MAX_SHAPE_LINES: Final = 100
MAX_SHAPE_LINE: Final = 200
SAVE_DELAY: Final = 1.0


def bounded_shape(data: Any) -> list[str]:
    """``shape_of(data)``, cut to a size the file can hold.

    At most ``MAX_SHAPE_LINES`` lines of at most ``MAX_SHAPE_LINE``
    characters: a cut path keeps its type, and a last line says how many
    lines were left out.
    """
    lines = shape_of(data)
    kept = []
    for line in lines[:MAX_SHAPE_LINES]:
        if len(line) > MAX_SHAPE_LINE:
            path, _, kind = line.rpartition(": ")
            line = f"{path[: MAX_SHAPE_LINE - len(kind) - 3]}…: {kind}"
        kept.append(line)
    if len(lines) > MAX_SHAPE_LINES:
        kept.append(f"… {len(lines) - MAX_SHAPE_LINES} more")
    return kept


def _size(post: KeptPost) -> int:
    """What a kept post adds to the file, near enough (body and shape)."""
    return len(post["body"].encode()) + sum(
        len(line.encode()) for line in post["shape"]
    )


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
                self._bytes += _size(post)
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
        elif not self._keep_new(digest, raw, data, now):
            self.dropped += 1
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _keep_new(self, digest: str, raw: bytes, data: Any, now: str) -> bool:
        """Keep a post not seen before, if the file has room for it."""
        if len(self._posts) >= MAX_POSTS or self._bytes + len(raw) > MAX_BYTES:
            return False  # full: no need to work out its shape
        post: KeptPost = {
            "digest": digest,
            "body": raw.decode("utf-8", "replace"),
            "shape": bounded_shape(data),
            "count": 1,
            "first": now,
            "last": now,
        }
        if self._bytes + (size := _size(post)) > MAX_BYTES:
            return False
        self._posts[digest] = post
        self._bytes += size
        return True

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
