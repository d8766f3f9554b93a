"""Shared hypothesis strategies and small builders for the pure-core tests.

Everything here builds *valid* identifiers from first principles (check digits computed
here, not by the code under test), messes them up the way people write them, and builds
`antifraud.core.records.Transfer` values and `antifraud.core.matching` events without any Kafka or Faust.
"""

from __future__ import annotations

import string
import sys
import unicodedata
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from antifraud.core.identifiers import Identifier
from antifraud.core.matching import Event, Revoke, TransferIn, TransferOut, Watch
from antifraud.core.records import Transfer

# No deadline: timing on a shared runner is noise, not a property.
FAST = settings(max_examples=150, deadline=None)
QUICK = settings(max_examples=60, deadline=None)

T0 = 1_795_942_800.0  # 2026-11-29T09:00:00Z
HOUR = 3600.0

BICS = ("CASPKZKA", "HSBKKZKX", "IRTYKZKA", "TSESKZKA", "KCJBKZKX")

# ---------------------------------------------------------------------------- phones

# Kazakhstan's mobile ranges (numbering plan; +7 750 is not assigned and is refused).
KZ_MOBILE_PREFIXES = (
    "700",
    "701",
    "702",
    "705",
    "707",
    "708",
    "747",
    "760",
    "771",
    "775",
    "776",
    "777",
    "778",
)
# Fixed lines: Astana (7172) and Karaganda (7212) area codes, six-digit subscriber numbers.
KZ_FIXED_PREFIXES = ("7172", "7212")

kz_national = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(KZ_MOBILE_PREFIXES),
    st.text(alphabet=string.digits, min_size=7, max_size=7),
)
"""The 10 national digits of a Kazakhstan mobile number, e.g. `7011234567`."""

kz_any_national = kz_national | st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(KZ_FIXED_PREFIXES),
    st.text(alphabet=string.digits, min_size=6, max_size=6),
)
"""The 10 national digits of any assigned Kazakhstan number, mobile or fixed."""

# Every Unicode space separator (category Zs), as people and word processors put them in.
UNICODE_SPACES = tuple(
    chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Zs"
)


def _grouped(national: str) -> str:
    return f"({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"


PHONE_FORMS = (
    lambda n: "8" + n,  # 87011234567
    lambda n: n,  # 7011234567
    lambda n: "7" + n,  # 77011234567
    lambda n: "+7" + n,  # +77011234567
    lambda n: "007" + n,  # 0077011234567
    lambda n: f"8 {n[:3]} {n[3:6]} {n[6:8]} {n[8:]}",  # 8 701 123 45 67
    lambda n: "+7 " + _grouped(n),  # +7 (701) 123-45-67
    lambda n: "8 " + _grouped(n),  # 8 (701) 123-45-67
)

PHONE_NOISE = st.sampled_from(["", "", "", " ", "-", "(", ")", " - ", "  ", "\t", "."]) | (
    st.sampled_from(UNICODE_SPACES)
)


@st.composite
def sprinkled(draw: st.DrawFn, text: str, noise: st.SearchStrategy[str]) -> str:
    """`text` with random separators before, between and after its characters."""
    out = [draw(noise)]
    for ch in text:
        out.append(ch)
        out.append(draw(noise))
    return "".join(out)


@st.composite
def messy_kz_phone(draw: st.DrawFn) -> tuple[str, str]:
    """(messy text, expected E.164) for one Kazakhstan mobile number."""
    national = draw(kz_national)
    form = draw(st.sampled_from(PHONE_FORMS))(national)
    return draw(sprinkled(form, PHONE_NOISE)), "+7" + national


# ---------------------------------------------------------------------------- IBANs

# Country -> BBAN structure per the ISO 13616 registry: runs of digits (n), upper-case
# letters (a) or either (c), e.g. KZ `3!n13!c` is a 3-digit bank code and 13 characters.
IBAN_BBAN_STRUCTURES = {
    "KZ": (("n", 3), ("c", 13)),
    "DE": (("n", 18),),
    "GB": (("a", 4), ("n", 14)),
    "FR": (("n", 10), ("c", 11), ("n", 2)),
    "TR": (("n", 6), ("c", 16)),
    "RU": (("n", 14), ("c", 15)),
    "NL": (("a", 4), ("n", 10)),
    "NO": (("n", 11),),
}
IBAN_BBAN_LENGTHS = {
    country: sum(size for _, size in runs) for country, runs in IBAN_BBAN_STRUCTURES.items()
}

