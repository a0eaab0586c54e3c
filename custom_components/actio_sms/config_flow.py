"""Config flow: user, reauth, reconfigure, options and recipient subentries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import probatio as vol
from yarl import URL

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
    ActioAnswerLostError,
    ActioAuthError,
    ActioClient,
    ActioError,
    ActioNoFundsError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
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
    CONF_LLM_TOOLS,
    CONF_MAX_PARTS,
    CONF_NUMBER,
    CONF_PANEL_EVERYONE,
    CONF_PRICE_PER_PART,
    CONF_SENDER,
    CONF_TOKEN,
    CURRENCY,
    DEFAULT_COMMAND_AGENT,
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
from .webhook import async_entry_webhook_url, local_webhook_url

SECTION_ADVANCED = "advanced"
# The options form's sections; the options are stored flat, as before.
OPTION_SECTIONS: Final[dict[str, tuple[str, ...]]] = {
    "sending": (CONF_BULK, CONF_CONCURRENCY, CONF_ENCODING, CONF_DEFAULT_RECIPIENTS),
    "history": (
        CONF_ALLOWED_SOURCES,
        CONF_HISTORY_SIZE,
        CONF_HISTORY_DAYS,
        CONF_PANEL_EVERYONE,
    ),
    "spend_guard": (
        CONF_DAILY_LIMIT,
        CONF_DUPLICATE_WINDOW,
        CONF_MAX_PARTS,
        CONF_PRICE_PER_PART,
    ),
    "commands": (
        CONF_COMMAND_SENDERS,
        CONF_COMMAND_PIN,
        CONF_COMMAND_AGENT,
        CONF_COMMAND_REPLY,
    ),
    "assist": (CONF_LLM_TOOLS,),
}
TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
PHONE_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))
LIMIT_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=0, max=1_000_000, step=1, mode=NumberSelectorMode.BOX)
)
MODE_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[m.value for m in ApiMode],
        translation_key=CONF_API_MODE,
        mode=SelectSelectorMode.LIST,
    )
)


def api_host(api_url: str) -> str:
    """The host (and port, if given) of an API URL, for the error words."""
    try:
        url = URL(api_url)
    except ValueError:
        return api_url
    if not url.host:
        return api_url
    return url.host if url.explicit_port is None else f"{url.host}:{url.explicit_port}"


def valid_api_url(api_url: str) -> bool:
    """Whether ``api_url`` is a whole web address (http or https, with a host)."""
    try:
        url = URL(api_url)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _probe_error(err: Exception) -> dict[str, str]:
    """The form error for what the credential probe raised (words, not its text)."""
    match err:
        case ActioAuthError():
            return {"base": "invalid_auth"}
        case ActioValidationError(errors=errors) if "from" in errors:
            return {CONF_SENDER: "invalid_sender"}
        case ActioNoFundsError():
            return {"base": "no_funds"}
        case ActioRateLimitError():
            return {"base": "rate_limited"}
        case ActioServerError():
            return {"base": "server_error"}
        case ActioAnswerLostError():
            return {"base": "no_answer"}
        case ActioResponseError():
            # Something answered, but not as ACTIO's API does: the URL is wrong.
            return {CONF_API_URL: "wrong_api"}
        case ActioValidationError():
            return {"base": "unknown"}
        case ActioError():
            return {"base": "cannot_connect"}
    LOGGER.error("Unexpected error while checking ACTIO credentials", exc_info=err)
    return {"base": "unknown"}


async def async_validate(
    hass: HomeAssistant, token: str, sender: str, api_url: str, mode: ApiMode
) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """Check the fields, then probe ACTIO; return (sender, errors, placeholders).

    ``token`` comes trimmed. Errors are keyed by the field to fix (token,
    sender, api_url) or ``base``; every one is a translated sentence, the
    placeholders give it ACTIO's host, never an exception's text. ACTIO is
    asked only when the fields themselves are fine.
    """
    placeholders = {"host": api_host(api_url), "default_url": DEFAULT_BASE_URL}
    errors: dict[str, str] = {}
    number: str | None = None
    if not token:
        errors[CONF_TOKEN] = "empty_token"
    await async_load_metadata(hass)
    try:
        number = normalize_number(sender)
    except InvalidNumberError:
        # Not a number at all: ACTIO was not asked, so do not blame ACTIO.
        errors[CONF_SENDER] = "invalid_number"
    if not valid_api_url(api_url):
        errors[CONF_API_URL] = "invalid_url"
    if errors or number is None:
        return number, errors, placeholders
    client = ActioClient(async_get_clientsession(hass), token, base_url=api_url)
    try:
        await client.check_credentials(number, mode=mode)
    except Exception as err:  # noqa: BLE001
        return number, _probe_error(err), placeholders
    return number, {}, placeholders


def errors_in(errors: dict[str, str], fields: set[str], other: str) -> dict[str, str]:
    """``errors`` with those on fields a form does not show moved to ``other``."""
    return {
        key if key in fields or key == "base" else other: error
        for key, error in errors.items()
    }


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
        placeholders = {"host": api_host(DEFAULT_BASE_URL)}
        changed_advanced = False
        if user_input is not None:
            token = str(user_input[CONF_TOKEN]).strip()
            advanced = user_input.get(SECTION_ADVANCED, {})
            api_url = str(advanced.get(CONF_API_URL) or DEFAULT_BASE_URL).strip()
            api_url = api_url.rstrip("/")
            mode = ApiMode(advanced.get(CONF_API_MODE, ApiMode.SMS))
            changed_advanced = api_url != DEFAULT_BASE_URL or mode is not ApiMode.SMS
            sender, errors, placeholders = await async_validate(
                self.hass, token, user_input[CONF_SENDER], api_url, mode
            )
            # The URL is inside the section: its error shows above it.
            errors = errors_in(errors, {CONF_TOKEN, CONF_SENDER}, SECTION_ADVANCED)
            changed_advanced |= SECTION_ADVANCED in errors
            if sender and not errors:
                await self.async_set_unique_id(sender)
                self._abort_if_unique_id_configured()
                return await self._async_create(
                    {
                        CONF_TOKEN: token,
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
                "webhook_url": cloud_url or local_webhook_url(self.hass, webhook_id)
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
        placeholders = {"host": api_host(entry.data[CONF_API_URL])}
        if user_input is not None:
            token = str(user_input[CONF_TOKEN]).strip()
            _, errors, placeholders = await async_validate(
                self.hass,
                token,
                entry.data[CONF_SENDER],
                entry.data[CONF_API_URL],
                ApiMode(entry.data[CONF_API_MODE]),
            )
            errors = errors_in(errors, {CONF_TOKEN}, "base")
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: token}
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
        placeholders = {
            "host": api_host(entry.data[CONF_API_URL]),
            "default_url": DEFAULT_BASE_URL,
        }
        if user_input is not None:
            token = str(user_input[CONF_TOKEN]).strip()
            api_url = str(user_input[CONF_API_URL]).strip().rstrip("/")
            sender, errors, placeholders = await async_validate(
                self.hass,
                token,
                user_input[CONF_SENDER],
                api_url,
                ApiMode(entry.data[CONF_API_MODE]),
            )
            if sender and not errors:
                if sender != entry.unique_id:
                    await self.async_set_unique_id(sender)
                    self._abort_if_unique_id_configured()
                updates = sender_updates(entry, sender)
                result = self.async_update_reload_and_abort(
                    entry,
                    unique_id=updates["unique_id"],
                    title=updates["title"],
                    data=updates["data"] | {CONF_TOKEN: token, CONF_API_URL: api_url},
                )
                # The webhook is unchanged: shown again for the admin who needs
                # to check it in ACTIO's panel (never an entity state).
                result["description_placeholders"] = {
                    "webhook_url": await async_entry_webhook_url(self.hass, entry)
                }
                return result
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
                # The number as people write it, not as it is stored.
                user_input
                or {
                    **entry.data,
                    CONF_SENDER: format_number(entry.data[CONF_SENDER]),
                },
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


def flat_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The options form's input without its sections: the keys as stored."""
    flat: dict[str, Any] = {}
    for key, value in user_input.items():
        if key in OPTION_SECTIONS and isinstance(value, Mapping):
            flat |= value
        else:
            flat[key] = value
    return flat


