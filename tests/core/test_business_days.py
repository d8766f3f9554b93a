"""Business-day lifetimes: the contract's example, Kazakhstan's holidays, and properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.business_days import (
    BusinessCalendar,
    _days_off,
    add_business_days,
    expires_at,
)
from antifraud.core.timestamps import parse_rfc3339
from tests.core.strategies import FAST

KZ = BusinessCalendar()
ALMATY = ZoneInfo("Asia/Almaty")


def local(seconds: float, zone: ZoneInfo = ALMATY) -> datetime:
    return datetime.fromtimestamp(seconds, tz=zone)


def test_contract_example_skips_independence_day() -> None:
    issued = parse_rfc3339("2026-12-11T15:00:00+05:00")  # a Friday
    assert not KZ.is_business_day(date(2026, 12, 16))  # Wednesday, Independence Day
    expiry = expires_at(issued, KZ)
    assert expiry == parse_rfc3339("2026-12-21T15:00:00+05:00")  # Monday
    assert local(expiry).isoformat() == "2026-12-21T15:00:00+05:00"


def test_without_the_holiday_the_same_hold_lapses_on_friday() -> None:
    # The same count in a calendar where 16 December is an ordinary Wednesday: the holiday is
    # what moved the contract's example from Friday the 18th to Monday the 21st.
    german_days = BusinessCalendar(country="DE", time_zone="Asia/Almaty")
    issued = parse_rfc3339("2026-12-11T15:00:00+05:00")
    assert expires_at(issued, german_days) == parse_rfc3339("2026-12-18T15:00:00+05:00")


def test_nowruz_days_and_their_observed_days_are_skipped() -> None:
    # 2026: Nowruz 21-23 March (Saturday to Monday), observed on Tuesday 24 and Wednesday 25.
    issued = parse_rfc3339("2026-03-20T10:30:00+05:00")  # Friday
    assert [KZ.is_business_day(date(2026, 3, d)) for d in range(21, 27)] == [
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert expires_at(issued, KZ) == parse_rfc3339("2026-04-01T10:30:00+05:00")


def test_an_issue_on_a_day_off_counts_from_the_next_business_day() -> None:
    saturday = parse_rfc3339("2026-12-12T09:00:00+05:00")
    # Mon 14, Tue 15, (Wed 16 off), Thu 17, Fri 18, Mon 21
    assert expires_at(saturday, KZ) == parse_rfc3339("2026-12-21T09:00:00+05:00")


def test_the_day_is_read_in_the_calendars_time_zone_not_in_utc() -> None:
    # 2026-12-10T20:00Z is already Friday 11 December 01:00 in Almaty.
    issued = parse_rfc3339("2026-12-10T20:00:00Z")
    assert local(expires_at(issued, KZ)).isoformat() == "2026-12-21T01:00:00+05:00"


def test_lifetime_is_a_setting() -> None:
    issued = parse_rfc3339("2026-12-11T15:00:00+05:00")
    assert expires_at(issued, KZ, 1) == parse_rfc3339("2026-12-14T15:00:00+05:00")
    assert expires_at(issued, KZ, 3) == parse_rfc3339("2026-12-17T15:00:00+05:00")
    with pytest.raises(ValueError):
        expires_at(issued, KZ, 0)


def test_bad_settings_fail_when_the_calendar_is_made() -> None:
    with pytest.raises(NotImplementedError):
        BusinessCalendar(country="XX")
    with pytest.raises(ZoneInfoNotFoundError):
        BusinessCalendar(time_zone="Asia/Nowhere")


def test_days_off_are_computed_once_per_year() -> None:
    issued = parse_rfc3339("2031-06-02T12:00:00+05:00")
    expires_at(issued, KZ)
    before = _days_off.cache_info()
    for _ in range(100):
        expires_at(issued, KZ)
    after = _days_off.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits


# ---------------------------------------------------------------------------- properties

instants = st.floats(
    min_value=parse_rfc3339("2001-01-01T00:00:00Z"),
    max_value=parse_rfc3339("2099-06-30T00:00:00Z"),
    allow_nan=False,
)
lifetimes = st.integers(min_value=1, max_value=15)


def working_days_between(first: date, last: date) -> int:
    """Business days in (first, last], read straight from `holidays`, not through the cache."""
    calendar = holidays.country_holidays("KZ", years=range(first.year, last.year + 1))
    days = (first + timedelta(days=n) for n in range(1, (last - first).days + 1))
    return sum(1 for d in days if calendar.is_working_day(d))


@FAST
@given(instants, lifetimes)
def test_expiry_is_exactly_n_business_days_later_at_the_same_local_time(
    issued: float, n: int
) -> None:
    expiry = expires_at(issued, KZ, n)
    start, end = local(issued), local(expiry)
    assert expiry > issued
    assert KZ.is_business_day(end.date())
    assert end.time() == start.time()
    assert working_days_between(start.date(), end.date()) == n


# Almaty has kept +05:00 since 2024-03-01, when it moved from +06:00 and lived the hour before
# midnight twice: inside a repeated hour a later issue has an earlier local time (see the module).
steady_instants = st.floats(
    min_value=parse_rfc3339("2024-03-02T00:00:00Z"),
    max_value=parse_rfc3339("2099-06-30T00:00:00Z"),
    allow_nan=False,
)


@FAST
@given(steady_instants, steady_instants, lifetimes)
def test_expiry_is_monotone_in_issue_time(a: float, b: float, n: int) -> None:
    early, late = sorted((a, b))
    assert expires_at(early, KZ, n) <= expires_at(late, KZ, n)


@FAST
@given(instants, st.integers(min_value=1, max_value=10))
def test_more_business_days_never_expire_earlier(issued: float, n: int) -> None:
    assert expires_at(issued, KZ, n) < expires_at(issued, KZ, n + 1)


@FAST
@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 1, 1)), lifetimes)
def test_adding_business_days_one_at_a_time_is_the_same(day: date, n: int) -> None:
    stepwise = day
    for _ in range(n):
        stepwise = add_business_days(stepwise, 1, KZ)
    assert add_business_days(day, n, KZ) == stepwise


@FAST
@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 1, 1)))
def test_a_weekend_day_is_a_business_day_only_when_a_working_day_was_moved_to_it(
    day: date,
) -> None:
    moved_here = holidays.country_holidays("KZ", years=day.year).weekend_workdays
    if day.weekday() >= 5:
        assert KZ.is_business_day(day) == (day in moved_here)
