"""Closing the loop on Discord (issue 13): a 👎 with the entry the user wanted, exported by
`glossary-bot feedback export` into a file `glossary-bot eval` accepts; the gaps report
grouping scripted off-glossary questions into their topics; a server alias that works in
one server and not another, and a server note labelled as the server's; permissions
refused for ordinary members; retention deleting old rows; no raw user id stored."""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import UTC, datetime, timedelta

from bot.cli import main
from bot.discord_bot import render
from bot.discord_bot.cogs.study import looks_like_question
from tests.fake_discord import FakeDiscord
from tests.glossary.test_gaps import TOPICS  # the same three off-glossary topics, asked on Discord

from .helpers import (add_study_channel, assert_no_pings, button_ids, make_bot, make_settings, record_handled, run,
                      running, study_bot)
from .test_scores_and_privacy import _rows_naming



def test_a_thumbs_down_becomes_an_eval_case_and_nothing_stores_a_user_id(
        real_index_path, real_embedder, tmp_path, monkeypatch, capsys) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)

    seen: dict = {}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            users = [alice, bob, fake.owner]
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                question = "what's the trick where you recompute activations to save memory?"
                got = await fake.wait_for_response(await fake.send_slash_command("ask", {"question": question},
                                                                                 user=alice))
                ids = button_ids(got.message)
                up, down = (next(i for i in ids if i.startswith(f"{render.FEEDBACK_PREFIX}{v}:"))
                            for v in ("up", "down"))
                thanks = await fake.wait_for_response(await fake.click_button(got, up, user=bob))
                assert thanks.data["flags"] == 64 and "👍" in thanks.content
                menu = await fake.wait_for_response(await fake.click_button(got, down, user=alice))
                assert menu.data["flags"] == 64 and "Which entry did you want?" in menu.content
                select = menu.message["components"][0]["components"][0]
                labels = [o["label"] for o in select["options"]]
                assert labels[-1] == "None of these / not in the glossary" and len(labels) >= 2
                wanted = select["options"][0]["value"]
                picked = await fake.wait_for_response(await fake.select(menu, select["custom_id"], [wanted],
                                                                        user=alice))
                assert picked.ok and wanted in picked.data["content"]
                # alice changes her mind and back: still one vote of hers
                await fake.wait_for_response(await fake.click_button(got, up, user=alice))
                again = await fake.wait_for_response(await fake.click_button(got, down, user=alice))
                select = again.message["components"][0]["components"][0]
                await fake.wait_for_response(await fake.select(again, select["custom_id"], [wanted], user=alice))
                assert len(bot.state.feedback.votes(int(down.rsplit(":", 1)[1]))) == 2
                # bob's 👍 and alice's pick disagree: no case (counted); bob then agrees with her
                assert bot.state.feedback.export() == ([], 1)
                menu = await fake.wait_for_response(await fake.click_button(got, down, user=bob))
                select = menu.message["components"][0]["components"][0]
                await fake.wait_for_response(await fake.select(menu, select["custom_id"], [wanted], user=bob))
            assert not fake.errors
            assert_no_pings(fake)
            seen.update(user_ids=[u.id for u in users], wanted=wanted, question=question)

    run(scenario, timeout=120)
    user_ids, wanted, question = seen["user_ids"], seen["wanted"], seen["question"]

    monkeypatch.setenv("GLOSSARY_STATE_DB", str(state_path))
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    exported = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--json", "--out", str(exported)]) == 0
    cases = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [(c["query"], c["expected"]) for c in cases] == [(question, [wanted])]  # one case of two who agree
    capsys.readouterr()
    assert main(["eval", str(exported), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"]["n"] == len(cases)

    for user_id in user_ids:  # salted hashes only
        assert _rows_naming(state_path, user_id) == []
    conn = sqlite3.connect(state_path)
    dump = "\n".join(conn.iterdump())
    assert not any(str(user_id) in dump for user_id in user_ids)


def test_gaps_aliases_notes_permissions_and_retention(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)  # a study channel too
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            home = fake.add_guild("Study Group", channels=["study"])
            other = fake.add_guild("Other", channels=["general"])
            editors = fake.add_role(home, "Editors")
            askers = [fake.add_user(f"student{i}") for i in range(4)]
            member, editor = fake.add_user("member"), fake.add_user("editor")
            for user in (*askers, member):
                fake.add_member(home, user)
                fake.add_member(other, user)
            fake.add_member(home, editor, roles=[editors])
            add_study_channel(state_path, home.id, home.channel("study").id)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"])) as bot:
                await fake.wait_for_command_sync()
                bot.get_cog("Study").clock = itertools.count(10**10, 3600).__next__  # no cooldowns in the way
                # off-glossary questions from four people, by /ask and in the study channel
                for topic, phrasings in TOPICS.items():
                    for i, text in enumerate(phrasings):
                        if not looks_like_question(text):  # the study channel lets chatter pass
                            await fake.wait_for_response(await fake.send_slash_command(
                                "ask", {"question": text}, user=askers[i], guild=home))
                        else:
                            message = await fake.send_message(home.channel("study"), text, author=askers[i])
                            await fake.wait_for(lambda m=message: bot.state.db.query(
                                "SELECT 1 FROM questions WHERE query = ?", [m.payload["content"]]), what="logged")

                refused = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary gaps", {}, user=member, guild=home))
                assert "Manage Server" in refused.content
                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary gaps", {}, user=fake.owner, guild=home))
                report = await fake.wait_for(lambda: next((f for f in fake.followups if (f.payload or {}).get(
                    "embeds") and "gaps" in f.payload["embeds"][0]["title"]), None), what="the gaps report",
                    timeout=30)
                text = report.payload["embeds"][0]["description"]
                blocks = text.split("\n\n")
                assert len(blocks) == 3
                for block in blocks:
                    topic = {t for t, qs in TOPICS.items() for q in qs if render.escape_user_text(q, 500)[:25] in
                             block.replace("\\", "")}
                    assert len(topic) == 1, block  # one topic per group
                    assert "4 people" in block.splitlines()[0]

                stats = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary stats", {"days": 7}, user=fake.owner, guild=home))
                fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
                assert fields["Questions and lookups"] == "12"

                # server aliases: only managers, or the editor role once it is set
                denied = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary alias add", {"alias": "memo trick", "term": "Activation checkpointing"},
                    user=editor, guild=home))
                assert "editor role" in denied.content
                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config editor-role", {"role": editors}, user=fake.owner, guild=home))
                added = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary alias add", {"alias": "memo trick", "term": "Activation checkpointing"},
                    user=editor, guild=home))
                assert "now finds **Activation checkpointing**" in added.content
                everyday = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary alias add", {"alias": "What is", "term": "LoRA"}, user=editor, guild=home))
                assert "Not added" in everyday.content and "everyday words" in everyday.content  # (QA76)
                for term in ("LoRA", "QLoRA"):  # pointing an alias elsewhere says what it found before
                    moved = await fake.wait_for_response(await fake.send_slash_command(
                        "glossary alias add", {"alias": "cheap tune", "term": term}, user=editor, guild=home))
                assert "now finds **QLoRA**" in moved.content and "It found **LoRA** before" in moved.content
                still_no = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary gaps", {}, user=editor, guild=home))
                assert "Manage Server" in still_no.content
                pinging = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary note set", {"term": "Activation checkpointing", "text": "ask @everyone"},
                    user=editor, guild=home))
                assert "Not saved" in pinging.content and "mentions" in pinging.content
                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary note set", {"term": "Activation checkpointing", "text": "Lab 4 uses this."},
                    user=editor, guild=home))

                here = await fake.wait_for_response(await fake.send_slash_command(
                    "define", {"term": "memo trick"}, user=member, guild=home))
                assert here.embeds[0]["title"] == "Activation checkpointing"
                assert "this server's alias" in here.embeds[0]["footer"]["text"]
                note = next(f for f in here.embeds[0]["fields"] if f["name"] == render.SERVER_NOTE)
                assert note["value"] == "Lab 4 uses this."
                there = await fake.wait_for_response(await fake.send_slash_command(
                    "define", {"term": "memo trick"}, user=member, guild=other))
                assert not there.embeds or there.embeds[0]["title"] != "Activation checkpointing" or \
                    "alias" not in there.embeds[0]["footer"]["text"]
                assert not any(f["name"] == render.SERVER_NOTE for e in there.embeds for f in e.get("fields", []))
                choices = await fake.wait_for_response(await fake.send_autocomplete(
                    "define", {"term": "memo"}, focused="term", user=member, guild=home))
                assert choices.choices[0]["value"] == "memo trick"
                log = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary changes", {}, user=fake.owner, guild=home))
                assert "editor: note set" in log.content and "alias add" in log.content

                # retention: 90 days on, the questions and their votes are gone
                clock["now"] += timedelta(days=91)
                assert await bot.get_cog("Feedback").purge() == 12 + 2  # the two /define lookups too
                assert bot.state.db.query("SELECT count(*) FROM questions")[0][0] == 0
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=240)


