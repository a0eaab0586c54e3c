"""Automation conditions: SMS parts sent today below a number."""

from __future__ import annotations

from typing import Any, Final, Unpack, cast, override

import probatio as vol

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_OPTIONS
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConditionErrorMessage
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.condition import (
    Condition,
    ConditionCheckParams,
    ConditionConfig,
)
from homeassistant.helpers.typing import ConfigType

from .const import ATTR_CONFIG_ENTRY_ID, DOMAIN


def _parts_today(entry: ConfigEntry[Any]) -> int:
    """SMS parts the entry sent today (local day), as the spend guard counts them."""
    return int(entry.runtime_data.store.parts_today())


CONF_PARTS: Final = "parts"

SENT_TODAY_BELOW_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_OPTIONS): {
            vol.Required(CONF_PARTS): vol.All(vol.Coerce(int), vol.Range(min=1)),
            vol.Optional(ATTR_CONFIG_ENTRY_ID, default=None): vol.All(
                lambda value: value or None, vol.Maybe(cv.string)
            ),
        }
    }
)


class SentTodayBelowCondition(Condition):
    """True while fewer than N SMS parts went out today.

    For one entry, or for all loaded entries together when none is chosen.
    An entry that is not loaded cannot tell (nor send): the check raises a
    condition error, which the automation logs and treats as not met.
    """

    @override
    @classmethod
    async def async_validate_config(
        cls, hass: HomeAssistant, config: ConfigType
    ) -> ConfigType:
        """Validate the options."""
        return cast("ConfigType", SENT_TODAY_BELOW_SCHEMA(config))

    def __init__(self, hass: HomeAssistant, config: ConditionConfig) -> None:
        """Keep the validated options."""
        super().__init__(hass, config)
        options = config.options or {}
        self._parts: int = options[CONF_PARTS]
        self._entry_id: str | None = options.get(ATTR_CONFIG_ENTRY_ID)

    @override
    def _async_check(self, **kwargs: Unpack[ConditionCheckParams]) -> bool:
        """Compare today's parts with the limit."""
        entries = self._hass.config_entries
        if self._entry_id is None:
            if not (loaded := entries.async_loaded_entries(DOMAIN)):
                raise ConditionErrorMessage(DOMAIN, "no ACTIO SMS entry is loaded")
            used = sum(_parts_today(entry) for entry in loaded)
        else:
            entry = entries.async_get_entry(self._entry_id)
            if entry is None or entry.domain != DOMAIN:
                raise ConditionErrorMessage(
                    DOMAIN, f"no ACTIO SMS entry {self._entry_id}"
                )
            if entry.state is not ConfigEntryState.LOADED:
                raise ConditionErrorMessage(
                    DOMAIN, f"the ACTIO SMS entry {entry.title} is not loaded"
                )
            used = _parts_today(entry)
        return used < self._parts


CONDITIONS: Final[dict[str, type[Condition]]] = {
    "sent_today_below": SentTodayBelowCondition,
}


async def async_get_conditions(hass: HomeAssistant) -> dict[str, type[Condition]]:
    """The integration's conditions (``actio_sms.sent_today_below``)."""
    return CONDITIONS
