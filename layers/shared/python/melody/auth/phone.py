"""Phone numbers: parsed and normalised to E.164 with ``phonenumbers`` (India is the default).

``phonenumbers`` (about 70 ms to import, with its metadata) is imported on first use, so the
auth function's init stays small; under SnapStart its before-snapshot hook imports it, so a
restored environment has it loaded (see ``functions/auth/handler.py``).
"""

from __future__ import annotations

from melody.core.errors import InvalidInput


def normalise_phone(raw: str, country_code: str | None = None, *, default_region: str = "IN") -> str:
    """Return the E.164 form of ``raw``.

    ``country_code`` may be a calling code ("+91", "91") or a region ("IN"); a number written with a
    leading ``+`` carries its own country.
    """
    import phonenumbers

    region = default_region
    text = raw.strip()
    if country_code:
        cc = country_code.strip().upper()
        if cc.lstrip("+").isdigit():
            region = phonenumbers.region_code_for_country_code(int(cc.lstrip("+")))
            if region == "ZZ":
                raise InvalidInput("Unknown country calling code.", code="invalid_country_code")
        elif len(cc) == 2 and cc.isalpha():
            region = cc
        else:
            raise InvalidInput("Unknown country code.", code="invalid_country_code")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("That is not a phone number.", code="invalid_phone_number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("That phone number is not valid.", code="invalid_phone_number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """For logs: keep the country code and the last two digits."""
    return e164[:3] + "*" * max(0, len(e164) - 5) + e164[-2:]
