"""ACTIO's SMS gateway on the wire: the client, what ACTIO posts, the models.

Nothing here imports Home Assistant: this subpackage can be lifted into a
library of its own unchanged.
"""

from .client import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    MAX_MULTI_RECIPIENTS,
    ActioClient,
    new_idempotency_key,
    parse_retry_after,
)
from .errors import (
    ActioAnswerLostError,
    ActioAuthError,
    ActioConnectionError,
    ActioError,
    ActioNoFundsError,
    ActioNotFoundError,
    ActioRateLimitError,
    ActioResponseError,
    ActioServerError,
    ActioValidationError,
    format_field_errors,
)
from .inbound import (
    InboundRecord,
    InvalidPayloadError,
    UnrecognisedPayloadError,
    loads_tolerant,
    parse_inbound,
    shape_of,
)
from .models import (
    LEGACY_STATUSES,
    REPORTED_STATUSES,
    ApiMode,
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    ReportedStatus,
    SentMessage,
    is_digits,
    parse_message_id,
    storable,
    utc_now_iso,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "LEGACY_STATUSES",
    "MAX_MULTI_RECIPIENTS",
    "REPORTED_STATUSES",
    "ActioAnswerLostError",
    "ActioAuthError",
    "ActioClient",
    "ActioConnectionError",
    "ActioError",
    "ActioNoFundsError",
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
    "UnrecognisedPayloadError",
    "format_field_errors",
    "is_digits",
    "loads_tolerant",
    "new_idempotency_key",
    "parse_inbound",
    "parse_message_id",
    "parse_retry_after",
    "shape_of",
    "storable",
    "utc_now_iso",
]
