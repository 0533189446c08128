"""Which time zone a learner means (`/review timezone`): the IANA names a person would pick (a
region and a city: "Europe/Berlin"), the places people type instead (a country, a big city that
has no zone named after it, a US abbreviation), and UTC offsets ("UTC+5:30", read by
glossary.daily.parse_zone). Legacy and technical names are left out: "Etc/GMT+2" is UTC-2 (POSIX
writes the sign the other way), "US/Samoa" is not Samoa, "localtime" is whatever host runs the bot."""

from __future__ import annotations

import difflib
import functools
import re
from zoneinfo import available_timezones

from ..glossary.daily import ScheduleError, zone_name

_REGIONS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/",
            "Indian/", "Pacific/")
# Aliases kept for old names: "Australia/LHI" is Lord Howe Island, not Delhi; "Asia/Calcutta" is Kolkata
_OLD_NAMES = frozenset({"Asia/Calcutta", "Asia/Katmandu", "Asia/Saigon", "Asia/Rangoon", "Europe/Kiev",
                        "America/Buenos_Aires", "Asia/Ulan_Bator", "Asia/Dacca", "Asia/Thimbu", "Asia/Macao",
                        "Asia/Ujung_Pandang", "Asia/Chungking", "Asia/Chongqing", "Asia/Harbin", "Asia/Kashgar",
                        "Asia/Tel_Aviv", "Pacific/Samoa", "Pacific/Johnston", "Pacific/Yap", "Pacific/Truk",
                        "Pacific/Ponape", "Pacific/Enderbury", "Atlantic/Faeroe", "Atlantic/Jan_Mayen",
                        "Europe/Nicosia", "Europe/Belfast", "Europe/Tiraspol", "America/Godthab"})


@functools.cache
def zones() -> tuple[str, ...]:
    """The names offered and accepted, sorted (read on first use: listing the tz database takes
    about 20 ms, which a bot's start-up need not wait for)."""
    return tuple(sorted(z for z in available_timezones() | {"UTC"}
                        if z == "UTC" or (z.startswith(_REGIONS) and z not in _OLD_NAMES
                                          and not re.fullmatch(r"[A-Z]{2,4}", z.rsplit("/", 1)[-1]))))


@functools.cache
def _lower() -> dict[str, str]:
    return {z.lower(): z for z in zones()}

# What people type for a zone instead of its IANA name: countries with one zone (or one that most
# of its people use), big cities that share another city's zone, and abbreviations.
PLACES = {
    **dict.fromkeys(("india", "delhi", "new delhi", "mumbai", "bombay", "bangalore", "bengaluru", "hyderabad",
                     "chennai", "pune", "calcutta", "ist"), "Asia/Kolkata"),
    **dict.fromkeys(("china", "beijing", "shenzhen", "guangzhou", "hangzhou", "chengdu"), "Asia/Shanghai"),
    **dict.fromkeys(("japan", "jst", "osaka", "kyoto"), "Asia/Tokyo"),
    **dict.fromkeys(("korea", "south korea", "kst"), "Asia/Seoul"),
    "taiwan": "Asia/Taipei", "vietnam": "Asia/Ho_Chi_Minh", "hanoi": "Asia/Ho_Chi_Minh", "thailand": "Asia/Bangkok",
    "indonesia": "Asia/Jakarta", "philippines": "Asia/Manila", "malaysia": "Asia/Kuala_Lumpur",
    "pakistan": "Asia/Karachi", "lahore": "Asia/Karachi", "islamabad": "Asia/Karachi",
    "bangladesh": "Asia/Dhaka", "nepal": "Asia/Kathmandu", "iran": "Asia/Tehran", "israel": "Asia/Jerusalem",
    "tel aviv": "Asia/Jerusalem", "uae": "Asia/Dubai", "abu dhabi": "Asia/Dubai", "saudi arabia": "Asia/Riyadh",
    **dict.fromkeys(("san francisco", "sf", "bay area", "silicon valley", "seattle", "california", "portland",
                     "san diego", "pacific", "pst", "pdt", "pt"), "America/Los_Angeles"),
    **dict.fromkeys(("new york city", "nyc", "boston", "washington", "washington dc", "dc", "philadelphia",
                     "atlanta", "miami", "pittsburgh", "eastern", "est", "edt", "et"), "America/New_York"),
    **dict.fromkeys(("texas", "dallas", "houston", "austin", "minneapolis", "central", "cst", "cdt", "ct"),
                    "America/Chicago"),
    **dict.fromkeys(("colorado", "salt lake city", "mountain", "mst", "mdt"), "America/Denver"),
    "arizona": "America/Phoenix", "hawaii": "Pacific/Honolulu", "alaska": "America/Anchorage",
    **dict.fromkeys(("canada", "ottawa", "montreal"), "America/Toronto"),
    "mexico": "America/Mexico_City", "brazil": "America/Sao_Paulo", "rio de janeiro": "America/Sao_Paulo",
    "argentina": "America/Argentina/Buenos_Aires", "buenos aires": "America/Argentina/Buenos_Aires",
    "colombia": "America/Bogota", "peru": "America/Lima", "chile": "America/Santiago",
    **dict.fromkeys(("uk", "england", "britain", "great britain", "scotland", "wales", "manchester", "edinburgh",
                     "bst"), "Europe/London"),
    "ireland": "Europe/Dublin", "portugal": "Europe/Lisbon", "spain": "Europe/Madrid", "barcelona": "Europe/Madrid",
    "france": "Europe/Paris", "belgium": "Europe/Brussels", "netherlands": "Europe/Amsterdam",
    **dict.fromkeys(("germany", "munich", "frankfurt", "hamburg", "cologne", "cet", "cest"), "Europe/Berlin"),
    "switzerland": "Europe/Zurich", "geneva": "Europe/Zurich", "austria": "Europe/Vienna", "italy": "Europe/Rome",
    "milan": "Europe/Rome", "poland": "Europe/Warsaw", "krakow": "Europe/Warsaw", "czechia": "Europe/Prague",
    "sweden": "Europe/Stockholm", "norway": "Europe/Oslo", "denmark": "Europe/Copenhagen",
    "finland": "Europe/Helsinki", "greece": "Europe/Athens", "turkey": "Europe/Istanbul", "romania": "Europe/Bucharest",
    "ukraine": "Europe/Kyiv", "kiev": "Europe/Kyiv", "russia": "Europe/Moscow", "saint petersburg": "Europe/Moscow",
    "egypt": "Africa/Cairo", "nigeria": "Africa/Lagos", "kenya": "Africa/Nairobi", "south africa": "Africa/Johannesburg",
    "cape town": "Africa/Johannesburg", "morocco": "Africa/Casablanca", "ethiopia": "Africa/Addis_Ababa",
    "new zealand": "Pacific/Auckland", "nz": "Pacific/Auckland", "wellington": "Pacific/Auckland",
    "canberra": "Australia/Sydney", "queensland": "Australia/Brisbane", "samoa": "Pacific/Apia",
}


