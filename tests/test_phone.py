"""Number normalisation and part counting."""

from __future__ import annotations

import sys
from unittest.mock import patch

from phonenumbers.phonemetadata import PhoneMetadata
import pytest

from custom_components.actio_sms.actio.inbound import display_sender
from custom_components.actio_sms.phone import (
    Encoding,
    InvalidNumberError,
    MessageTooLongError,
    NumberProblem,
    UnsupportedCharactersError,
    async_load_metadata,
    count_parts,
    gsm7_length,
    is_polish_mobile,
    metadata_pending,
    normalize_number,
    normalize_numbers,
    shorten,
    ucs2_length,
)
from homeassistant.core import HomeAssistant


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+48 600 100 200", "48600100200"),
        ("0048600100200", "48600100200"),
        ("600-100-200", "48600100200"),
        ("600100200", "48600100200"),
        ("48600100200", "48600100200"),
        ("+48600100200", "48600100200"),
        ("(+48) 600 100 200", "48600100200"),
        ("600.100.200", "48600100200"),
        (" 600 100 200 ", "48600100200"),
        ("+48 22 123 45 67", "48221234567"),  # Warsaw landline
        ("+48 732 129 000", "48732129000"),
        ("+49 30 1234567", "49301234567"),  # Berlin, 11 digits
        ("+49 3012345", "493012345"),  # 9 digits: the spec's minimum
        ("+1 212 555 0100", "12125550100"),
        ("48 500-000-000", "48500000000"),
        ("0048 (600) 100-200", "48600100200"),
    ],
)
def test_normalize_valid(typed: str, expected: str) -> None:
    assert normalize_number(typed) == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", NumberProblem.NOT_A_NUMBER),
        ("   ", NumberProblem.NOT_A_NUMBER),
        ("mom", NumberProblem.NOT_A_NUMBER),
        ("ACTIO", NumberProblem.NOT_A_NUMBER),
        ("600 100 20O", NumberProblem.NOT_A_NUMBER),  # letter O
        ("123", NumberProblem.WRONG_LENGTH),
        (
            "60010020",
            NumberProblem.WRONG_LENGTH,
        ),  # 8 digits: 4860010020 is not a possible PL number
        ("6001002000", NumberProblem.WRONG_LENGTH),
        ("+1 212", NumberProblem.WRONG_LENGTH),
        ("+49 151 23456789", NumberProblem.WRONG_LENGTH),  # 13 digits
        ("+44 7700 900123", NumberProblem.WRONG_LENGTH),  # 12 digits
        ("+420 601 123 456", NumberProblem.WRONG_LENGTH),
        ("++--", NumberProblem.NOT_A_NUMBER),
    ],
)
def test_normalize_invalid(typed: str, problem: NumberProblem) -> None:
    with pytest.raises(InvalidNumberError) as err:
        normalize_number(typed)
    assert err.value.problem is problem
    assert err.value.number == typed
    assert str(err.value) == f"{typed!r}: {problem.value}"  # for debug logs


def test_normalize_numbers_dedupes_and_collects() -> None:
    result = normalize_numbers(
        ["+48 600 100 200", "600100200", "bad", "600100201", "12"]
    )
    assert result.numbers == ["48600100200", "48600100201"]
    assert [e.number for e in result.invalid] == ["bad", "12"]


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("48600100200", True),
        ("48732129000", True),
        ("48221234567", False),
        ("447700900123", False),
        ("48", False),
        ("x", False),
    ],
)
def test_is_polish_mobile(number: str, mobile: bool) -> None:
    assert is_polish_mobile(number) is mobile


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+48600100200", "48600100200"),
        ("48600100200", "48600100200"),
        (" ACTIO ", "ACTIO"),
        ("Bank 24", "Bank 24"),
        ("+Alarm", "+Alarm"),  # a name, even with a plus: kept as sent
        ("+٤٨٦٠٠١٠٠٢٠٠", "+٤٨٦٠٠١٠٠٢٠٠"),  # not ASCII digits: not a number
    ],
)
def test_display_sender(value: str, expected: str) -> None:
    assert display_sender(value) == expected


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        ("Test Actio", 1),
        ("a" * 60, 1),
        ("a" * 61, 2),
        ("a" * 120, 2),
        ("a" * 121, 3),
        ("ż" * 60, 1),  # Polish diacritics are one UCS-2 unit each
        ("ą" * 61, 2),
        ("🎉" * 30, 1),  # an emoji is two UTF-16 units
        ("🎉" * 31, 2),
        ("x", 1),
    ],
)
def test_parts_ucs2(body: str, parts: int) -> None:
    assert count_parts(body) == parts


def test_ucs2_length_counts_surrogates() -> None:
    assert ucs2_length("a🎉ż") == 4
    assert isinstance(ucs2_length("a🎉"), int)


@pytest.mark.parametrize(
    ("body", "length"),
    [("Hello", 5), ("a" * 160, 160), ("€", 2), ("[x]", 5), ("@£$", 3)],
)
def test_gsm7_length(body: str, length: int) -> None:
    assert gsm7_length(body) == length
    assert count_parts(body, Encoding.GSM7) == 1


def test_gsm7_too_long() -> None:
    with pytest.raises(MessageTooLongError) as err:
        count_parts("a" * 161, Encoding.GSM7)
    assert err.value.length == 161
    assert str(err.value) == "161 GSM-7 characters, at most 160"
    with pytest.raises(MessageTooLongError):
        count_parts("€" * 81, Encoding.GSM7)  # 162 septets


def test_gsm7_unsupported_characters() -> None:
    with pytest.raises(UnsupportedCharactersError) as err:
        count_parts("Zażółć 🎉 ż", Encoding.GSM7)
    assert err.value.characters == "żółć🎉"
    assert str(err.value) == "not in GSM-7: żółć🎉"


@pytest.mark.parametrize(
    ("text", "limit", "one_line", "expected"),
    [
        ("short", 5, True, "short"),
        ("longer", 5, True, "long…"),
        ("a\n b\t c", 9, True, "a b c"),
        ("a\n b", 9, False, "a\n b"),
        ("line one\nline two", 10, False, "line one\n…"),
        ("🙂🙂🙂", 2, True, "🙂…"),
    ],
)
def test_shorten(text: str, limit: int, *, one_line: bool, expected: str) -> None:
    assert shorten(text, limit, one_line=one_line) == expected


def test_shorten_makes_one_line_unless_told() -> None:
    assert shorten("a\n b", 9) == "a b"


async def test_region_metadata_loads_once_off_the_loop(hass: HomeAssistant) -> None:
    await async_load_metadata(hass)
    # Every region's module was imported (here, in the executor), not later
    # in the event loop at the first number from that region.
    assert "phonenumbers.data.region_TV" in sys.modules
    assert not metadata_pending()
    with patch.object(PhoneMetadata, "load_all") as load_all:
        await async_load_metadata(hass)
    load_all.assert_not_called()
