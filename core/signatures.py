"""Police report signatures: HMAC-SHA256 over the contract's canonical JSON.

The contract (CONTRACT.md, "Report") fixes the signed bytes exactly, because police systems sign
in their own code and we must reproduce their bytes bit for bit: the report without its
`signature` field, keys sorted at every level, `,` and `:` separators with no spaces, non-ASCII
written as itself, UTF-8. The HMAC key is the secret's UTF-8 bytes.

Pure functions only: the agents decide what to do with a verdict (dead-letter `bad_signature`).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

SIGNATURE_FIELD: Final = "signature"

# Lower-case only: the contract says lower-case hex, and accepting upper case would give one
# report two valid spellings of the same signature.
_HMAC_HEX: Final = re.compile(r"[0-9a-f]{64}")

SignatureReason = Literal[
    "ok", "unsigned_allowed", "missing", "unknown_key", "mismatch", "malformed"
]


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """The outcome of checking one report's signature.

    `reason` is a stable code for metrics and dead-letter messages:
    - "ok": signed with a configured key and the HMAC matches.
    - "unsigned_allowed": no keys are configured, so verification is not required and the
      report is accepted whatever its signature says (the worker warns loudly about this mode).
    - "missing": keys are configured but the report has no `signature` (absent or null).
    - "unknown_key": well-formed signature whose `key_id` is not configured.
    - "mismatch": the key is known but the HMAC does not match the canonical bytes.
    - "malformed": `signature` is not an object, `key_id` is not a non-empty string,
      `hmac_sha256` is not 64 lower-case hex digits, or the report cannot be canonicalised.
    `key_id` is the key the report claims (when readable), so operators can see which keys are
    still in use before retiring one during rotation. It is an identifier, never a secret.
    """

    ok: bool
    reason: SignatureReason
    key_id: str | None = None


def canonical_bytes(report: Mapping[str, Any]) -> bytes:
    """The exact bytes a report's HMAC is computed over (see the module docstring).

    Only the top-level `signature` field is left out; a nested field that happens to be called
    `signature` is content and is signed like any other.
    """
    unsigned = {k: v for k, v in report.items() if k != SIGNATURE_FIELD}
    # stdlib json on purpose: the contract defines the bytes as this very call, so any "faster
    # equivalent" serializer would be a second definition that could drift from the police side.
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _hmac_hex(report: Mapping[str, Any], secret: bytes) -> str:
    return hmac.new(secret, canonical_bytes(report), hashlib.sha256).hexdigest()


def sign_report(report: Mapping[str, Any], key_id: str, secret: bytes) -> dict[str, Any]:
    """Return a signed copy of `report`; any existing signature is replaced.

    The copy is deep so that later changes to the caller's nested objects cannot silently
    invalidate the signature. Used by the demo's simulated police and by tests; real police
    systems sign on their side with the same canonical bytes.
    """
    if not isinstance(key_id, str) or not key_id:
        raise ValueError("key_id must be a non-empty string")
    signed = copy.deepcopy({k: v for k, v in report.items() if k != SIGNATURE_FIELD})
    signed[SIGNATURE_FIELD] = {"key_id": key_id, "hmac_sha256": _hmac_hex(signed, secret)}
    return signed


def verify_report(report: Mapping[str, Any], keys: Mapping[str, bytes]) -> SignatureVerdict:
    """Check a report's signature against the configured keys.

    With several keys configured (rotation), the report's `key_id` picks the one to use, so
    either the old or the new key verifies during the overlap. When `keys` is empty the
    platform runs unauthenticated by operator choice: the result is ok with reason
    "unsigned_allowed", and callers must not treat that as proof of origin.
    """
    if not keys:
        return SignatureVerdict(ok=True, reason="unsigned_allowed")

    sig = report.get(SIGNATURE_FIELD)
    if sig is None:
        # A null signature carries no more information than an absent one.
        return SignatureVerdict(ok=False, reason="missing")
    if not isinstance(sig, Mapping):
        return SignatureVerdict(ok=False, reason="malformed")

    key_id = sig.get("key_id")
    claimed = sig.get("hmac_sha256")
    if not isinstance(key_id, str) or not key_id:
        return SignatureVerdict(ok=False, reason="malformed")
    # Shape is checked before the key lookup so a garbage signature is reported as garbage,
    # not as a rotation problem.
    if not isinstance(claimed, str) or _HMAC_HEX.fullmatch(claimed) is None:
        return SignatureVerdict(ok=False, reason="malformed", key_id=key_id)

    secret = keys.get(key_id)
    if secret is None:
        return SignatureVerdict(ok=False, reason="unknown_key", key_id=key_id)

    try:
        expected = _hmac_hex(report, secret)
    except (TypeError, ValueError, RecursionError):
        # Not JSON-serialisable (e.g. a lone surrogate, non-string keys, nested deeper than
        # the stdlib writes): nobody could have signed these bytes, so it cannot verify.
        return SignatureVerdict(ok=False, reason="malformed", key_id=key_id)

    # Constant-time comparison so response timing does not leak how many leading hex digits
    # of a forged HMAC were right.
    if hmac.compare_digest(expected, claimed):
        return SignatureVerdict(ok=True, reason="ok", key_id=key_id)
    return SignatureVerdict(ok=False, reason="mismatch", key_id=key_id)


def _parse_key_item(item: str, where: str) -> tuple[str, bytes]:
    """Parse one `key_id=secret`. Error messages name the place, never the secret."""
    key_id, sep, secret = item.partition("=")  # first '=' only: secrets may contain '='
    key_id = key_id.strip()
    # Surrounding whitespace is stripped from the secret as well: it is almost always a
    # formatting accident in an env var or file, and a silently different key is worse.
    secret = secret.strip()
    if not sep:
        # The item may be a bare secret pasted without its key_id, so do not echo it.
        raise ValueError(f"report key {where}: expected 'key_id=secret' (no '=' found)")
    if not key_id:
        raise ValueError(f"report key {where}: empty key_id before '='")
    if not secret:
        raise ValueError(f"report key {where}: empty secret for key_id {key_id!r}")
    return key_id, secret.encode("utf-8")


def _add_key(keys: dict[str, bytes], key_id: str, secret: bytes, where: str) -> None:
    # A repeated key_id is ambiguous (which secret wins?), so refuse rather than guess.
    if key_id in keys:
        raise ValueError(f"report key {where}: duplicate key_id {key_id!r}")
    keys[key_id] = secret


def parse_report_keys(spec: str) -> dict[str, bytes]:
    """Parse ANTIFRAUD_REPORT_KEYS: `key_id=secret[,key_id=secret...]`.

    Items are comma-separated and trimmed; empty items (a trailing comma) are skipped, so an
    empty or blank spec gives {} (no verification). Secrets may contain '=' but not ',' - use
    `load_key_file` for such secrets. Raises ValueError naming the item's position.
    """
    keys: dict[str, bytes] = {}
    for position, raw in enumerate(spec.split(","), start=1):
        item = raw.strip()
        if not item:
            continue
        where = f"item {position}"
        key_id, secret = _parse_key_item(item, where)
        _add_key(keys, key_id, secret, where)
    return keys


def load_key_file(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Read report keys from a file: one `key_id=secret` per line.

    Blank lines and lines starting with '#' are ignored. Comments are whole-line only, because
    '#' may appear inside a secret. Commas are allowed in secrets here. A UTF-8 BOM (left by
    some editors) is tolerated. Raises ValueError naming the line, never the secret.
    """
    text = Path(path).read_text(encoding="utf-8-sig")
    keys: dict[str, bytes] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{os.fspath(path)}:{lineno}"
        key_id, secret = _parse_key_item(line, where)
        _add_key(keys, key_id, secret, where)
    return keys
