"""The addresses of ACTIO's servers, for the optional webhook allowlist."""

from __future__ import annotations

from ipaddress import ip_address
import socket
import time
from typing import Final

from homeassistant.core import HomeAssistant

from .const import ACTIO_HOST, LOGGER

ALLOWLIST_TTL: Final = 300.0
RETRY_AFTER_FAILURE: Final = 30.0


class ActioAllowlist:
    """The addresses of ACTIO's servers, resolved lazily and cached."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with nothing resolved."""
        self._hass = hass
        self._addresses: frozenset[str] = frozenset()
        self._expires = 0.0

    async def async_allows(self, remote: str | None) -> bool:
        """Whether ``remote`` is one of ACTIO's addresses."""
        if remote is None:
            return False
        if time.monotonic() >= self._expires:
            await self._async_refresh()
        try:
            address = ip_address(remote)
        except ValueError:
            return False
        mapped = getattr(address, "ipv4_mapped", None)
        return (mapped or address).compressed in self._addresses

    async def _async_refresh(self) -> None:
        try:
            infos = await self._hass.loop.getaddrinfo(
                ACTIO_HOST, 443, type=socket.SOCK_STREAM
            )
        except OSError as err:
            LOGGER.warning(
                "Cannot resolve %s for the webhook allowlist: %s", ACTIO_HOST, err
            )
            self._expires = time.monotonic() + RETRY_AFTER_FAILURE
            return
        self._addresses = frozenset(ip_address(info[4][0]).compressed for info in infos)
        self._expires = time.monotonic() + ALLOWLIST_TTL
