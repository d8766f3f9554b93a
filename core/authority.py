"""Who may act on a report (CONTRACT.md, "Who may act on a report").

A police unit must not release or move money on another unit's case:
- each report key may be bound to one `issuer` (`ANTIFRAUD_REPORT_KEY_ISSUERS`,
  `key_id=issuer[,key_id=issuer...]`); a record whose `issuer` differs from its signing key's
  issuer is a forged signature (`bad_signature`). A key left unbound signs for any issuer (the
  worker warns about each one at start);
- `revoke`, `extend` and `return` are accepted only from the issuer that filed the report or
  from a supervisory issuer (`ANTIFRAUD_SUPERVISORY_ISSUERS`, a prosecutor's office); anyone
  else is `forbidden`.

Issuers are compared as written (a record without `issuer` is the issuer ""). Without
configured keys (development) the `issuer` field is all there is, and it is compared the same
way. Pure functions: the intake and the report registry act on their answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def parse_key_issuers(spec: str) -> dict[str, str]:
    """`key_id=issuer[,key_id=issuer...]` -> {key_id: issuer}; blank items are skipped.

    Raises ValueError on an item without `=`, an empty key id or issuer, or a key bound twice.
    """
    bound: dict[str, str] = {}
    for position, raw in enumerate(spec.split(","), start=1):
        item = raw.strip()
        if not item:
            continue
        key_id, sep, issuer = (part.strip() for part in item.partition("="))
        if not sep or not key_id or not issuer:
            raise ValueError(f"report key issuer item {position}: expected 'key_id=issuer'")
        if key_id in bound:
            # One key, two units: refuse rather than guess which one it speaks for.
            raise ValueError(f"report key issuer item {position}: key_id {key_id!r} bound twice")
        bound[key_id] = issuer
    return bound


def parse_issuers(spec: str) -> frozenset[str]:
    """A comma-separated list of issuers (`ANTIFRAUD_SUPERVISORY_ISSUERS`)."""
    return frozenset(item.strip() for item in spec.split(",") if item.strip())


def signer_mismatch(key_id: str | None, issuer: str, bound: Mapping[str, str]) -> str | None:
    """Why a record signed with `key_id` may not speak for `issuer`, or None when it may."""
    if key_id is None or key_id not in bound:
        return None  # unsigned (no keys configured) or an unbound key: any issuer
    if bound[key_id] == issuer:
        return None
    return f"key {key_id} signs for another issuer than {issuer!r}"


def unbound_keys(key_ids: Iterable[str], bound: Mapping[str, str]) -> list[str]:
    """The configured keys that may sign for any issuer (the worker warns about each)."""
    return sorted(set(key_ids) - set(bound))


def bindings_without_key(key_ids: Iterable[str], bound: Mapping[str, str]) -> list[str]:
    """Bound key ids that are not configured: most likely a typo in one of the two settings."""
    return sorted(set(bound) - set(key_ids))


def may_act(filed_by: str | None, acting: str, supervisory: frozenset[str]) -> bool:
    """Whether `acting` may revoke, extend or return a report `filed_by` filed.

    `filed_by` is None for a report recorded before issuers were kept: no unit can show it
    filed it, so only a supervisory issuer may act on it.
    """
    return acting in supervisory or (filed_by is not None and acting == filed_by)
