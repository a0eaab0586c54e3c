"""ACTIO's SMS gateway on the wire: the client, what ACTIO posts, the models.

Nothing here imports Home Assistant: this subpackage can be lifted into a
library of its own unchanged.
"""

from .client import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    MAX_MULTI_RECIPIENTS,
    ActioClient,
    parse_retry_after,
)
from .errors import (
    ActioAuthError,
    ActioConnectionError,
    ActioError,
    ActioNotFoundError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    format_field_errors,
)
from .inbound import InboundRecord, InvalidPayloadError, loads_tolerant, parse_inbound
from .models import (
    ApiMode,
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    ReportedStatus,
    SentMessage,
    is_digits,
    parse_message_id,
    utc_now_iso,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "MAX_MULTI_RECIPIENTS",
    "ActioAuthError",
    "ActioClient",
    "ActioConnectionError",
    "ActioError",
    "ActioNotFoundError",
    "ActioRateLimitError",
    "ActioResponseError",
    "ActioServerError",
    "ActioValidationError",
    "ApiMode",
    "DeliveryReport",
    "DeliveryStatus",
    "InboundMessage",
    "InboundRecord",
    "InvalidPayloadError",
    "ReportedStatus",
    "SentMessage",
    "format_field_errors",
    "is_digits",
    "loads_tolerant",
    "parse_inbound",
    "parse_message_id",
    "parse_retry_after",
    "utc_now_iso",
]
