"""Numbers and texts as people and ACTIO see them.

Normalisation, formatting and masking of phone numbers; SMS part counting;
shortening texts for states, log lines and answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
import math
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata

from homeassistant.core import HomeAssistant

from .actio import is_digits

DEFAULT_REGION: Final = "PL"
POLISH_COUNTRY_CODE: Final = 48
POLISH_NATIONAL_DIGITS: Final = 9
MIN_DIGITS: Final = 9
MAX_DIGITS: Final = 11
UCS2_PART_LENGTH: Final = 60
GSM7_MAX_LENGTH: Final = 160

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table cost two septets (escape + char).
GSM7_EXTENDED: Final = frozenset("^{}\\[~]|€\f")
_MOBILE_TYPES: Final = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class NumberProblem(StrEnum):
    """Why a number was refused; values are translation keys."""

    NOT_A_NUMBER = "not_a_number"
    WRONG_LENGTH = "wrong_length"
    NOT_POLISH_MOBILE = "not_polish_mobile"


class Encoding(StrEnum):
    """How ACTIO encodes outgoing messages."""

    UCS2 = "ucs2"
    GSM7 = "gsm7"


class InvalidNumberError(ValueError):
    """A number that cannot be used, with the reason."""

    def __init__(self, number: str, problem: NumberProblem) -> None:
        """Store the number as typed and the problem."""
        self.number = number
        self.problem = problem
        super().__init__(f"{number!r}: {problem}")


class MessageTooLongError(ValueError):
    """A GSM-7 body longer than one message."""

    def __init__(self, length: int) -> None:
        """Store the length in septets."""
        self.length = length
        super().__init__(f"{length} GSM-7 characters, at most {GSM7_MAX_LENGTH}")


class UnsupportedCharactersError(ValueError):
    """A body with characters GSM-7 cannot encode."""

    def __init__(self, characters: str) -> None:
        """Store the offending characters (each once, in order)."""
        self.characters = characters
        super().__init__(f"not in GSM-7: {characters}")


@dataclass(frozen=True, slots=True)
class NormalizedNumbers:
    """Outcome of normalising a list: good numbers (unique) and problems."""

    numbers: list[str]
    invalid: list[InvalidNumberError]


def metadata_pending() -> bool:
    """Whether phonenumbers still has region metadata to load (lazily, from disk)."""
    return any(
        loader is not None
        for loaders in (
            PhoneMetadata._region_available,
            PhoneMetadata._country_code_available,
        )
        for loader in loaders.values()
    )


async def async_load_metadata(hass: HomeAssistant) -> None:
    """Load all region metadata in the executor: it imports a module per region."""
    if metadata_pending():
        await hass.async_add_executor_job(PhoneMetadata.load_all)


def normalize_number(number: str, region: str = DEFAULT_REGION) -> str:
    """Return digits only, country code first (``48600100200``)."""
    raw = number.strip()
    if not raw or any(ch.isalpha() for ch in raw):
        raise InvalidNumberError(number, NumberProblem.NOT_A_NUMBER)
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as err:
        raise InvalidNumberError(number, NumberProblem.NOT_A_NUMBER) from err
    digits = f"{parsed.country_code}{parsed.national_number}"
    # Polish numbers always have nine national digits; elsewhere only the
    # spec's 9-11 digit rule applies.
    polish_wrong = parsed.country_code == POLISH_COUNTRY_CODE and (
        len(str(parsed.national_number)) != POLISH_NATIONAL_DIGITS
    )
    if polish_wrong or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise InvalidNumberError(number, NumberProblem.WRONG_LENGTH)
    return digits


def is_polish_mobile(digits: str) -> bool:
    """Return True for a normalised Polish mobile number."""
    try:
        parsed = phonenumbers.parse(f"+{digits}")
    except NumberParseException:
        return False
    return (
        parsed.country_code == POLISH_COUNTRY_CODE
        and phonenumbers.number_type(parsed) in _MOBILE_TYPES
    )


def normalize_numbers(numbers: list[str]) -> NormalizedNumbers:
    """Normalise and deduplicate, collecting every problem instead of stopping."""
    seen: dict[str, None] = {}
    invalid: list[InvalidNumberError] = []
    for number in numbers:
        try:
            seen.setdefault(normalize_number(number), None)
        except InvalidNumberError as err:
            invalid.append(err)
    return NormalizedNumbers(list(seen), invalid)


def recipient_label(name: str, digits: str) -> str:
    """A recipient as people read it: ``Mom (+48 600 100 200)``."""
    return f"{name} ({format_number(digits)})"


# Pure and costly (phonenumbers parses metadata); a home sees few numbers.
@lru_cache(maxsize=1024)
def format_number(digits: str) -> str:
    """A number as people write it (``+48 732 129 000``); anything else as is."""
    if not is_digits(digits):
        return digits
    try:
        parsed = phonenumbers.parse(f"+{digits}")
    except NumberParseException:
        return f"+{digits}"
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=1024)
def mask_number(number: str) -> str:
    """A number for logs and for whoever may not see it in full: ``+48 600 *** *09``.

    Logs end up in public bug reports. The country code and the first three
    and last two digits stay, enough to tell two numbers apart; a sender that
    is not a number (``InPost``) is shown as it is.
    """
    if not is_digits(number):
        digits = sum(char.isdigit() for char in number)
        if digits < MIN_DIGITS - 2:  # a sender name, not a number spelled oddly
            return number
        head, tail, shown = 5, digits - 2, number
    else:
        try:
            country = len(str(phonenumbers.parse(f"+{number}").country_code))
        except NumberParseException:
            country = 0
        head, tail, shown = country + 3, len(number) - 2, format_number(number)
    masked: list[str] = []
    index = 0
    for char in shown:
        if char.isdigit():
            masked.append(char if index < head or index >= tail else "*")
            index += 1
        else:
            masked.append(char)
    return "".join(masked)


def shorten(text: str, limit: int, *, one_line: bool = True) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (one line by default)."""
    if one_line:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ucs2_length(body: str) -> int:
    """Length in UCS-2/UTF-16 code units (characters beyond the BMP count 2)."""
    return len(body.encode("utf-16-le")) // 2


def gsm7_length(body: str) -> int:
    """Length in GSM-7 septets; raises for characters GSM-7 cannot encode."""
    unsupported = dict.fromkeys(
        ch for ch in body if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED
    )
    if unsupported:
        raise UnsupportedCharactersError("".join(unsupported))
    return len(body) + sum(ch in GSM7_EXTENDED for ch in body)


def count_parts(body: str, encoding: Encoding = Encoding.UCS2) -> int:
    """Number of SMS parts ACTIO bills for ``body``.

    UCS-2 (the default) splits every 60 characters; GSM-7 is one message of at
    most 160 septets and raises when the body does not fit.
    """
    if encoding is Encoding.GSM7:
        length = gsm7_length(body)
        if length > GSM7_MAX_LENGTH:
            raise MessageTooLongError(length)
        return 1
    return max(1, math.ceil(ucs2_length(body) / UCS2_PART_LENGTH))
