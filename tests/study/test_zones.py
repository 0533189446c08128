"""Which time zone a learner means (bot/study/zones.py)."""

from datetime import UTC, datetime

import pytest

from bot.console_review import machine_zone
from bot.glossary.daily import parse_zone
from bot.study import zones


@pytest.mark.parametrize(("typed", "name"), [
    ("Europe/Berlin", "Europe/Berlin"), ("america/new york", "America/New_York"), ("tokyo", "Asia/Tokyo"),
    ("Delhi", "Asia/Kolkata"), ("india", "Asia/Kolkata"), ("san francisco", "America/Los_Angeles"),
    ("PST", "America/Los_Angeles"), ("Samoa", "Pacific/Apia"), ("utc", "UTC"), ("GMT", "UTC"),
    ("GMT+2", "UTC+02:00"), ("utc-5", "UTC-05:00"), ("+05:30", "UTC+05:30"), ("UTC+0", "UTC"),
])
def test_what_people_type_is_the_zone_they_mean(typed, name):
    assert zones.meant(typed) == name


@pytest.mark.parametrize("typed", ["Etc/GMT+2", "localtime", "Factory", "US/Samoa", "Australia/LHI", "UTC+15",
                                   "UTC+5:20", "", "   ", "atlantis"])
def test_technical_legacy_and_impossible_names_are_no_zone(typed):
    assert zones.meant(typed) is None


def test_an_offset_is_east_of_utc_when_it_says_plus():
    noon = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert noon.astimezone(parse_zone(zones.meant("GMT+2"))).hour == 14
    assert zones.fixed("UTC+02:00") and not zones.fixed("Europe/Berlin") and not zones.fixed("UTC")


def test_suggestions_are_places_not_lookalikes():
    assert zones.near("Europe/Berln") == ["Europe/Berlin"]
    assert zones.near("UTC+2x") == []  # an offset gone wrong gets the offset's form, not "UTC"
    assert all(zone in zones.zones() or zone.startswith("UTC") for _label, zone in zones.choices("a", 25))
    assert ("Asia/Kolkata (delhi)", "Asia/Kolkata") in zones.choices("delhi", 25)


def test_the_consoles_midnight_follows_the_machines_rules(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    zone = machine_zone()
    assert datetime(2026, 3, 30, 0, 0, tzinfo=zone).utcoffset() != datetime(2026, 3, 28, 0, 0, tzinfo=zone).utcoffset()
