"""Lifetimes in business days: when a hold or freeze lapses by itself.

Kazakhstan's rule since 31 August 2025: a hold lasts 5 *business* days. `expires_at` is
`issued_at` plus N business days of the configured calendar, counted in its time zone, at the
same local time of day: issued Friday 2026-12-11 15:00 (+05:00), 5 business days later is
Monday 2026-12-21 15:00, because Wednesday 2026-12-16 is Independence Day.

A business day is what the `holidays` package calls a working day of the country: not a
weekend day of that country and not one of its public holidays (observed days included), and
also a weekend day that the country moved a working day to. No holiday table is written here.

Every hold and freeze computes an expiry, so the days off of each (country, year) are
computed once and kept (`_days_off`): after the first call of a year a lookup is a set
membership test.

Time zones with daylight saving time: the local time of day is kept, so an expiry whose local
time falls in a skipped hour lands one hour later, and two issue times inside a repeated hour
may expire in the other order. The default zone (Asia/Almaty) has no daylight saving time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DEFAULT_COUNTRY = "KZ"
DEFAULT_TIME_ZONE = "Asia/Almaty"
DEFAULT_LIFETIME_BUSINESS_DAYS = 5


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """The calendar lifetimes are counted in: a country's working days in a time zone.

    country: ISO 3166-1 alpha-2 code the `holidays` package knows (`KZ`).
    time_zone: IANA name (`Asia/Almaty`); the day an instant falls on is read there.
    subdivision: optional region of the country, for countries whose holidays differ by region.
    """

    country: str = DEFAULT_COUNTRY
    time_zone: str = DEFAULT_TIME_ZONE
    subdivision: str | None = None

    def __post_init__(self) -> None:
        # Fail at configuration time, not on the first hold: both raise on an unknown name.
        ZoneInfo(self.time_zone)
        _days_off(self.country, self.subdivision, 2000)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo keeps its own cache of zones

    def is_business_day(self, day: date) -> bool:
        return day not in _days_off(self.country, self.subdivision, day.year)


@lru_cache(maxsize=64)
def _days_off(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Every day of `year` that is not a working day in `country` (weekends and holidays)."""
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    first = date(year, 1, 1)
    days = (first + timedelta(days=offset) for offset in range(366))
    return frozenset(d for d in days if d.year == year and not calendar.is_working_day(d))


def add_business_days(day: date, count: int, calendar: BusinessCalendar) -> date:
    """The `count`-th business day after `day` (`day` itself is never counted)."""
    if count < 1:
        raise ValueError("a lifetime is at least one business day")
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            remaining -= 1
    return day


def expires_at(
    issued_at: float,
    calendar: BusinessCalendar,
    business_days: int = DEFAULT_LIFETIME_BUSINESS_DAYS,
) -> float:
    """Unix seconds when a command issued at `issued_at` (unix seconds) lapses.

    The local date of `issued_at` in the calendar's zone moves `business_days` business days
    on; the local time of day stays.
    """
    local = datetime.fromtimestamp(issued_at, tz=calendar.zone)
    day = add_business_days(local.date(), business_days, calendar)
    expiry = datetime.combine(day, local.time(), tzinfo=calendar.zone)
    return expiry.timestamp()