def _key(text: str) -> str:
    return " ".join(text.strip().replace("_", " ").lower().split())


def _city(zone: str) -> str:
    return _key(zone.rsplit("/", 1)[-1])


def meant(typed: str) -> str | None:
    """The zone's name `typed` means without doubt, as it is stored: an IANA name in any case and
    with spaces for "_" ("america/new york"), a city only one zone is named after ("tokyo"), a place
    people type ("india", "san francisco", "pst"), or a UTC offset ("UTC+5:30": "UTC+05:30");
    None for anything else."""
    key = _key(typed)
    if not key:
        return None
    if key.replace(" ", "_") in _lower():
        return _lower()[key.replace(" ", "_")]
    if key in PLACES:
        return PLACES[key]
    cities = [z for z in zones() if "/" in z and _city(z) == key]
    if len(cities) == 1:
        return cities[0]
    if key in _UTC_NAMES:
        key = "utc"
    if offset_like(typed) or key in ("utc", "gmt", "z"):
        try:
            return zone_name(key)  # daily.parse_zone reads offsets, and says which it cannot
        except ScheduleError:
            return None
    return None


# UTC under the tz database's other names for it ("Etc/UTC" was refused as no zone at all)
_UTC_NAMES = frozenset({"etc/utc", "etc/gmt", "etc/uct", "etc/universal", "etc/zulu", "uct", "universal", "zulu",
                        "gmt0", "etc/gmt0", "etc/gmt+0", "etc/gmt-0", "etc/greenwich", "greenwich"})


def offset_like(typed: str) -> bool:
    """Whether the text reads as an offset ("UTC+2", "+05:30", "GMT-13") rather than a place."""
    return re.fullmatch(r"(?:utc|gmt|etc/gmt)?\s*[+-].*", _key(typed)) is not None


def choices(typed: str, limit: int) -> list[tuple[str, str]]:
    """(label, name) for an autocomplete: places and names holding what was typed ("new york":
    America/New_York, "delhi": Asia/Kolkata — delhi), those beginning with it first."""
    key = _key(typed)
    found: dict[str, str] = {}
    exact = meant(typed) if key else None
    if exact is not None:
        found[exact] = f"{exact} ({key})" if key in PLACES else exact
    for place, zone in PLACES.items():
        if key and key in place and zone not in found:
            found[zone] = f"{zone} ({place})"
    named = [z for z in zones() if key.replace(" ", "_") in z.lower()]
    named.sort(key=lambda z: not _city(z).startswith(key))
    for zone in named:
        found.setdefault(zone, zone)
    return [(label, zone) for zone, label in found.items()][:limit]


def near(typed: str, n: int = 3) -> list[str]:
    """Names near a text that names no zone ("Europe/Berln", "berln", "Munchen"): by the whole
    name, else by the city or place; none for an offset that is none (a place is no answer to it)."""
    if offset_like(typed):
        return []
    text = typed.strip().replace(" ", "_")
    whole = difflib.get_close_matches(text, zones(), n, 0.75)
    if whole:
        return whole
    places = {_city(z): z for z in zones() if "/" in z} | PLACES
    return list(dict.fromkeys(places[p] for p in difflib.get_close_matches(_key(typed), list(places), n, 0.75)))


def fixed(name: str) -> bool:
    """Whether a stored zone is a fixed offset ("UTC+02:00"), which no summer time moves."""
    return name.startswith("UTC") and name != "UTC"
