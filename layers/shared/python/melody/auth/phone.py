"""Phone numbers: parsed and normalised to E.164 with ``phonenumbers`` (India is the default).

A number is accepted only when it is a valid number of its region that can receive a text message:
``phonenumbers`` must call it valid *and* of a mobile type (``MOBILE``, or ``FIXED_LINE_OR_MOBILE``
where the region's plan does not tell the two apart, as in the US). A trunk prefix (the leading
``0`` of ``098765 43210`` in India) is dropped by the parse, so the E.164 form, and the masked hint
shown back to the client, are of the number the code is really sent to.

``phonenumbers`` (about 70 ms to import, with its metadata) is imported on first use, so the
auth function's init stays small; under SnapStart its before-snapshot hook imports it, so a
restored environment has it loaded (see ``functions/auth/handler.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from melody.core.errors import InvalidInput

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

INVALID_PHONE_NUMBER = "invalid_phone_number"


def normalise_phone(raw: str, country_code: str | None = None, *, default_region: str = "IN") -> str:
    """Return the E.164 form of ``raw``, a mobile number of its region.

    ``country_code`` may be a calling code ("+91", "91") or a region ("IN"); a number written with a
    leading ``+`` carries its own country. Anything that is not a valid number able to receive SMS is
    422 ``invalid_phone_number``.
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
        raise InvalidInput("That is not a phone number.", code=INVALID_PHONE_NUMBER) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("That phone number is not valid.", code=INVALID_PHONE_NUMBER)
    if not can_receive_sms(parsed):
        raise InvalidInput("That number cannot receive text messages; enter a mobile number.", code=INVALID_PHONE_NUMBER)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def can_receive_sms(parsed: PhoneNumber) -> bool:
    """A mobile number: ``MOBILE``, or ``FIXED_LINE_OR_MOBILE`` where the region cannot tell them apart.

    A region whose metadata describes no mobile numbers at all (so none can be reported ``MOBILE``)
    is given the benefit of the doubt for its valid fixed lines.
    """
    import phonenumbers
    from phonenumbers import PhoneMetadata, PhoneNumberType

    kind = phonenumbers.number_type(parsed)
    if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return True
    if kind != PhoneNumberType.FIXED_LINE:
        return False
    region = phonenumbers.region_code_for_number(parsed)
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    mobile = metadata.mobile if metadata is not None else None
    return mobile is None or mobile.national_number_pattern is None


def mask_phone(e164: str) -> str:
    """For logs: keep the country code and the last two digits."""
    return e164[:3] + "*" * max(0, len(e164) - 5) + e164[-2:]


def phone_hint(e164: str) -> str:
    """The number a code went to, for the client to show: the whole country code and the last two digits.

    ``+919876543210`` → ``+91 ******** 10``; ``+14155552671`` → ``+1 ******** 71``. Built from the
    normalised E.164 form, so a trunk prefix the user typed is not in it.
    """
    import phonenumbers

    parsed = phonenumbers.parse(e164, None)
    national = e164[len(str(parsed.country_code)) + 1 :]
    return f"+{parsed.country_code} {'*' * max(0, len(national) - 2)} {national[-2:]}"
