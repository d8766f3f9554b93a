"""RFC 3339 timestamps <-> unix seconds; every timestamp the platform writes is UTC with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_rfc3339(text: str) -> float:
    """Unix seconds. The schema already checked the shape; this catches impossible dates."""
    stamp = text.replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = stamp.partition(".")
    if dot:
        # Python 3.11 takes at most 6 fractional digits; nanoseconds add nothing here.
        digits = len(rest) - len(rest.lstrip("0123456789"))
        stamp = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    parsed = datetime.fromisoformat(stamp)
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs an offset")
    return parsed.timestamp()


def format_rfc3339(seconds: float) -> str:
    """Milliseconds, UTC, `Z`: `2026-11-29T09:05:00.120Z`."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
