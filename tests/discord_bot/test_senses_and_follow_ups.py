"""On Discord: a name the glossary uses in another sense ("AI": arithmetic intensity) is answered
with the glossary's entry and a line saying which sense it is, the entry for the usual sense as a
button; a follow-up that names nothing ("ok but why?") gets asked which term, not a guess; names a
question lists that the glossary lacks ("gguf vs exl2") are said to be missing, under their own
label."""

from __future__ import annotations

from bot.glossary.senses import parse_senses, senses_path
from tests.conftest import GLOSSARY

from .helpers import button_ids, make_settings, record_handled, run, study_bot


def _a_sense_with_its_entry(searcher):
    senses, _problems = parse_senses(senses_path(GLOSSARY).read_text(encoding="utf-8"), searcher.index)
    return next(sense for sense in senses.values() if sense.entry_id is not None)


def test_another_sense_is_said_and_a_follow_up_is_asked_which_term(searcher, real_index_path, real_embedder,
                                                                   tmp_path) -> None:
    sense = _a_sense_with_its_entry(searcher)
    usual = searcher.index.entries[sense.entry_id].term
    answered = searcher.search(sense.name).best.entry.term
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            handled = record_handled(bot.get_cog("Study"))

            got = await fake.wait_for_response(await fake.send_slash_command(
                "define", {"term": sense.name}, user=alice))
            embed = got.embeds[0]
            assert embed["title"] == answered
            field = next(f for f in embed["fields"] if f["name"] == "Another sense")
            assert f"not {sense.meaning}" in field["value"] and usual in field["value"]
            assert f"gloss:show:{usual}" in button_ids(got.message)

            # the entry's own full name: no doubt which sense, no line about it
            got = await fake.wait_for_response(await fake.send_slash_command(
                "define", {"term": answered}, user=alice))
            assert not any(f["name"] == "Another sense" for f in got.embeds[0].get("fields", []))

            # a follow-up asked of the bot: which term?
            sent = await fake.send_message(study, f"{fake.bot_user.mention} ok but why?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=sent, timeout=30)
            assert "Which term do you mean?" in reply.content and not reply.embeds

            # not asked of it: quiet, as for any unsure question in a study channel
            sent = await fake.send_message(study, "ok but why?", author=alice)
            await fake.wait_for(lambda: sent.id in handled, timeout=30, what="the follow-up handled")
            assert handled[sent.id] is False

    run(scenario, timeout=120)


def test_names_the_glossary_lacks_are_said_to_be_missing_beside_the_entry_asked_about(
        real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, _bot, _guild, alice, _study):
            got = await fake.wait_for_response(await fake.send_slash_command(
                "ask", {"question": "what are gguf and exl2?"}, user=alice))
            embed = got.embeds[0]
            assert embed["title"] == "GGUF"
            field = next(f for f in embed["fields"] if f["name"] == "Not in the glossary")
            assert "exl2" in field["value"]
            assert not any(f["name"] == "Another sense" for f in embed.get("fields", []))

            # unsure: the note opens the "Did you mean"
            got = await fake.wait_for_response(await fake.send_slash_command(
                "ask", {"question": "what is a batch and a whisk?"}, user=alice))
            assert got.content.startswith("The glossary has no entry for “whisk”.\nDid you mean")
            assert button_ids(got.message)[0] == "gloss:show:Batch"

    run(scenario, timeout=120)
