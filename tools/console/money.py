"""Amounts and durations as an investigator reads them."""

from __future__ import annotations


def money(minor_units: int | None, currency: str = "KZT") -> str:
    """Integer minor units (tiyn) -> `250,000.00 KZT`; None -> `—`."""
    if minor_units is None:
        return "—"
    major, minor = divmod(abs(minor_units), 100)
    sign = "-" if minor_units < 0 else ""
    return f"{sign}{major:,}.{minor:02d} {currency}"


def duration(seconds: float | None) -> str:
    """`42 s`, `3 min 5 s`, `2 h 10 min`, `1 d 4 h`; None -> `—`."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