def sectioned_options(options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Stored (flat) options as the form's sections, for its suggested values."""
    return {
        name: {key: options[key] for key in keys if key in options}
        for name, keys in OPTION_SECTIONS.items()
    }


def section_of(key: str) -> str:
    """The options form's section that holds ``key``."""
    return next(name for name, keys in OPTION_SECTIONS.items() if key in keys)


FORM_OPTIONS: Final = frozenset(
    key for keys in OPTION_SECTIONS.values() for key in keys
)


class ActioOptionsFlow(OptionsFlow):
    """Behaviour: sending, history, spend guard, commands and Assist's tools."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form, in sections; the options are stored flat."""
        errors: dict[str, str] = {}
        placeholders = {"numbers": ""}
        if user_input is not None:
            await async_load_metadata(self.hass)
            try:
                options = coerce_options(flat_options(user_input))
            except OptionsError as err:
                # Shown above the section that holds the field, opened.
                errors[section_of(err.field)] = err.key
                placeholders |= err.placeholders
            else:
                # Options this form does not show (none today) are kept.
                kept = {
                    key: value
                    for key, value in self.config_entry.options.items()
                    if key not in FORM_OPTIONS
                }
                return self.async_create_entry(data=kept | options)
        tcx = self.config_entry.data.get(CONF_API_MODE) == ApiMode.TCX
        numbers_selector = _numbers_selector(self.config_entry)
        sending: dict[vol.Marker, Any] = {}
        if not tcx:
            sending[vol.Required(CONF_BULK, default=False)] = BooleanSelector()
        sending |= {
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
        }
        history = {
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
            vol.Required(CONF_PANEL_EVERYONE, default=False): BooleanSelector(),
        }
        spend_guard = {
            vol.Required(CONF_DAILY_LIMIT, default=DEFAULT_DAILY_LIMIT): LIMIT_SELECTOR,
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
        }
        commands = {
            vol.Optional(CONF_COMMAND_SENDERS, default=[]): numbers_selector,
            vol.Optional(CONF_COMMAND_PIN): TOKEN_SELECTOR,
            # Required: the picker then offers no "None", which read as "off";
            # it shows Home Assistant's own agent, the one used when unset.
            vol.Required(
                CONF_COMMAND_AGENT, default=DEFAULT_COMMAND_AGENT
            ): ConversationAgentSelector(),
            vol.Required(CONF_COMMAND_REPLY, default=True): BooleanSelector(),
        }
        assist = {vol.Required(CONF_LLM_TOOLS, default=False): BooleanSelector()}
        fields = {
            "sending": sending,
            "history": history,
            "spend_guard": spend_guard,
            "commands": commands,
            "assist": assist,
        }
        schema = vol.Schema(
            {
                vol.Required(name): section(
                    vol.Schema(section_fields),
                    # Closed, so the form reads as five headings; the one
                    # with an error opens.
                    {"collapsed": name not in errors},
                )
                for name, section_fields in fields.items()
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                user_input or sectioned_options(self.config_entry.options),
            ),
            description_placeholders={
                **placeholders,
                "actio_host": ACTIO_HOST,
                "bulk_note": "3cx" if tcx else "sms",
                # Options are for admins: the URL to paste into ACTIO's panel.
                "webhook_url": await async_entry_webhook_url(
                    self.hass, self.config_entry
                ),
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
            {
                CONF_NAME: current.title,
                # As people write it: +48 600 100 200.
                CONF_NUMBER: format_number(str(current.data[CONF_NUMBER])),
            }
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
