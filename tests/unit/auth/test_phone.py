import pytest

from melody.auth.phone import mask_phone, normalise_phone, phone_hint
from melody.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("98765 43210", None, "+919876543210"),
        ("+91 98765-43210", None, "+919876543210"),
        ("09876543210", None, "+919876543210"),
        ("098765 43210", "+91", "+919876543210"),  # the trunk prefix 0 is dropped
        ("0 98765 43210", "IN", "+919876543210"),
        ("+91 098765 43210", None, "+919876543210"),
        ("07911 123456", "GB", "+447911123456"),
        ("(201) 555-0123", "US", "+12015550123"),  # FIXED_LINE_OR_MOBILE: the US plan cannot tell them apart
        ("(415) 555-2671", "US", "+14155552671"),
        ("415 555 2671", "+1", "+14155552671"),
        ("7911 123456", "44", "+447911123456"),
        ("+44 7911 123456", "+91", "+447911123456"),
    ],
)
def test_normalises_to_e164(raw, country, expected):
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize("country", ["+999", "XYZ", "++"])
def test_unknown_country_code(country):
    with pytest.raises(InvalidInput) as exc:
        normalise_phone("9876543210", country)
    assert exc.value.code == "invalid_country_code"


def test_mask_keeps_only_country_and_last_digits():
    assert mask_phone("+919876543210") == "+91********10"


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("1234567890", "+91"),  # valid as an Indian fixed line, but no SMS reaches it
        ("011 2345 6789", "IN"),  # a Delhi landline
        ("1800 123 4567", "IN"),  # toll free
        ("020 7946 0958", "GB"),  # a London landline
        ("22 1234 5678", "IN"),  # not a valid number at all
        ("9876543210", "US"),  # a fine Indian mobile, not a US number
        ("12345", None),
    ],
)
def test_only_numbers_that_can_receive_sms_are_accepted(raw, country):
    with pytest.raises(InvalidInput) as exc:
        normalise_phone(raw, country)
    assert (exc.value.status, exc.value.code) == (422, "invalid_phone_number")


def test_the_hint_shows_the_normalised_number_masked():
    assert phone_hint(normalise_phone("098765 43210")) == "+91 ******** 10"
    assert phone_hint("+14155552671") == "+1 ******** 71"
    assert phone_hint("+971501234567") == "+971 ******* 67"
