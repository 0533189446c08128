"""When the ranker is unsure, Discord shows the candidates instead of one definition; when an
answer has close rivals, they are on screen as "Other matches" buttons (issue 11, item 5).

The questions are picked from the development set by what the search returns for them, so the
test checks what the Discord layer does with each kind of result, not which entry wins."""

from __future__ import annotations

from bot.config import DEFAULT_DATA_DIR
from bot.glossary.evaluate import load_cases
from bot.glossary.search import ANSWER, EXACT, SUGGEST
from tests.fake_discord import CallbackType, FakeDiscord

from .helpers import assert_no_pings, button_ids, make_bot, make_settings, run, running, study_bot


def _first_query(searcher, wanted) -> tuple[str, object]:
    for case in load_cases(DEFAULT_DATA_DIR / "eval" / "dev2.jsonl"):
        result = searcher.search(case.query)
        if wanted(case.query, result):
            return case.query, result
    raise AssertionError("no development question gives that kind of result")


def test_unsure_answers_offer_candidates_and_answers_show_close_rivals(searcher, real_index_path,
                                                                      real_embedder, tmp_path) -> None:
    hedged_q, hedged = _first_query(searcher, lambda q, r: r.band == SUGGEST and len(r.hits) >= 2 and not r.far)
    far_q, far = _first_query(searcher, lambda q, r: r.band == SUGGEST and len(r.hits) >= 2 and r.far)
    close_q, close = _first_query(searcher, lambda q, r: r.band == ANSWER and r.others)
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()

                # unsure: "Did you mean" with one button per candidate, privately, and no definition
                got = await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": hedged_q}, user=alice))
                assert got.ok and got.type == CallbackType.CHANNEL_MESSAGE and got.data["flags"] == 64
                assert "Did you mean" in got.content and not got.embeds
                candidates = [h.entry.term for h in hedged.hits[:3]]
                assert button_ids(got.message)[:-2] == [f"gloss:show:{t}" for t in candidates]
                assert [i.split(":")[2] for i in button_ids(got.message)[-2:]] == ["up", "down"]  # feedback
                assert all(t in got.content for t in candidates)
                picked = await fake.wait_for_response(await fake.click_button(got, button_ids(got.message)[1],
                                                                              user=alice))
                assert picked.ok and picked.embeds[0]["title"] == candidates[1]

                # unsure and far from every candidate: the same buttons, but it may not be covered at all
                got = await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": far_q}, user=alice))
                assert "may not cover" in got.content and "Did you mean" not in got.content
                assert button_ids(got.message)[:-2] == [f"gloss:show:{h.entry.term}" for h in far.hits[:3]]

                # an answer with close rivals: the answer, and the rivals as a first row of buttons
                got = await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": close_q}, user=alice))
                assert got.ok and got.embeds[0]["title"] == close.best.entry.term
                others = [h.entry.term for h in close.others]
                field = next(f for f in got.embeds[0]["fields"] if f["name"] == "Other matches")
                assert all(t in field["value"] for t in others)
                first_row = got.message["components"][0]["components"]
                assert [b["custom_id"] for b in first_row] == [f"gloss:show:{t}" for t in others]

                # an exact name shows no rivals
                exact = await fake.wait_for_response(await fake.send_slash_command(
                    "define", {"term": "attention"}, user=alice))
                assert searcher.search("attention").best.match == EXACT
                assert not any(f["name"] == "Other matches" for f in exact.embeds[0].get("fields", []))

                # asked in a channel, the same answer carries the same rivals
                study = guild.channel("study")
                sent = await fake.send_message(study, f"<@{fake.bot_user.id}> {close_q}", author=alice)
                reply = await fake.wait_for_channel_message(study, after=sent, timeout=30)
                assert reply.embeds[0]["title"] == close.best.entry.term
                assert set(button_ids(reply.message)) >= {f"gloss:show:{t}" for t in others}

                assert not fake.errors
                assert_no_pings(fake)

    run(scenario, timeout=120)


def test_entries_asked_about_together_come_side_by_side(searcher, real_index_path, real_embedder, tmp_path) -> None:
    # An unsure comparison ("Did you mean" by the ranker) still names both sides as written: the
    # reply is both definitions, in public, in the order asked, and the third candidate beside them.
    compared = searcher.search("difference between ddp and fsdp")
    assert compared.band == SUGGEST and [h.entry.term for h in compared.asked] == ["DDP", "FSDP"]
    others = [h.entry.term for h in compared.beside_asked]
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, _bot, _guild, alice, study):
            got = await fake.wait_for_response(await fake.send_slash_command(
                "ask", {"question": "difference between ddp and fsdp"}, user=alice))
            assert got.ok and not got.data.get("flags")  # public, like an answer
            embed = got.embeds[0]
            assert embed["title"] == "DDP · FSDP"
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            for term in ("DDP", "FSDP"):
                assert fields[term] == searcher.index.entry_named(term).definition.strip()
            assert all(t in fields["Other matches"] for t in others)
            ids = button_ids(got.message)
            assert ids[:2 + len(others)] == [f"gloss:show:{t}" for t in ["DDP", "FSDP", *others]]
            assert [i.split(":")[2] for i in ids[-2:]] == ["up", "down"]
            opened = await fake.wait_for_response(await fake.click_button(got, ids[1], user=alice))
            assert opened.ok and opened.embeds[0]["title"] == "FSDP"

            # in a study channel, without a mention: named as written, so never a guess
            sent = await fake.send_message(study, "should I use adam or sgd?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=sent, timeout=30)
            assert reply.embeds[0]["title"] == "Adam · SGD"

    run(scenario, timeout=120)
