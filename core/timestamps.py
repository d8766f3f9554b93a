"""RFC 3339 timestamps <-> unix seconds; every timestamp the platform writes is UTC with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

# The contract's bounds on the times banks and police give events (`created_at`,
# `reported_at`): nothing before 2000, nothing more than 5 minutes ahead of our clock.
EARLIEST_EVENT_TIME: Final = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_CLOCK_AHEAD_SECONDS: Final = 300.0

# What `datetime` can represent in UTC: year 1 to year 9999.
_FIRST_SECOND: Final = datetime(1, 1, 1, tzinfo=UTC).timestamp()
# (half a millisecond short of year 10000, so the float rounds to .999 and not beyond)
_LAST_MILLISECOND: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() + 0.9995


def parse_rfc3339(text: str) -> float:
    """Unix seconds. The schema already checked the shape; this catches impossible dates.

    A time whose UTC date falls outside years 1-9999 (`9999-12-31T23:59:59-01:00`) is refused
    here: every timestamp the platform writes is UTC, and such a time cannot be written.
    """
    stamp = text.replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = stamp.partition(".")
    if dot:
        # Python 3.11 takes at most 6 fractional digits; nanoseconds add nothing here.
        digits = len(rest) - len(rest.lstrip("0123456789"))
        stamp = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    parsed = datetime.fromisoformat(stamp)
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs an offset")
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("outside years 1-9999 once converted to UTC") from None
    return parsed.timestamp()


def check_event_time(seconds: float, now: float) -> None:
    """Raise ValueError unless `seconds` is a plausible time for an event seen at `now`.

    A bank's or police system's clock (or a typo in a year) must not date an event in the
    future: a `created_at` or `reported_at` that is never pruned, never matches, or breaks
    the dates written from it.
    """
    if seconds < EARLIEST_EVENT_TIME:
        raise ValueError("before 2000-01-01")
    if seconds > now + MAX_CLOCK_AHEAD_SECONDS:
        raise ValueError(
            f"more than {MAX_CLOCK_AHEAD_SECONDS:.0f} s ahead of the platform's clock "
            f"({format_rfc3339(now)})"
        )


def format_rfc3339(seconds: float) -> str:
    """Milliseconds, UTC, `Z`: `2026-11-29T09:05:00.120Z`.

    Never raises: a time beyond what a date can say (a value stored before intake bounded
    event times) is written as the first or last representable millisecond, so one odd
    stored value cannot make every later command about its account fail.
    """
    if not _FIRST_SECOND <= seconds <= _LAST_MILLISECOND:
        seconds = _FIRST_SECOND if seconds < _FIRST_SECOND else _LAST_MILLISECOND
    m = datetime.fromtimestamp(seconds, tz=UTC)
    # Not strftime: its `%Y` writes year 1 as `1` on glibc, and RFC 3339 needs four digits.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )
