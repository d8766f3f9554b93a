"""Settings read from the environment: the business-day calendar and retired variables."""

from __future__ import annotations

import pytest

from antifraud.core.business_days import BusinessCalendar
from antifraud.streams.settings import Settings, retired_variables_set


def test_lifetimes_default_to_five_business_days_in_kazakhstan() -> None:
    policy = Settings.from_env({}).policy
    assert policy.calendar == BusinessCalendar("KZ", "Asia/Almaty")
    assert policy.lifetime_business_days == 5


def test_calendar_country_zone_and_days_are_settings() -> None:
    policy = Settings.from_env(
        {
            "ANTIFRAUD_CALENDAR_COUNTRY": "DE",
            "ANTIFRAUD_TIME_ZONE": "Europe/Berlin",
            "ANTIFRAUD_HOLD_BUSINESS_DAYS": "3",
        }
    ).policy
    assert policy.calendar == BusinessCalendar("DE", "Europe/Berlin")
    assert policy.lifetime_business_days == 3


@pytest.mark.parametrize(
    "env",
    [
        {"ANTIFRAUD_TIME_ZONE": "Asia/Nowhere"},
        {"ANTIFRAUD_CALENDAR_COUNTRY": "XX"},
        {"ANTIFRAUD_HOLD_BUSINESS_DAYS": "0"},
    ],
)
def test_a_calendar_that_cannot_count_fails_at_start(env: dict[str, str]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - zoneinfo, holidays and Policy raise their own
        Settings.from_env(env)


def test_the_retired_lifetime_in_hours_is_named_when_set() -> None:
    assert retired_variables_set({}) == {}
    retired = retired_variables_set({"ANTIFRAUD_COMMAND_LIFETIME_HOURS": "120"})
    assert list(retired) == ["ANTIFRAUD_COMMAND_LIFETIME_HOURS"]
    assert "ANTIFRAUD_HOLD_BUSINESS_DAYS" in retired["ANTIFRAUD_COMMAND_LIFETIME_HOURS"]


def test_key_issuers_and_supervisory_issuers_are_settings() -> None:
    settings = Settings.from_env(
        {
            "ANTIFRAUD_REPORT_KEY_ISSUERS": "almaty-1=ALM-PD-CYBER",
            "ANTIFRAUD_SUPERVISORY_ISSUERS": "GP-RK,ALM-PROSECUTOR",
        }
    )
    assert settings.report_key_issuers == {"almaty-1": "ALM-PD-CYBER"}
    assert settings.supervisory_issuers == {"GP-RK", "ALM-PROSECUTOR"}
    assert Settings.from_env({}).supervisory_issuers == frozenset()
