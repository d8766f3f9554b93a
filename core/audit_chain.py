"""Hash-chained audit records for `antifraud.audit`, one chain per partition.

Every decision the platform makes is appended as an entry. Each record commits to the one
before it, so editing, deleting or reordering a record anywhere breaks every later link and
`verify_chain` points at the first break. This is tamper *evidence*, not tamper proof: there is
no secret, so someone able to rewrite the topic can rebuild a whole consistent chain, and
dropping records from the end leaves a shorter chain that still verifies. Both are caught only
by comparing the head hash with a copy kept elsewhere (see SECURITY.md).

Record layout:
    {"seq": n, "prev_hash": <64 hex>, "entry": {...}, "hash": <64 hex>}
    hash = sha256_hex(utf8(prev_hash + canonical_json({"seq", "prev_hash", "entry"})))

canonical_json is stdlib `json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`: the same rule as report signatures (so an auditor needs
to implement one rule, in any language), and NaN/Infinity are refused because they are not
JSON and would not survive the trip through Kafka unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

GENESIS: Final = "0" * 64

_HASH_HEX: Final = re.compile(r"[0-9a-f]{64}")


def _canonical_json(obj: Any) -> str:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _record_hash(prev_hash: str, seq: int, entry: Any) -> str:
    body = _canonical_json({"seq": seq, "prev_hash": prev_hash, "entry": entry})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _is_seq(value: object) -> TypeGuard[int]:
    # bool is an int subclass; `true` as a sequence number is malformed, not 1.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def chain_record(previous_hash: str, seq: int, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Build the record that follows `previous_hash` (GENESIS for seq 0).

    The stored entry is the JSON round trip of `entry`: a detached copy holding exactly what was
    hashed (tuples become lists), so later changes to the caller's object cannot make the record
    disagree with its own hash, and the record verifies the same after Kafka serialisation.
    Raises ValueError for a bad previous hash or seq, or an entry that is not JSON.
    """
    if not isinstance(previous_hash, str) or _HASH_HEX.fullmatch(previous_hash) is None:
        raise ValueError("previous_hash must be 64 lower-case hex digits")
    if not _is_seq(seq):
        raise ValueError("seq must be a non-negative int")
    if not isinstance(entry, Mapping):
        raise ValueError("entry must be a JSON object")
    try:
        stored = json.loads(_canonical_json(entry))
    except TypeError as exc:  # json raises TypeError for unserialisable values
        raise ValueError(f"entry is not JSON-serialisable: {exc}") from exc
    return {
        "seq": seq,
        "prev_hash": previous_hash,
        "entry": stored,
        "hash": _record_hash(previous_hash, seq, stored),
    }


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """The outcome of `verify_chain`.

    - intact: every record checked out.
    - checked: how many records were verified good. Records before `first_broken_seq` are
      trustworthy; nothing from it on is.
    - first_broken_seq: the sequence number the verifier expected at the first bad position
      (so a deleted record k, or records k and k+1 swapped, both report k), or None if intact.
    - reason: "ok", or the first failure: "malformed" (not a record: missing/ill-typed
      fields or an entry that is not JSON), "bad_seq" (a record missing, duplicated or out of
      order), "bad_prev_hash" (does not link to the previous record; also what an edited record
      whose own hash was recomputed shows, one seq later), "bad_hash" (content changed after
      hashing).
    """

    intact: bool
    checked: int
    first_broken_seq: int | None
    reason: str


def _check_record(record: Any, expected_seq: int, expected_prev: str) -> str | None:
    """Return a failure reason for one record, or None if it is good."""
    if not isinstance(record, Mapping):
        return "malformed"
    seq = record.get("seq")
    prev_hash = record.get("prev_hash")
    stored_hash = record.get("hash")
    if (
        not _is_seq(seq)
        or not isinstance(prev_hash, str)
        or not isinstance(stored_hash, str)
        or "entry" not in record
    ):
        return "malformed"
    # Order matters for a useful answer: sequence first (deletions and reorders), then the
    # link, then the content, so each kind of tampering gets its own reason.
    if seq != expected_seq:
        return "bad_seq"
    if prev_hash != expected_prev:
        return "bad_prev_hash"
    try:
        recomputed = _record_hash(prev_hash, expected_seq, record["entry"])
    except (TypeError, ValueError):
        return "malformed"
    # Plain comparison: these hashes are public, there is no secret to leak through timing.
    if recomputed != stored_hash:
        return "bad_hash"
    return None


def verify_chain(
    records: Iterable[Mapping[str, Any]],
    *,
    start_seq: int = 0,
    start_prev_hash: str = GENESIS,
) -> ChainVerdict:
    """Recompute every hash and link in order and report the first broken link.

    `records` must be one partition's chain in offset order. By default it must start at seq 0
    from GENESIS; `start_seq`/`start_prev_hash` let an auditor verify a segment (for instance
    after topic retention removed older records) from a checkpoint they trust. An empty input is
    intact. Stops at the first failure, since every later link depends on it.
    """
    expected_seq = start_seq
    expected_prev = start_prev_hash
    checked = 0
    for record in records:
        reason = _check_record(record, expected_seq, expected_prev)
        if reason is not None:
            return ChainVerdict(
                intact=False, checked=checked, first_broken_seq=expected_seq, reason=reason
            )
        expected_prev = record["hash"]
        expected_seq += 1
        checked += 1
    return ChainVerdict(intact=True, checked=checked, first_broken_seq=None, reason="ok")


class AuditChain:
    """The writer's state for one partition's chain: the last hash and the next seq.

    `append` advances the state as soon as it returns the record, so the caller must write that
    record to the topic before appending again. If a write fails, rebuild the chain with
    `resume` from the last record actually stored; otherwise the topic gets a gap that
    `verify_chain` will report as `bad_seq`. After a rebalance, the new owner of a partition
    resumes from that partition's last record.
    """

    __slots__ = ("_last_hash", "_next_seq")

    def __init__(self) -> None:
        self._last_hash: str = GENESIS
        self._next_seq: int = 0

    @classmethod
    def resume(cls, last_record: Mapping[str, Any] | None) -> AuditChain:
        """Continue after `last_record` (the newest record in the partition; None = empty).

        The record's own hash is recomputed first: continuing from an edited tail would extend
        a forged chain with fresh, valid-looking links. Raises ValueError if it does not verify.
        """
        chain = cls()
        if last_record is None:
            return chain
        seq = last_record.get("seq")
        prev_hash = last_record.get("prev_hash")
        if not _is_seq(seq) or not isinstance(prev_hash, str):
            raise ValueError("cannot resume audit chain: last record is malformed")
        reason = _check_record(last_record, seq, prev_hash)
        if reason is not None:
            raise ValueError(f"cannot resume audit chain at seq {seq}: {reason}")
        chain._last_hash = last_record["hash"]
        chain._next_seq = seq + 1
        return chain

    @property
    def last_hash(self) -> str:
        """The head hash: publish or store it elsewhere to detect a truncated or rebuilt chain."""
        return self._last_hash

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def append(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Chain `entry` after the current head and return the record to write."""
        record = chain_record(self._last_hash, self._next_seq, entry)
        # State moves only after the record was built, so a non-JSON entry leaves it untouched.
        self._last_hash = record["hash"]
        self._next_seq += 1
        return record
