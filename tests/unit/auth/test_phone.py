import pytest

from melody.auth.phone import mask_phone, normalise_phone
from melody.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("98765 43210", None, "+919876543210"),
        ("+91 98765-43210", None, "+919876543210"),
        ("09876543210", None, "+919876543210"),
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
