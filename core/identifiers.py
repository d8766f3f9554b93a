"""Normalise account identifiers to the one form matching is done on: ``kind:value``.

Banks and police write the same account many ways (``8 701 123 45 67`` and
``+7 (701) 123-45-67`` are one phone). Matching only works if both sides reduce
to the same string, and a value that fails its check digit is rejected rather
than guessed at: a typo must not freeze somebody else's account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import phonenumbers
from schwifty import IBAN
from schwifty import exceptions as schwifty_errors

KINDS: Final = ("iban", "card", "phone")


class InvalidIdentifier(ValueError):
    """The value cannot be an identifier of its kind (dead-letter code ``invalid_identifier``)."""


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier; ``key`` is what every table and topic is keyed by."""

    kind: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def from_key(cls, key: str) -> Identifier:
        kind, _, value = key.partition(":")
        return cls(kind, value)

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}


# Every Unicode space (category Zs: NBSP, figure and narrow no-break spaces...), tabs and line
# breaks: `\s` on a str pattern is whatever `str.isspace()` accepts. Removed before any check,
# for every kind, so an account copied from a document matches the same account typed.
_SEPARATORS = re.compile(r"[\s\-]+")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def iban_mod97_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def normalise_iban(value: str) -> str:
    """Each country's IBAN length and BBAN structure come from schwifty (the ISO 13616
    registry), so `KZ` needs 20 characters with a 3-digit bank code, and a country that has
    no IBANs has none."""
    iban = _SEPARATORS.sub("", value)
    if not iban.isascii():
        # Unicode upper-casing would turn "ß" into "SS": only ASCII can be an IBAN.
        raise InvalidIdentifier("iban: only letters A-Z and digits")
    iban = iban.upper()
    if not _IBAN_SHAPE.match(iban):
        raise InvalidIdentifier("iban: not of the form CCkk followed by 11-30 letters or digits")
    country = iban[:2]
    try:
        IBAN(iban)
    except schwifty_errors.InvalidCountryCode:
        raise InvalidIdentifier(f"iban: {country} has no IBANs in the ISO 13616 registry") from None
    except schwifty_errors.InvalidLength:
        raise InvalidIdentifier(f"iban: not the length of a {country} IBAN") from None
    except schwifty_errors.InvalidChecksumDigits:
        raise InvalidIdentifier("iban: fails the ISO 13616 mod-97 check") from None
    except schwifty_errors.SchwiftyException:
        raise InvalidIdentifier(f"iban: not the structure of a {country} IBAN") from None
    return iban


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if position % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def normalise_card(value: str) -> str:
    # The Luhn check is the whole standard: card numbers have no registry to check against.
    card = _SEPARATORS.sub("", value)
    if not (card.isascii() and card.isdigit() and 13 <= len(card) <= 19):
        raise InvalidIdentifier("card: must be 13-19 digits")
    if not luhn_ok(card):
        raise InvalidIdentifier("card: fails the Luhn check")
    return card


_PHONE_NOISE = re.compile(r"[\s\-().]+")


def normalise_phone(value: str) -> str:
    """To E.164. Kazakhstan's domestic forms (trunk prefix 8, or the bare 10 digits) become +7.

    Kazakhstan shares country code 7 with Russia; a bare ``8 ...`` or 10-digit
    number is read as a +7 number, which is right for both. The result must be a number
    some country's numbering plan assigns (libphonenumber's metadata): `+8 701 000 00 01`
    has the shape of a number but no country code 8 exists, and it would never match.
    """
    phone = _PHONE_NOISE.sub("", value)
    if phone.startswith("+"):
        digits = phone[1:]
    elif phone.startswith("00"):
        digits = phone[2:]
    elif len(phone) == 11 and phone[0] == "8":
        digits = "7" + phone[1:]
    elif len(phone) == 11 and phone[0] == "7":
        digits = phone
    elif len(phone) == 10:
        digits = "7" + phone
    else:
        raise InvalidIdentifier("phone: not an international or Kazakhstan number")
    if not (digits.isascii() and digits.isdigit()) or digits[:1] == "0":
        raise InvalidIdentifier("phone: must be digits with a country code")
    if len(digits) > 15:
        # (The shortest numbers, Saint Helena's or Niue's, have 7 digits with the country code:
        # libphonenumber below knows them.)
        raise InvalidIdentifier("phone: E.164 numbers have at most 15 digits")
    if digits[0] == "7" and len(digits) != 11:
        raise InvalidIdentifier("phone: +7 numbers have 10 digits after the country code")
    e164 = "+" + digits
    if not _assigned(e164):
        raise InvalidIdentifier("phone: no numbering plan assigns this number")
    return e164


def _assigned(e164: str) -> bool:
    """Whether libphonenumber knows `e164` as a valid number, written exactly so in E.164.

    The number is built from its digits rather than by `phonenumbers.parse`, which costs as
    much again as the validity check itself (about 30 us) to find what is already known here:
    country calling codes are prefix-free, so the first 1-3 digits that are one are it.
    """
    digits = e164[1:]
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False
    national = digits[size:]
    if not national:
        return False
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros:  # Italy's numbers keep their leading zeros (as `parse` records them)
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == e164
    )


_NORMALISERS: Final = {"iban": normalise_iban, "card": normalise_card, "phone": normalise_phone}


# Sized for the accounts active in a few minutes of traffic: a customer who pays many times
# is checked once (the libraries cost 10-40 us a check, a hit well under one).
@lru_cache(maxsize=1 << 15)
def normalise(kind: str, value: str) -> Identifier:
    """The identifier `value` of `kind` names, or InvalidIdentifier (never cached)."""
    try:
        normaliser = _NORMALISERS[kind]
    except KeyError:
        raise InvalidIdentifier(f"kind: must be one of {', '.join(KINDS)}") from None
    return Identifier(kind, normaliser(value))


def mask(value: str) -> str:
    """Everything but the last four characters hidden: safe for logs and terminals."""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_key(key: str) -> str:
    kind, _, value = key.partition(":")
    return f"{kind}:{mask(value)}"
