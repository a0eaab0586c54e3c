"""Notify: the legacy ``notify.actio_sms`` service and notify entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.notify import NotifyEntity, NotifyEntityDescription
from homeassistant.components.notify.const import (
    ATTR_DATA,
    ATTR_TARGET,
    DOMAIN as NOTIFY_DOMAIN,
)
from homeassistant.components.notify.legacy import BaseNotificationService
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.service import async_set_service_schema
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from .const import (
    ATTR_SEND_AT,
    CONF_NUMBER,
    CONF_SENDER,
    DOMAIN,
    MANUFACTURER,
    SUBENTRY_RECIPIENT,
)
from .data import ActioConfigEntry, ActioRuntime
from .entity import ActioEntity
from .outbox import async_send, send_options
from .phone import recipient_label
from .services import async_runtime_for_action
from .settings import recipient_object_id

if TYPE_CHECKING:
    from homeassistant.components.notify.const import NotifyEntityFeature
else:
    try:
        from homeassistant.components.notify.const import NotifyEntityFeature
    except ImportError:  # Home Assistant 2026.9 defines it in the package
        from homeassistant.components.notify import NotifyEntityFeature

PARALLEL_UPDATES = 0

DEFAULT_RECIPIENTS = NotifyEntityDescription(
    key="default_recipients", translation_key="default_recipients"
)

# What the action picker says about notify.actio_sms. A legacy notify service
# takes no translations: Home Assistant's language picks one of these.
LEGACY_SERVICE: Final = {
    "en": (
        "Send an SMS with ACTIO (legacy)",
        (
            "The older notify.actio_sms service: the message goes to the numbers in "
            "target, or to the entry's default recipients without a target. Pick it "
            "for tools that expect a notify service with targets, such as alerts; "
            "in new automations a recipient's notify entity (notify.send_message) "
            "or actio_sms.send_message, which returns the message ids, is clearer. "
            "data.sender picks the entry when there are several, data.send_at has "
            "ACTIO send it later."
        ),
    ),
    "pl": (
        "Wyślij SMS przez ACTIO (starsza usługa)",
        (
            "Starsza usługa notify.actio_sms: wiadomość trafia na numery z target, "
            "a bez target do domyślnych odbiorców wpisu. Wybierz ją dla narzędzi, "
            "które oczekują usługi powiadomień z celami, np. alertów; w nowych "
            "automatyzacjach czytelniejsza jest encja powiadomień odbiorcy "
            "(notify.send_message) albo actio_sms.send_message, która zwraca "
            "identyfikatory wiadomości. data.sender wybiera wpis, gdy jest ich "
            "kilka, data.send_at każe ACTIO wysłać później."
        ),
    ),
}


async def async_get_service(
    hass: HomeAssistant,
    config: ConfigType,
    discovery_info: DiscoveryInfoType | None = None,
) -> ActioNotificationService | None:
    """Return the legacy notify service (loaded once through discovery)."""
    if discovery_info is None:
        return None
    return ActioNotificationService(hass)


class ActioNotificationService(BaseNotificationService):
    """``notify.actio_sms``: message + target, ``data.sender`` picks the entry."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Keep hass."""
        self.hass = hass

    async def async_register_services(self) -> None:
        """Register, then say what this service does (not notify's generic text)."""
        await super().async_register_services()
        language = self.hass.config.language.split("-")[0]
        name, description = LEGACY_SERVICE.get(language, LEGACY_SERVICE["en"])
        async_set_service_schema(
            self.hass,
            NOTIFY_DOMAIN,
            DOMAIN,
            {
                "name": name,
                "description": description,
                "fields": self.services_dict["notify"]["fields"],
            },
        )

    async def async_send_message(self, message: str = "", **kwargs: Any) -> None:
        """Send to the targets, or the entry's default recipients."""
        data = kwargs.get(ATTR_DATA) or {}
        sender = data.get(CONF_SENDER) if isinstance(data, dict) else None
        runtime = async_runtime_for_action(self.hass, sender=sender)
        targets = kwargs.get(ATTR_TARGET) or runtime.settings.default_recipients
        if not targets:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_recipients"
            )
        options = send_options(
            runtime, send_at=data.get(ATTR_SEND_AT) if isinstance(data, dict) else None
        )
        await async_send(runtime, targets, message, options=options)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ActioConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one notify entity per recipient subentry, and the default one."""
    runtime = entry.runtime_data
    if runtime.settings.default_recipients:
        async_add_entities([ActioDefaultNotify(runtime, DEFAULT_RECIPIENTS)])
    added: set[str] = set()

    @callback
    def _async_add_recipients() -> None:
        for subentry in entry.subentries.values():
            if (
                subentry.subentry_type == SUBENTRY_RECIPIENT
                and subentry.subentry_id not in added
            ):
                added.add(subentry.subentry_id)
                async_add_entities(
                    [ActioRecipientNotify(runtime, subentry)],
                    config_subentry_id=subentry.subentry_id,
                )

    async def _async_entry_updated(_hass: HomeAssistant, _entry: ConfigEntry) -> None:
        # A recipient added while loaded: its entity, without a reload (other
        # changes reload the entry, see __init__).
        if not runtime.needs_reload():
            _async_add_recipients()

    _async_add_recipients()
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))


class ActioNotifyBase(ActioEntity, NotifyEntity):
    """Sends to a fixed list of numbers."""

    _id_domain = NOTIFY_DOMAIN

    _attr_supported_features = NotifyEntityFeature.TITLE

    @property
    def recipients(self) -> Sequence[str]:
        """Who this entity texts."""
        raise NotImplementedError

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send; a title becomes the first line."""
        body = f"{title}\n{message}" if title else message
        await async_send(self.runtime, self.recipients, body)


class ActioDefaultNotify(ActioNotifyBase):
    """The options' default recipients."""

    @property
    def recipients(self) -> Sequence[str]:
        """The default recipients."""
        return self.runtime.settings.default_recipients


class ActioRecipientNotify(ActioNotifyBase):
    """One recipient configured as a subentry."""

    _attr_name = None

    def __init__(self, runtime: ActioRuntime, subentry: ConfigSubentry) -> None:
        """Give the recipient a device of its own, linked to the entry's."""
        super().__init__(runtime, NotifyEntityDescription(key=subentry.subentry_id))
        self._number = str(subentry.data[CONF_NUMBER])
        # Named as a person reads it ("Mom (+48 600 100 200)"); the entity id
        # keeps the entry's pattern (notify.actio_sms_<number>_mom).
        self.entity_id = (
            f"{NOTIFY_DOMAIN}."
            f"{recipient_object_id(runtime.settings.sender, subentry.title)}"
        )
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{runtime.entry_id}_{subentry.subentry_id}")},
            name=recipient_label(subentry.title, self._number),
            manufacturer=MANUFACTURER,
            model="Recipient",
        )
        if (device_id := runtime.async_device_id()) is not None:
            self._attr_device_info["via_device_id"] = device_id

    @property
    def recipients(self) -> Sequence[str]:
        """The recipient's number."""
        return [self._number]
