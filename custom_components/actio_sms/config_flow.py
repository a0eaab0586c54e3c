"""Config flow: user, reauth, reconfigure, options and recipient subentries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol

from homeassistant.components import webhook
from homeassistant.components.notify.const import DOMAIN as NOTIFY_DOMAIN
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    BooleanSelector,
    ConversationAgentSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .actio import (
    DEFAULT_BASE_URL,
    ActioAuthError,
    ActioClient,
    ActioError,
    ActioValidationError,
    ApiMode,
)
from .cloudhook import async_create_cloudhook, async_webhook_reachable
from .const import (
    ACTIO_HOST,
    CONF_ALLOWED_SOURCES,
    CONF_API_MODE,
    CONF_API_URL,
    CONF_BULK,
    CONF_CLOUDHOOK,
    CONF_COMMAND_AGENT,
    CONF_COMMAND_PIN,
    CONF_COMMAND_REPLY,
    CONF_COMMAND_SENDERS,
    CONF_CONCURRENCY,
    CONF_DAILY_LIMIT,
    CONF_DEFAULT_RECIPIENTS,
    CONF_DUPLICATE_WINDOW,
    CONF_ENCODING,
    CONF_HISTORY_DAYS,
    CONF_HISTORY_SIZE,
    CONF_MAX_PARTS,
    CONF_NUMBER,
    CONF_PRICE_PER_PART,
    CONF_SENDER,
    CONF_TOKEN,
    CURRENCY,
    DEFAULT_CONCURRENCY,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_DUPLICATE_WINDOW,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_MAX_PARTS,
    DOMAIN,
    LOGGER,
    MAX_HISTORY_DAYS,
    MAX_HISTORY_SIZE,
    MAX_PARTS,
    SUBENTRY_RECIPIENT,
)
from .data import ActioConfigEntry
from .phone import (
    Encoding,
    InvalidNumberError,
    async_load_metadata,
    format_number,
    normalize_number,
)
from .settings import (
    OptionsError,
    coerce_options,
    recipient_labels,
    recipient_object_id,
)

SECTION_ADVANCED = "advanced"
TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
PHONE_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))
MODE_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[m.value for m in ApiMode],
        translation_key=CONF_API_MODE,
        mode=SelectSelectorMode.LIST,
    )
)


async def async_validate(
    hass: HomeAssistant, token: str, sender: str, api_url: str, mode: ApiMode
) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """Normalise the sender and probe ACTIO; return (sender, errors, placeholders).

    The placeholders carry why ACTIO could not be reached, for the error text.
    """
    placeholders = {"reason": ""}
    await async_load_metadata(hass)
    try:
        number = normalize_number(sender)
    except InvalidNumberError:
        # Not a number at all: ACTIO was not asked, so do not blame ACTIO.
        return None, {CONF_SENDER: "invalid_number"}, placeholders
    client = ActioClient(async_get_clientsession(hass), token, base_url=api_url)
    try:
        await client.check_credentials(number, mode=mode)
    except ActioAuthError:
        return number, {"base": "invalid_auth"}, placeholders
    except ActioValidationError as err:
        if "from" in err.errors:
            return number, {CONF_SENDER: "invalid_sender"}, placeholders
        return number, {"base": "unknown"}, placeholders
    except ActioError as err:
        placeholders["reason"] = str(err)
        return number, {"base": "cannot_connect"}, placeholders
    except Exception:  # noqa: BLE001
        LOGGER.exception("Unexpected error while checking ACTIO credentials")
        return number, {"base": "unknown"}, placeholders
    return number, {}, placeholders


def sender_updates(entry: ConfigEntry[Any], sender: str) -> dict[str, Any]:
    """Entry changes for a new virtual number.

    Entities and devices are keyed by the entry id, so they stay. The title
    follows the number unless the user renamed the entry.
    """
    old = entry.data[CONF_SENDER]
    renamed = entry.title not in (old, format_number(old))
    title = entry.title if renamed else format_number(sender)
    return {
        "unique_id": sender,
        "title": title,
        "data": {**entry.data, CONF_SENDER: sender},
    }


def webhook_url(hass: HomeAssistant, webhook_id: str) -> str:
    """The URL to paste into the ACTIO panel."""
    try:
        return webhook.async_generate_url(hass, webhook_id)
    except NoURLAvailableError:
        return webhook.async_generate_path(webhook_id)


class ActioConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up an ACTIO virtual number."""

    VERSION = 1
    MINOR_VERSION = 2

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ActioConfigEntry) -> ActioOptionsFlow:
        """Behaviour settings."""
        return ActioOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Recipients are subentries."""
        return {SUBENTRY_RECIPIENT: RecipientSubentryFlow}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the token and the sender number."""
        errors: dict[str, str] = {}
        placeholders = {"reason": ""}
        changed_advanced = False
        if user_input is not None:
            advanced = user_input.get(SECTION_ADVANCED, {})
            api_url = str(advanced.get(CONF_API_URL) or DEFAULT_BASE_URL).rstrip("/")
            mode = ApiMode(advanced.get(CONF_API_MODE, ApiMode.SMS))
            changed_advanced = api_url != DEFAULT_BASE_URL or mode is not ApiMode.SMS
            sender, errors, placeholders = await async_validate(
                self.hass,
                user_input[CONF_TOKEN],
                user_input[CONF_SENDER],
                api_url,
                mode,
            )
            if sender and not errors:
                await self.async_set_unique_id(sender)
                self._abort_if_unique_id_configured()
                return await self._async_create(
                    {
                        CONF_TOKEN: user_input[CONF_TOKEN],
                        CONF_SENDER: sender,
                        CONF_API_URL: api_url,
                        CONF_API_MODE: mode.value,
                    }
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_TOKEN): TOKEN_SELECTOR,
                        vol.Required(CONF_SENDER): PHONE_SELECTOR,
                        vol.Required(SECTION_ADVANCED): section(
                            vol.Schema(
                                {
                                    vol.Required(
                                        CONF_API_URL, default=DEFAULT_BASE_URL
                                    ): URL_SELECTOR,
                                    vol.Required(
                                        CONF_API_MODE, default=ApiMode.SMS.value
                                    ): MODE_SELECTOR,
                                }
                            ),
                            # Open after an error if the user changed it there.
                            {"collapsed": not changed_advanced},
                        ),
                    }
                ),
                user_input,
            ),
            description_placeholders={"default_url": DEFAULT_BASE_URL, **placeholders},
            errors=errors,
        )

    async def _async_create(self, data: dict[str, Any]) -> ConfigFlowResult:
        webhook_id = webhook.async_generate_id()
        cloud_url = await async_create_cloudhook(self.hass, webhook_id)
        reachable = cloud_url is not None or async_webhook_reachable(self.hass)
        return self.async_create_entry(
            title=format_number(data[CONF_SENDER]),
            data={
                **data,
                CONF_WEBHOOK_ID: webhook_id,
                CONF_CLOUDHOOK: cloud_url is not None,
            },
            # Say so plainly when the URL shown works only inside the home.
            description=None if reachable else "unreachable",
            description_placeholders={
                "webhook_url": cloud_url or webhook_url(self.hass, webhook_id)
            },
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """ACTIO refused the token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders = {"reason": ""}
        if user_input is not None:
            _, errors, placeholders = await async_validate(
                self.hass,
                user_input[CONF_TOKEN],
                entry.data[CONF_SENDER],
                entry.data[CONF_API_URL],
                ApiMode(entry.data[CONF_API_MODE]),
            )
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            description_placeholders={
                "sender": format_number(entry.data[CONF_SENDER]),
                **placeholders,
            },
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change token, sender or API URL."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"reason": ""}
        if user_input is not None:
            api_url = str(user_input[CONF_API_URL]).rstrip("/")
            sender, errors, placeholders = await async_validate(
                self.hass,
                user_input[CONF_TOKEN],
                user_input[CONF_SENDER],
                api_url,
                ApiMode(entry.data[CONF_API_MODE]),
            )
            if sender and not errors:
                if sender != entry.unique_id:
                    await self.async_set_unique_id(sender)
                    self._abort_if_unique_id_configured()
                updates = sender_updates(entry, sender)
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=updates["unique_id"],
                    title=updates["title"],
                    data=updates["data"]
                    | {CONF_TOKEN: user_input[CONF_TOKEN], CONF_API_URL: api_url},
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_TOKEN): TOKEN_SELECTOR,
                        vol.Required(CONF_SENDER): PHONE_SELECTOR,
                        vol.Required(CONF_API_URL): URL_SELECTOR,
                    }
                ),
                user_input or dict(entry.data),
            ),
            description_placeholders=placeholders,
            errors=errors,
        )


def _numbers_selector(entry: ConfigEntry[Any]) -> SelectSelector:
    """Pick recipients by name, or type any number."""
    labels = recipient_labels(entry)
    for option in (CONF_DEFAULT_RECIPIENTS, CONF_COMMAND_SENDERS):
        for number in entry.options.get(option, []):
            labels.setdefault(number, format_number(number))
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=number, label=label)
                for number, label in labels.items()
            ],
            multiple=True,
            custom_value=True,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


class ActioOptionsFlow(OptionsFlow):
    """Behaviour: sending, history and webhook settings."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form for all options."""
        errors: dict[str, str] = {}
        placeholders = {"numbers": ""}
        if user_input is not None:
            await async_load_metadata(self.hass)
            try:
                options = coerce_options(user_input)
            except OptionsError as err:
                errors[err.field] = err.key
                placeholders |= err.placeholders
            else:
                return self.async_create_entry(data=options)
        tcx = self.config_entry.data.get(CONF_API_MODE) == ApiMode.TCX
        numbers_selector = _numbers_selector(self.config_entry)
        fields: dict[vol.Marker, Any] = {}
        if not tcx:
            fields[vol.Required(CONF_BULK, default=False)] = BooleanSelector()
        fields |= {
            vol.Required(CONF_CONCURRENCY, default=DEFAULT_CONCURRENCY): NumberSelector(
                NumberSelectorConfig(min=1, max=20, step=1, mode=NumberSelectorMode.BOX)
            ),
            vol.Required(CONF_ENCODING, default=Encoding.UCS2.value): SelectSelector(
                SelectSelectorConfig(
                    options=[e.value for e in Encoding],
                    translation_key=CONF_ENCODING,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            vol.Optional(CONF_DEFAULT_RECIPIENTS, default=[]): numbers_selector,
            vol.Required(CONF_ALLOWED_SOURCES, default=False): BooleanSelector(),
            vol.Required(
                CONF_HISTORY_SIZE, default=DEFAULT_HISTORY_SIZE
            ): NumberSelector(
                NumberSelectorConfig(
                    min=10, max=MAX_HISTORY_SIZE, step=1, mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(
                CONF_HISTORY_DAYS, default=DEFAULT_HISTORY_DAYS
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1, max=MAX_HISTORY_DAYS, step=1, mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(CONF_DAILY_LIMIT, default=DEFAULT_DAILY_LIMIT): NumberSelector(
                NumberSelectorConfig(
                    min=0, max=1_000_000, step=1, mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(
                CONF_DUPLICATE_WINDOW, default=DEFAULT_DUPLICATE_WINDOW
            ): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=86400,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="s",
                )
            ),
            vol.Required(CONF_MAX_PARTS, default=DEFAULT_MAX_PARTS): NumberSelector(
                NumberSelectorConfig(
                    min=1, max=MAX_PARTS, step=1, mode=NumberSelectorMode.BOX
                )
            ),
            vol.Optional(CONF_PRICE_PER_PART): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=100,
                    step="any",
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=CURRENCY,
                )
            ),
            vol.Optional(CONF_COMMAND_SENDERS, default=[]): numbers_selector,
            vol.Optional(CONF_COMMAND_PIN): TOKEN_SELECTOR,
            vol.Optional(CONF_COMMAND_AGENT): ConversationAgentSelector(),
            vol.Required(CONF_COMMAND_REPLY, default=True): BooleanSelector(),
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(fields), user_input or dict(self.config_entry.options)
            ),
            description_placeholders={
                **placeholders,
                "actio_host": ACTIO_HOST,
                "bulk_note": "3cx" if tcx else "sms",
            },
            errors=errors,
        )


class RecipientSubentryFlow(ConfigSubentryFlow):
    """Add or change a recipient (a notify entity)."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a recipient."""
        return await self._async_step("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a recipient."""
        return await self._async_step("reconfigure", user_input)

    async def _async_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        current = self._get_reconfigure_subentry() if step_id == "reconfigure" else None
        errors: dict[str, str] = {}
        if user_input is not None:
            await async_load_metadata(self.hass)
            try:
                number = normalize_number(user_input[CONF_NUMBER])
            except InvalidNumberError:
                errors[CONF_NUMBER] = "invalid_number"
            else:
                if any(
                    sub.unique_id == number
                    and sub.subentry_type == SUBENTRY_RECIPIENT
                    and sub is not current
                    for sub in entry.subentries.values()
                ):
                    return self.async_abort(reason="already_configured")
                data = {CONF_NUMBER: number}
                title = user_input[CONF_NAME].strip() or number
                if current is not None:
                    return self.async_update_and_abort(
                        entry, current, title=title, data=data, unique_id=number
                    )
                # The id the notify entity will get (or the next free one).
                entity_id = er.async_get(self.hass).async_get_available_entity_id(
                    NOTIFY_DOMAIN, recipient_object_id(entry.data[CONF_SENDER], title)
                )
                return self.async_create_entry(
                    title=title,
                    data=data,
                    unique_id=number,
                    description_placeholders={
                        "name": title,
                        "number": format_number(number),
                        "entity_id": entity_id,
                    },
                )
        suggested = user_input or (
            {CONF_NAME: current.title, CONF_NUMBER: current.data[CONF_NUMBER]}
            if current
            else None
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_NAME): TextSelector(),
                        vol.Required(CONF_NUMBER): PHONE_SELECTOR,
                    }
                ),
                suggested,
            ),
            errors=errors,
        )
