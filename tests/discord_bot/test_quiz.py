"""/quiz on Discord (issue 12): a private question, answered right and wrong with its
buttons, the answer's entry shown after, "Next question", and answers that still count
after a restart because the question lives in its buttons."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.discord_bot import render_quiz
from bot.glossary.index import build_index
from tests.fake_discord import CallbackType, FakeDiscord

from .helpers import assert_no_pings, button_ids, make_bot, make_settings, run, running


def _options(message: dict) -> list[str]:
    return [cid for cid in button_ids(message) if cid.startswith(render_quiz.QUIZ_PREFIX)]


def test_a_quiz_answered_right_and_wrong_then_the_next_question(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                entries, codec = bot.searcher.index.entries, bot.get_cog("Quiz").codec

                asked = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                assert asked.ok and asked.type == CallbackType.CHANNEL_MESSAGE and asked.data["flags"] == 64
                options = _options(asked.message)
                assert len(options) == 4
                question, _ = codec.parse(options[0])
                # the answer is not in the payload: no option's id says which one is right
                assert len({cid.split(":")[-2] for cid in options}) == 1
                answer = entries[question.answer].term
                title = asked.embeds[0]["title"]
                # a name's markdown is escaped in the title: "F.scaled\_dot\_product\_attention" (the question
                # is drawn at random, so only some runs met a name with underscores)
                assert title == "Which term is this?" or answer in title.replace("\\", "")
                if title == "Which term is this?":
                    assert answer.lower() not in asked.embeds[0]["description"].lower()

                wrong = next(cid for i, cid in enumerate(options) if i != question.correct)
                got = await fake.wait_for_response(await fake.click_button(asked, wrong, user=alice))
                assert got.ok and got.type == CallbackType.UPDATE_MESSAGE
                assert got.embeds[0]["title"].startswith("❌") and answer in got.embeds[0]["title"]
                assert any(f["name"] == "You picked" for f in got.embeds[0]["fields"])
                assert entries[question.answer].definition.startswith(got.embeds[0]["description"][:50])
                assert render_quiz.NEXT_ID in button_ids(got.data)
                assert any(cid.startswith("gloss:show:") for cid in button_ids(got.data))  # related terms

                following = await fake.wait_for_response(await fake.click_button(got, render_quiz.NEXT_ID,
                                                                                  user=alice))
                assert following.ok and following.data["flags"] == 64
                options = _options(following.message)
                question, _ = codec.parse(options[0])
                got = await fake.wait_for_response(await fake.click_button(following, options[question.correct],
                                                                           user=alice))
                assert got.ok and got.embeds[0]["title"] == f"✅ Right: {entries[question.answer].term}"
                assert not any(f["name"] == "You picked" for f in got.embeds[0].get("fields", []))
                pending = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))

            # after a restart, the question still on screen is answered all the same
            async with running(fake, make_bot(settings, real_embedder)):
                options = _options(pending.message)
                question, _ = codec.parse(options[0])
                got = await fake.wait_for_response(await fake.click_button(pending, options[question.correct],
                                                                           user=alice))
                assert got.ok and got.embeds[0]["title"].startswith("✅")

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=120)


def test_questions_on_screen_are_judged_right_after_the_bot_token_is_reset(real_index_path, real_embedder,
                                                                           tmp_path) -> None:
    """A token reset orphans nobody's data (README), nor changes which option of a question on screen
    is right: what hides it is keyed by the state's secret, not by the token."""
    before = make_settings(real_index_path, tmp_path / "state.db", discord_token="the-token-before-a-reset")
    after = make_settings(real_index_path, tmp_path / "state.db", discord_token="the-token-after-it")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(before, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                codec = bot.get_cog("Quiz").codec
                # several: a question judged with the wrong key is still right one time in four
                asked = [await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                         for _ in range(4)]
            async with running(fake, make_bot(after, real_embedder)):
                for question_message in asked:
                    options = _options(question_message.message)
                    question, _ = codec.parse(options[0])
                    got = await fake.wait_for_response(
                        await fake.click_button(question_message, options[question.correct], user=alice))
                    assert got.embeds[0]["title"].startswith("✅ Right"), got.embeds[0]["title"]
            assert not fake.errors

    run(scenario, timeout=300)


def test_a_quiz_in_a_dm_promises_no_points_that_no_board_shows(real_index_path, real_embedder, tmp_path) -> None:
    """Points are a server's (/stats, /leaderboard are server commands): a right answer in a DM is
    told it is practice, not "+5 points" that no board ever shows."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                asked = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {}, user=alice, channel=fake.dm_channel(alice)))
                options = _options(asked.message)
                question, _ = bot.get_cog("Quiz").codec.parse(options[0])
                got = await fake.wait_for_response(await fake.click_button(asked, options[question.correct],
                                                                           user=alice))
                assert got.embeds[0]["title"].startswith("✅ Right")
                footer = got.embeds[0]["footer"]["text"]
                assert not re.search(r"\+\d+ point", footer) and "practice" in footer.casefold(), footer
                stats = await fake.wait_for_response(await fake.send_slash_command("stats", {}, user=alice))
                fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
                assert fields["Points"].startswith("0 ")
            assert not fake.errors

    run(scenario, timeout=120)


def test_a_double_click_on_an_option_keeps_the_verdict(real_index_path, real_embedder, tmp_path) -> None:
    """Both clicks reach the bot before the message changes: the second must not replace the verdict
    with "Already answered", or the user never sees whether they were right. The answer scores once."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                codec = bot.get_cog("Quiz").codec
                for right in (True, False):
                    asked = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                    options = _options(asked.message)
                    question, _ = codec.parse(options[0])
                    pick = options[question.correct if right else (question.correct + 1) % 4]
                    one, two = [await fake.click_button(asked, pick, user=alice) for _ in range(2)]
                    first, second = await fake.wait_for_response(one), await fake.wait_for_response(two)
                    assert first.embeds[0]["title"].startswith("✅ Right" if right else "❌ Not quite")
                    shown = fake.messages[int(asked.message["id"])]["embeds"][0]
                    assert second.embeds[0] == first.embeds[0] and shown == first.embeds[0], shown["title"]
                assert bot.state.study.stats(guild.id, alice.id, bot.now()).points == 5
            assert not fake.errors

    run(scenario, timeout=120)


def test_a_forged_or_stale_quiz_button_gets_a_message_not_an_error(real_index_path, real_embedder,
                                                                  tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                codec = bot.get_cog("Quiz").codec
                asked = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                question, _ = codec.parse(_options(asked.message)[0])
                # the same question, but one option an entry a rebuilt glossary no longer has
                stale = type(question)(question.kind, question.answer,
                                       tuple(o if o == question.answer else 10**6 + o for o in question.options))
                assert codec.parse(codec.custom_id(stale, 0)) is not None
                assert codec.parse("gloss:quiz:x:1.2:0:0") is None and codec.parse("gloss:quiz:t:1.1:0:0") is None
            assert not fake.errors

    run(scenario, timeout=60)


async def _a_quiz_on_screen(fake, settings, embedder):
    """(guild, alice, the /quiz reply, its option ids, its question, the index's entries then): a
    question alice has on screen, asked of a bot that is then stopped (to be started on a rebuilt index)."""
    guild = fake.add_guild("Study Group", channels=["study"])
    alice = fake.add_user("alice")
    fake.add_member(guild, alice)
    async with running(fake, make_bot(settings, embedder)) as bot:
        await fake.wait_for_command_sync()
        asked = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
        options = _options(asked.message)
        question, _ = bot.get_cog("Quiz").codec.parse(options[0])
        return guild, alice, asked, options, question, bot.searcher.index.entries


@pytest.fixture(scope="module")
def glossary_with_an_entry_on_top(tmp_path_factory, real_index_path, real_embedder) -> tuple[Path, Path]:
    """(glossary, index) after its keepers added an entry that sorts first and rebuilt: every entry
    id moves by one. The index starts as a copy of the real one, so only the new entry is embedded."""
    folder = tmp_path_factory.mktemp("grown")
    for source in DEFAULT_DATA_DIR.glob("glossary.*"):
        shutil.copy(source, folder / source.name)
    glossary = folder / "glossary.txt"
    lines = glossary.read_text(encoding="utf-8").split("\n")
    lines[2:2] = ["(1+1)D", "A made-up entry: a toy network mixing one spatial and one time dimension."]
    glossary.write_text("\n".join(lines), encoding="utf-8")
    index = folder / "index.db"
    shutil.copy(real_index_path, index)
    build_index(index, glossary, real_embedder)
    return glossary, index


def test_a_quiz_answered_after_a_rebuild_moved_its_entries_is_judged_on_the_entries_it_showed(
        real_index_path, real_embedder, glossary_with_an_entry_on_top, tmp_path) -> None:
    """Entry ids are places in the glossary: a question on screen before the rebuild, answered after
    it, is never judged on the entries its ids now stand for. It was refused as "no longer in the
    glossary" (QA71: the day's quiz, for the rest of the day, after one entry was added); the index
    keeps the ids of the builds before, and the question is judged on the entries it showed."""
    glossary, grown_index = glossary_with_an_entry_on_top
    before = make_settings(real_index_path, tmp_path / "state.db")
    after = make_settings(grown_index, tmp_path / "state.db", glossary_path=glossary)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, alice, asked, options, question, entries = await _a_quiz_on_screen(fake, before, real_embedder)
            shown = entries[question.answer].term
            async with running(fake, make_bot(after, real_embedder)) as bot:
                assert bot.searcher.index.entries[question.answer].term != shown  # the ids moved
                got = await fake.wait_for_response(
                    await fake.click_button(asked, options[question.correct], user=alice))
                said = got.embeds[0]["title"] if got.embeds else got.content
                assert shown in said and "no longer" not in said, (shown, said)
                assert bot.state.study.stats(guild.id, alice.id, bot.now()).points > 0
                # an id of an older release, without the terms' hash, naming an id past the index's end
                cog, last = bot.get_cog("Quiz"), max(bot.searcher.index.entries)
                old = render_quiz.Question("term", 1, (1, 2, 3, last + 5))
                assert cog._parsed(cog.codec.custom_id(old, 0), cog.bot.quiz_maker()) is None  # no KeyError
            assert not fake.errors

    run(scenario, timeout=300)


def _glossary_with_definitions_swapped(folder: Path, one: str, other: str) -> Path:
    """A copy of the glossary whose entries `one` and `other` swapped names: each term keeps its place
    in the file, with the other's definition under it."""
    from bot.glossary.parse import parse_file

    for source in DEFAULT_DATA_DIR.glob("glossary.*"):
        shutil.copy(source, folder / source.name)
    glossary = folder / "glossary.txt"
    parsed = parse_file(glossary)
    definitions = {e.term: e.definition for e in parsed.entries}
    definitions[one], definitions[other] = definitions[other], definitions[one]
    lines = [*parsed.header]
    for entry in parsed.entries:
        lines += [entry.term, *definitions[entry.term].split("\n")]
    glossary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return glossary


def test_a_quiz_on_screen_when_two_entries_swap_names_is_judged_on_the_entry_it_showed(
        real_index_path, real_embedder, tmp_path) -> None:
    """Review 54b: two entries that swap names move no id and leave the options' terms where they
    were, so the ids now read as the other entry: the verdict showed a definition the question never
    had. A button carries its build's stamp, and is read with that build's ids."""
    before = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            _guild, alice, asked, options, question, entries = await _a_quiz_on_screen(fake, before, real_embedder)
            answer = entries[question.answer]
            other = entries[next(o for o in question.options if o != question.answer)]
            folder = tmp_path / "swapped"
            folder.mkdir()
            glossary = _glossary_with_definitions_swapped(folder, answer.term, other.term)
            shutil.copy(real_index_path, folder / "index.db")
            build_index(folder / "index.db", glossary, real_embedder)
            after = make_settings(folder / "index.db", tmp_path / "state.db", glossary_path=glossary)
            async with running(fake, make_bot(after, real_embedder)) as bot:
                now = bot.searcher.index.entries
                assert now[question.answer].term == answer.term != now[question.answer].definition
                cog = bot.get_cog("Quiz")
                judged, _posted, _pick = cog._parsed(options[question.correct], bot.quiz_maker())
                assert now[judged.answer].definition == answer.definition  # the entry it showed, named otherwise now
                got = await fake.wait_for_response(
                    await fake.click_button(asked, options[question.correct], user=alice))
                said = got.embeds[0]["title"] if got.embeds else got.content
                assert "no longer" not in said and other.term in said, (other.term, said)
            assert not fake.errors

    run(scenario, timeout=300)
