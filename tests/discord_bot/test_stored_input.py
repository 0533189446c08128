"""Text one person types and others read later (a server's note or alias, a member's question in
the keepers' reports), and admin settings typed oddly or sent by a raw API call (QA68). Stored text
keeps no control, bidi or zero-width characters; a refused setting is echoed escaped; a report's
days outside their range get a message. (PostgreSQL and NUL: test_stored_input_postgresql.py, a
module of its own, since a module's world points discord.py at its fake Discord.)"""

from __future__ import annotations

import re

import pytest

from .command_world import CONTROL, LIVE_MENTION, World

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: everything after it on the line is shown mirrored


@pytest.fixture(scope="module")
def w(real_index_path, real_embedder, tmp_path_factory):
    world = World(real_index_path, real_embedder, tmp_path_factory.mktemp("stored") / "state.db")
    yield world
    world.close()


def test_a_note_with_a_bidi_override_is_shown_without_it(w: World) -> None:
    saved = w.command("glossary note set", {"term": "LoRA", "text": f"Lab 4 {RLO}uses rank 8 in week 3."})
    assert saved.text.startswith("Saved."), saved.text
    shown = w.command("define", {"term": "LoRA"}, user=w.user)  # any member, in any channel
    fields = [f for e in shown.bodies[0]["embeds"] for f in e.get("fields") or []]
    note = next(f["value"] for f in fields if "server" in f["name"].lower())
    assert "uses rank 8" in note and not CONTROL.search(note), note


def test_a_note_of_zero_width_characters_only_is_empty(w: World) -> None:
    answer = w.command("glossary note set", {"term": "Attention", "text": "\u200b \u200b\u2060"})
    assert answer.text.startswith("Not saved") and "empty" in answer.text, answer.text


def test_an_alias_is_stored_listed_and_offered_without_a_bidi_override(w: World) -> None:
    added = w.command("glossary alias add", {"alias": f"{RLO}lab4", "term": "QLoRA"})
    assert "now finds" in added.text, added.text
    listed = w.command("glossary alias list")
    changes = w.command("glossary changes")
    offered = w.autocomplete("define", {"term": "lab4"}, "term", user=w.user)
    for what, answer in (("alias list", listed), ("changes log", changes), ("/define autocomplete", offered)):
        assert "lab4" in answer.text, (what, answer.text)
        assert not [t for t in answer.texts() if CONTROL.search(t)], (what, answer.texts())


def test_the_gaps_report_shows_members_questions_without_control_or_bidi_characters(w: World) -> None:
    for text in (f"how do i bake {RLO}sourdough bread?", f"how do I bake sourdough {RLO}bread at home?",
                 "how do I knit a \x1b[31mred\x1b[0m scarf?", "how do I knit a \x1b[2Jscarf fast?"):
        w.command("ask", {"question": text}, user=w.user)
    report = w.command("glossary gaps")
    description = report.bodies[-1]["embeds"][0]["description"]
    assert "sourdough" in description and not CONTROL.search(description), description


@pytest.mark.parametrize("zone", ["Etc/GMT+2", "localtime", "posixrules", "Factory", "right/UTC", "US/Samoa",
                                  "EST5EDT"])
def test_a_server_time_zone_that_means_another_zone_is_refused(w: World, zone: str) -> None:
    # "Etc/GMT+2" is UTC-2 (an admin meaning UTC+2 got the post 4 hours late), "localtime" the host's
    # zone, "US/Samoa" not Samoa: /review timezone refuses each, and so does the server's setting.
    member = w.command("review timezone", {"zone": zone}, user=w.user)
    assert "is not a time zone I know" in member.text or "is no UTC offset" in member.text, member.text
    server = w.command("glossary config timezone", {"zone": zone})
    assert server.text.startswith("Not changed"), server.text
    assert w.command("glossary config timezone", {"zone": "berlin"}).text.startswith("Time zone updated")


@pytest.mark.parametrize("command, options", [
    ("glossary config timezone", {"zone": "<@&123456789012345678> ```"}),
    ("glossary config daily-time", {"time": "@everyone ```"}),
])
def test_a_refused_setting_is_echoed_escaped(w: World, command: str, options: dict) -> None:
    answer = w.command(command, options)
    assert answer.text.startswith("Not changed"), answer.text
    assert not LIVE_MENTION.search(answer.text), answer.text
    assert not re.search(r"(?<!\\)```", answer.text), answer.text


@pytest.mark.parametrize("command, days", [("glossary gaps", 1_000_000_000), ("glossary stats", 2**53),
                                           ("glossary stats", -5)])
def test_report_days_outside_their_range_get_a_message(w: World, command: str, days: int) -> None:
    # Discord's clients keep to the synced 1..3650; a raw API call need not, and discord.py passes it on.
    before = len(w.errors.records)
    answer = w.command(command, {"days": days})
    assert len(w.errors.records) == before, w.errors.messages()[before:]
    assert "goes from 1 to" in answer.text, answer.text


@pytest.mark.parametrize("command, options", [("glossary config study-channel", {"action": "add"}),
                                              ("glossary config daily-channel", {})])
def test_a_channel_of_another_server_gets_a_message_not_a_traceback(w: World, command: str, options: dict) -> None:
    # only a raw API call can send one: discord.py cannot convert it (TransformerError)
    before = len(w.errors.records)
    answer = w.command(command, {**options, "channel": w.other_guild.channel("elsewhere")})
    assert "can't use here" in answer.text and "Something went wrong" not in answer.text, answer.text
    assert len(w.errors.records) == before, w.errors.messages()[before:]
