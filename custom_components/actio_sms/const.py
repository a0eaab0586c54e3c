"""Constants for the ACTIO SMS integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "actio_sms"
VERSION: Final = "0.3.0"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "ACTIO"
ACTIO_HOST: Final = "msg-api.actio.pl"

CONF_TOKEN: Final = "token"  # noqa: S105
CONF_SENDER: Final = "sender"
CONF_API_URL: Final = "api_url"
CONF_API_MODE: Final = "api_mode"
CONF_CLOUDHOOK: Final = "cloudhook"

CONF_ALLOWED_SOURCES: Final = "allowed_sources"
CONF_BULK: Final = "bulk_sending"
CONF_CONCURRENCY: Final = "concurrency"
CONF_ENCODING: Final = "encoding"
CONF_DEFAULT_RECIPIENTS: Final = "default_recipients"
CONF_HISTORY_SIZE: Final = "history_size"
CONF_HISTORY_DAYS: Final = "history_days"
CONF_DAILY_LIMIT: Final = "daily_limit"
CONF_DUPLICATE_WINDOW: Final = "duplicate_window"
CONF_MAX_PARTS: Final = "max_parts"
CONF_PRICE_PER_PART: Final = "price_per_part"
CONF_COMMAND_SENDERS: Final = "command_senders"
CONF_COMMAND_PIN: Final = "command_pin"
CONF_COMMAND_AGENT: Final = "command_agent"
CONF_COMMAND_REPLY: Final = "command_reply"
CONF_PANEL_EVERYONE: Final = "panel_everyone"
"""Show the SMS panel to every user, not only admins."""
CONF_LLM_TOOLS: Final = "llm_tools"
"""Assist's AI agents may send and read SMS (``llm.py``); off by default."""

CONF_NUMBER: Final = "number"
SUBENTRY_RECIPIENT: Final = "recipient"

DEFAULT_CONCURRENCY: Final = 4
DEFAULT_HISTORY_SIZE: Final = 100_000
DEFAULT_HISTORY_DAYS: Final = 365
"""A year of SMS, as a phone keeps them (README, options); ~20 MB at 100,000."""
MAX_HISTORY_SIZE: Final = 1_000_000
MAX_HISTORY_DAYS: Final = 3650
# Spend guard defaults: far above what a home sends, far below a runaway loop
# (README, "Spend guard").
DEFAULT_DAILY_LIMIT: Final = 200
DEFAULT_DUPLICATE_WINDOW: Final = 60
DEFAULT_MAX_PARTS: Final = 10
DEFAULT_COMMAND_AGENT: Final = "conversation.home_assistant"
"""Home Assistant's own conversation agent (conversation's HOME_ASSISTANT_AGENT)."""
MAX_PARTS: Final = 10
"""ACTIO's own limit: a message of at most 10 parts (1530 characters)."""
CURRENCY: Final = "PLN"

EVENT_MESSAGE_RECEIVED: Final = "actio_sms_message_received"
EVENT_DELIVERY_STATUS: Final = "actio_sms_delivery_status"
EVENT_MESSAGE_SENT: Final = "actio_sms_message_sent"
EVENT_LIMIT_REACHED: Final = "actio_sms_limit_reached"
EVENT_COMMAND: Final = "actio_sms_command"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_MESSAGE: Final = "message"
ATTR_RECIPIENTS: Final = "recipients"
ATTR_DIRECTION: Final = "direction"
ATTR_NUMBER: Final = "number"
ATTR_LIMIT: Final = "limit"

SERVICE_SEND_MESSAGE: Final = "send_message"
SERVICE_GET_MESSAGES: Final = "get_messages"


API_TIMEOUT: Final = 15.0
MAX_WEBHOOK_BYTES: Final = 64 * 1024
STATE_MAX_LENGTH: Final = 255
ISSUE_WEBHOOK_UNREACHABLE: Final = "webhook_unreachable"
ISSUE_INVALID_SENDER: Final = "invalid_sender"
ISSUE_DAILY_LIMIT: Final = "daily_limit_reached"
ISSUE_COMMAND_LOCKOUT: Final = "command_lockout"
ISSUE_NO_FUNDS: Final = "no_funds"
ISSUE_UNRECOGNISED_POSTS: Final = "unrecognised_posts"
ISSUE_STORE_CORRUPT: Final = "store_corrupt"
ATTR_SENDER: Final = "sender"
ATTR_SEND_AT: Final = "send_at"
