"""Normalise account identifiers to the one form matching is done on: ``kind:value``.

Banks and police write the same account many ways (``8 701 123 45 67`` and
``+7 (701) 123-45-67`` are one phone). Matching only works if both sides reduce
to the same string, and a value that fails its check digit is rejected rather
than guessed at: a typo must not freeze somebody else's account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

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


_SEPARATORS = re.compile(r"[\s\-]+")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
# Lengths from the ISO 13616 registry for the countries most likely to appear here;
# other countries are checked by shape and mod-97 only.
_IBAN_LENGTHS: Final = {
    "KZ": 20,
    "RU": 33,
    "UZ": 28,
    "KG": 26,
    "GE": 22,
    "AZ": 28,
    "TR": 26,
    "DE": 22,
    "GB": 22,
    "FR": 27,
    "AE": 23,
    "UA": 29,
    "BY": 28,
}


def iban_mod97_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def normalise_iban(value: str) -> str:
    if not value.isascii():
        # Unicode upper-casing would turn "ß" into "SS": only ASCII can be an IBAN.
        raise InvalidIdentifier("iban: only letters A-Z and digits")
    iban = _SEPARATORS.sub("", value).upper()
    if not _IBAN_SHAPE.match(iban):
        raise InvalidIdentifier("iban: not of the form CCkk followed by 11-30 letters or digits")
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        raise InvalidIdentifier(f"iban: {iban[:2]} IBANs have {expected} characters")
    if not iban_mod97_ok(iban):
        raise InvalidIdentifier("iban: fails the ISO 13616 mod-97 check")
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
    number is read as a +7 number, which is right for both.
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
    if not 8 <= len(digits) <= 15:
        raise InvalidIdentifier("phone: E.164 numbers have 8-15 digits")
    if digits[0] == "7" and len(digits) != 11:
        raise InvalidIdentifier("phone: +7 numbers have 10 digits after the country code")
    return "+" + digits


_NORMALISERS: Final = {"iban": normalise_iban, "card": normalise_card, "phone": normalise_phone}


def normalise(kind: str, value: str) -> Identifier:
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