def test_a_thumbs_up_on_a_comparison_confirms_both_sides(real_index_path, real_embedder, tmp_path) -> None:
    """QA57: a 👍 on "lora vs qlora" exported a case expecting LoRA alone."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, member, study):
            got = await fake.wait_for_response(await fake.send_slash_command(
                "ask", {"question": "lora vs qlora"}, user=member, guild=guild))
            up = next(i for i in button_ids(got.message) if i.startswith(f"{render.FEEDBACK_PREFIX}up:"))
            await fake.wait_for_response(await fake.click_button(got, up, user=fake.owner))
            cases, disagreed = bot.state.feedback.export()
            assert [(c["query"], c["expected"]) for c in cases] == [("lora vs qlora", ["LoRA", "QLoRA"])]
            assert disagreed == 0

    run(scenario, timeout=120)


def test_small_talk_is_no_gap_and_no_refusal_but_an_off_topic_question_is(
        real_index_path, real_embedder, tmp_path) -> None:
    """A study channel's "anyone here?" and an /ask of "thanks" are not logged (QA57): the gaps report
    and the Refused share of /glossary stats are for questions. A question the glossary lacks, even
    far off its field, is logged as before."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, member, study):
            cog = bot.get_cog("Study")
            cog.clock = itertools.count(10**10, 3600).__next__  # no cooldowns in the way
            handled = record_handled(cog)
            for text in ("is the lab open today?", "lunch anyone?", "anyone around?", "why are flamingos pink?"):
                message = await fake.send_message(study, text, author=member)
                await fake.wait_for(lambda m=message: m.id in handled, what=f"{text!r} handled")
            for text in ("hi", "thanks", "how do I install pytorch on windows"):
                await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": text}, user=member, guild=guild))
            logged = [q for (q,) in bot.state.db.query("SELECT query FROM questions ORDER BY question_id")]
            assert logged == ["why are flamingos pink?", "how do I install pytorch on windows"]
            stats = await fake.wait_for_response(await fake.send_slash_command(
                "glossary stats", {"days": 7}, user=fake.owner, guild=guild))
            fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
            assert fields["Questions and lookups"] == "2"

    run(scenario, timeout=120)