ALNUM = string.digits + string.ascii_uppercase
_RUN_ALPHABETS = {"n": string.digits, "a": string.ascii_uppercase, "c": ALNUM}


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits computed independently of `antifraud.core.identifiers`."""
    numeric = "".join(str(ALNUM.index(ch)) for ch in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


def build_iban(country: str, bban: str) -> str:
    return country + iban_check_digits(country, bban) + bban


@st.composite
def valid_iban(draw: st.DrawFn, countries: tuple[str, ...] | None = None) -> str:
    country = draw(st.sampled_from(countries or tuple(IBAN_BBAN_STRUCTURES)))
    bban = "".join(
        draw(st.text(alphabet=_RUN_ALPHABETS[kind], min_size=size, max_size=size))
        for kind, size in IBAN_BBAN_STRUCTURES[country]
    )
    return build_iban(country, bban)


@st.composite
def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.lower() if flip else ch for ch, flip in zip(text, flips, strict=True))


SEPARATOR_NOISE = st.sampled_from(["", "", "", " ", "-", "  ", " - ", "\t"]) | st.sampled_from(
    UNICODE_SPACES
)


@st.composite
def messy_iban(draw: st.DrawFn) -> tuple[str, str]:
    iban = draw(valid_iban())
    return draw(sprinkled(draw(random_case(iban)), SEPARATOR_NOISE)), iban


# ---------------------------------------------------------------------------- cards


def luhn_check_digit(body: str) -> str:
    """The digit that completes `body` to a Luhn-valid number, computed independently."""
    total = 0
    for position, ch in enumerate(reversed(body)):
        d = int(ch)
        if position % 2 == 0:  # these are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


@st.composite
def valid_card(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=string.digits, min_size=12, max_size=18))
    return body + luhn_check_digit(body)


@st.composite
def messy_card(draw: st.DrawFn) -> tuple[str, str]:
    card = draw(valid_card())
    return draw(sprinkled(card, SEPARATOR_NOISE)), card


# ---------------------------------------------------------------------------- records


def phone_id(serial: int) -> Identifier:
    return Identifier("phone", f"+7701{serial:07d}")


def iban_id(bank_code: str, account: int) -> Identifier:
    return Identifier("iban", build_iban("KZ", f"{bank_code}{account:013d}"))


def make_transfer(
    transfer_id: str,
    sender: Identifier,
    recipient: Identifier,
    *,
    bank_id: str = "CASPKZKA",
    recipient_bank: str = "HSBKKZKX",
    amount: int = 25_000_000,
    created_at: float = T0,
    status: str = "initiated",
    purpose: str | None = "p2p",
    currency: str = "KZT",
) -> Transfer:
    return Transfer(
        bank_id=bank_id,
        transfer_id=transfer_id,
        sender=sender,
        sender_bank=bank_id,
        recipient=recipient,
        recipient_bank=recipient_bank,
        amount=amount,
        currency=currency,
        status=status,
        created_at=created_at,
        purpose=purpose,
    )


def report_watch(
    report_id: str = "R-1",
    *,
    reported_at: float = T0,
    bank_id: str | None = None,
    fraud_type: str = "bank_impersonation",
) -> Watch:
    """What the report registry sends a reported account (hop 0)."""
    return Watch(report_id, fraud_type, reported_at, hop=0, bank_id=bank_id)


# ---------------------------------------------------------------------------- JSON values

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**16), max_value=10**16)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


# ---------------------------------------------------------------------------- internal values
# Any values the internal formats must carry (antifraud.core.serde), valid or not for matching.

banks = st.sampled_from(BICS)
short_text = st.text(alphabet=string.ascii_letters + string.digits + "-_/", min_size=1, max_size=12)
identifiers = st.one_of(
    valid_iban().map(lambda v: Identifier("iban", v)),
    valid_card().map(lambda v: Identifier("card", v)),
    st.text(alphabet=string.digits, min_size=10, max_size=10).map(
        lambda v: Identifier("phone", "+7" + v)
    ),
)
timestamps = st.floats(min_value=0, max_value=4e9, allow_nan=False) | st.just(T0)
amounts = st.integers(min_value=1, max_value=10**15)
transfers = st.builds(
    Transfer,
    bank_id=banks,
    transfer_id=short_text,
    sender=identifiers,
    sender_bank=banks,
    recipient=identifiers,
    recipient_bank=banks,
    amount=amounts,
    currency=st.sampled_from(["KZT", "USD"]),
    status=st.sampled_from(["initiated", "settled", "cancelled"]),
    created_at=timestamps,
    purpose=st.none() | st.sampled_from(["p2p", "salary", "other"]),
)
watches = st.builds(
    Watch,
    report_id=short_text,
    fraud_type=st.sampled_from(["bank_impersonation", "other"]),
    reported_at=timestamps,
    hop=st.integers(min_value=0, max_value=5),
    bank_id=st.none() | banks,
    via=st.none() | identifiers.map(lambda i: i.key),
    transfer_key=st.none() | short_text,
    amount=st.integers(min_value=0, max_value=10**15),
    lost=st.just(0) | amounts,
)
events: st.SearchStrategy[Event] = st.one_of(
    transfers.map(TransferIn),
    transfers.map(TransferOut),
    watches,
    short_text.map(Revoke),
)
hex_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
