"""A large server's aliases and notes on Discord (QA B4): `/glossary alias list` and `note list`
were one message cut at 2,000 characters, so 81 of 150 aliases were never shown, and `alias
remove` had no autocomplete to find them by. Every one is now on a page, the page buttons work
after a restart and only for who may edit, and `alias remove` / `note remove` offer the server's own."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.discord_bot.render import escape_user_text

from tests.fake_discord import CallbackType, FakeDiscord

from .helpers import assert_no_pings, button_ids, make_bot, make_settings, run, running

NOTE = "In our course this comes up in week 3; see the lab sheet and the worked example on the slides."


def test_every_alias_and_note_of_a_large_server_is_on_a_page_and_remove_offers_them(
        real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            editors = fake.add_role(guild, "Editors")
            editor = fake.add_user("editor")
            fake.add_member(guild, editor, roles=[editors])

            async def command(name: str, options: dict, user=fake.owner):
                return await fake.wait_for_response(await fake.send_slash_command(name, options, user=user,
                                                                                  guild=guild))

            async def every_page(first, user=fake.owner) -> list:
                """The list's pages, from the first by Next page ▶, each in place of the one before."""
                pages = [first]
                while ahead := [i for i in button_ids(pages[-1].data) if i.endswith(f":{len(pages)}")]:
                    turned = await fake.wait_for_response(await fake.click_button(pages[-1], ahead[0], user=user))
                    assert turned.type == CallbackType.UPDATE_MESSAGE, turned.content
                    pages.append(turned)
                return pages

            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                additions = bot.state.additions
                terms = bot.daily_terms()[:150]
                aliases = [f"course{n:02d}x" for n in range(150)]
                for alias, term in zip(aliases, terms):
                    additions.add_alias(guild.id, alias, term, "h", "mod", now)
                additions.add_alias(guild.id, "phlog", "Phlogiston", "h", "mod", now)  # its entry left
                for term in terms[:30]:
                    additions.set_note(guild.id, term, NOTE, "h", "mod", now)
                await command("glossary config editor-role", {"role": editors})

                listed = await command("glossary alias list", {}, user=editor)
                assert listed.data["flags"] == 64 and not listed.content
                pages = await every_page(listed, user=editor)
                assert len(pages) == 4 and all(p.embeds[0]["title"] == "This server's aliases (151)" for p in pages)
                lines = [line for p in pages for line in p.embeds[0]["description"].splitlines()]
                for alias, term in zip(aliases, terms):
                    assert sum(line.startswith(f"• {alias} →") for line in lines) == 1, alias
                # the ⚠ row and its fix on one page; the footer of every other page points there
                gone = next(n for n, p in enumerate(pages) if "• phlog → Phlogiston ⚠" in p.embeds[0]["description"])
                for n, page in enumerate(pages):
                    has_fix = "`/glossary alias remove` it" in page.embeds[0]["description"]
                    assert has_fix == (n == gone)
                    assert page.embeds[0]["footer"]["text"].startswith(f"Page {n + 1} of 4 · aliases ")
                    assert has_fix or page.embeds[0]["footer"]["text"].endswith(f"⚠ on page {gone + 1}")

                notes = await every_page(await command("glossary note list", {}))
                shown = [line for p in notes for line in p.embeds[0]["description"].splitlines()]
                assert notes[0].embeds[0]["title"] == "This server's notes (30)"
                assert len([line for line in shown if line.endswith("slides.")]) == 30

                # remove offers what the server has, matching what is typed, and removes the one picked
                many = await fake.autocomplete("glossary alias remove", {"alias": "course1"}, focused="alias",
                                               user=editor, guild=guild)
                assert len(many) == 25 and all(c["value"].startswith("course1") for c in many)
                offered = await fake.autocomplete("glossary alias remove", {"alias": "Course 14-X"}, focused="alias",
                                                  user=editor, guild=guild)
                assert [c["value"] for c in offered] == ["course14x"]
                assert offered[0]["name"] == f"course14x → {terms[14]}"
                removed = await command("glossary alias remove", {"alias": offered[0]["value"]}, user=editor)
                assert "Removed" in removed.content and additions.alias_target(guild.id, "course14x") is None
                # typed another way, the reply names the alias as the server wrote it, and what it named
                other = await command("glossary alias remove", {"alias": "COURSE 15-X"}, user=editor)
                assert other.content == f"Removed “course15x” (it named {escape_user_text(terms[15], 100)})."
                additions.add_alias(guild.id, "course15x", terms[15], "h", "mod", now)  # the list below counts it
                gone_offer = await fake.autocomplete("glossary alias remove", {"alias": "phl"}, focused="alias",
                                                     user=editor, guild=guild)
                assert [c["name"] for c in gone_offer] == ["phlog → Phlogiston ⚠"]
                note_offer = await fake.autocomplete("glossary note remove", {"term": terms[3][:4]}, focused="term",
                                                     user=editor, guild=guild)
                assert terms[3] in [c["value"] for c in note_offer]
                assert all(c["value"] in terms[:30] and len(c["name"]) <= 100 for c in note_offer)
                member = fake.add_user("member")
                fake.add_member(guild, member)
                assert await fake.autocomplete("glossary alias remove", {"alias": ""}, focused="alias",
                                               user=member, guild=guild) == []

            # after a restart the buttons on screen turn the pages of the list as it is now
            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                back = next(i for i in button_ids(pages[-1].data) if i.endswith(":2"))
                turned = await fake.wait_for_response(await fake.click_button(pages[-1], back, user=editor))
                assert turned.type == CallbackType.UPDATE_MESSAGE
                assert turned.embeds[0]["title"] == "This server's aliases (150)"  # one removed since
                assert turned.embeds[0]["footer"]["text"].startswith("Page 3 of 3")
                # someone whose editor role was taken away since cannot page on
                guild.members[editor.id].role_ids.clear()
                refused = await fake.wait_for_response(
                    await fake.click_button(turned, button_ids(turned.data)[0], user=editor))
                assert refused.type == CallbackType.CHANNEL_MESSAGE and "editor role" in refused.content
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=240)