def test_a_server_alias_the_glossary_gave_an_entry_of_its_own_since_finds_that_entry(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA71: a moderator made "AdamW" an alias of Adam before the keepers added an entry AdamW: in that
    server `/define AdamW` went on showing Adam, and `/review add AdamW` added Adam, while `alias add`
    now refuses the same alias and `alias list` showed nothing wrong. The glossary's name wins."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])

            async def command(name: str, options: dict):
                return await fake.wait_for_response(
                    await fake.send_slash_command(name, options, user=fake.owner, guild=guild))

            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                # as stored before the rebuild that added AdamW; "ytdl" is a name of the server's alone
                bot.state.additions.add_alias(guild.id, "AdamW", "Adam", "h", "mod", now)
                bot.state.additions.add_alias(guild.id, "adm", "Adam", "h", "mod", now)

                shown = await command("define", {"term": "AdamW"})
                assert shown.embeds[0]["title"] == "AdamW" and "alias" not in shown.embeds[0]["footer"]["text"]
                assert (await command("define", {"term": "adm"})).embeds[0]["title"] == "Adam"
                added = await command("review add", {"term": "adamw"})
                assert "AdamW" in added.content and bot.state.study.deck_terms(fake.owner.id) == ["AdamW"], \
                    added.content
                offered = [c["name"] for c in await fake.autocomplete("define", {"term": "adam"}, focused="term",
                                                                      user=fake.owner, guild=guild)]
                assert not any("this server's alias" in o and o.startswith("AdamW") for o in offered), offered

                listed = (await command("glossary alias list", {})).embeds[0]["description"]
                line = next(line for line in listed.splitlines() if line.startswith("• AdamW"))
                assert "⚠" in line and "**AdamW** has this name now" in line, listed
                assert "alias remove" in listed
                assert "⚠" not in next(line for line in listed.splitlines() if line.startswith("• adm"))

    run(scenario, timeout=120)


def test_a_servers_aliases_and_notes_follow_a_renamed_entry_and_the_lists_mark_a_dropped_one(
        real_index_path, real_embedder, tmp_path) -> None:
    """The keepers renamed an entry, keeping the old name as an alias, and rebuilt: the server's alias
    and note, stored under the old name, silently stopped working while review cards followed the
    entry (found by the QA pass). They follow it too, what is stored is left as it was, and the lists
    mark a name no entry has any more, with the fix."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])

            async def command(name: str, options: dict):
                return await fake.wait_for_response(
                    await fake.send_slash_command(name, options, user=fake.owner, guild=guild))

            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                names, additions = bot.searcher.names, bot.state.additions
                lora = bot.entry_named("LoRA")  # its old name: an alias that names LoRA alone
                old = next(a for a in lora.aliases if bot.entry_named(a) is None and names.exactly(a) == [lora.id])
                gone = "Phlogiston"
                assert bot.entry_named(gone) is None and not names.exactly(gone)
                # as stored before the rebuild, for the entry then called `old` and one since dropped
                additions.add_alias(guild.id, "lrx", old, "h", "mod", now)
                additions.add_alias(guild.id, "phlog", gone, "h", "mod", now)
                additions.set_note(guild.id, old, "Lab 3 uses rank 8.", "h", "mod", now)
                additions.set_note(guild.id, gone, "Lab 1.", "h", "mod", now)

                def note_under(message) -> str | None:
                    return next((f["value"] for f in message.embeds[0].get("fields", [])
                                 if f["name"] == render.SERVER_NOTE), None)

                by_alias = await command("define", {"term": "lrx"})
                assert by_alias.embeds and by_alias.embeds[0]["title"] == "LoRA", by_alias.content
                assert "alias" in by_alias.embeds[0]["footer"]["text"]
                assert note_under(by_alias) == "Lab 3 uses rank 8."

                offered = [c["name"] for c in await fake.autocomplete("define", {"term": "l"}, focused="term",
                                                                      user=fake.owner, guild=guild)]
                assert "lrx → LoRA (this server's alias)" in offered and not any("phlog" in o for o in offered)

                aliases = (await command("glossary alias list", {})).embeds[0]["description"].splitlines()
                assert any("lrx" in line and "now **LoRA**" in line for line in aliases), aliases
                assert any("phlog" in line and "⚠" in line for line in aliases) and "alias remove" in aliases[-1]
                notes = (await command("glossary note list", {})).embeds[0]["description"].splitlines()
                assert any("Lab 3" in line and "now **LoRA**" in line and "not shown" not in line for line in notes)
                assert any("Lab 1" in line and "⚠" in line for line in notes) and "note remove" in notes[-1]

                # set and removed by the entry's name now, where it is stored
                await command("glossary note set", {"term": "LoRA", "text": "Lab 3 uses rank 16."})
                assert note_under(await command("define", {"term": "LoRA"})) == "Lab 3 uses rank 16."
                assert set(additions.note_terms(guild.id)) == {old, gone}
                assert "Removed" in (await command("glossary note remove", {"term": "LoRA"})).content
                assert note_under(await command("define", {"term": "LoRA"})) is None
                assert additions.note_terms(guild.id) == [gone] and additions.alias_target(guild.id, "lrx") == old
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)
