"""Smoke tests proving ``tests/fake_discord`` drives the real discord.py 2.7 client.

Each test runs its own event loop via ``asyncio.run`` (no pytest-asyncio needed), starts
a fake Discord on a random loopback port, logs a tiny ``commands.Bot`` into it and
exercises one path end to end. The runner fails a test if anything reaches the loop's
exception handler (e.g. "Unclosed client session"), so clean shutdown is checked too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import CallbackType, FakeDiscord, discord_py_pointed_at, run_checked

TOPICS = ["Algebra", "Biology", "Chemistry", "Linear algebra", "World history"]


class PingView(discord.ui.View):
    """One button that edits the message in place (callback type 7)."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.clicks = 0

    @discord.ui.button(label="Again", custom_id="ping:again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[PingView]) -> None:
        self.clicks += 1
        await interaction.response.edit_message(content=f"pong x{self.clicks + 1}", view=self)


def make_bot(*, message_content: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)

    @bot.tree.command(name="ping", description="Replies with an embed and a button")
    async def ping(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Pong", description="fake discord works")
        await interaction.response.send_message(embed=embed, view=PingView())

    @bot.tree.command(name="topic", description="Pick a study topic")
    @app_commands.describe(name="Topic name")
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"topic: {name}")

    @topic.autocomplete("name")
    async def topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if current.lower() in t.lower()]

    @bot.tree.command(name="slow", description="Defers, then answers in a followup")
    async def slow(interaction: discord.Interaction, seconds: float = 0.0) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(seconds)
        await interaction.followup.send("done thinking")

    @bot.tree.command(name="late", description="Answers after the 3-second window")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("too late")

    @bot.tree.command(name="long", description="Replies with more than 2000 characters")
    async def long(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("x" * 2001)

    @bot.listen("on_message")
    async def greet(message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.content.startswith("hello"):
            await message.channel.send(f"hi {message.author.mention}")

    async def setup_hook() -> None:
        await bot.tree.sync()

    async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every non-initial IDENTIFY; pointless against a fake."""

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
    return bot


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, bot: commands.Bot) -> AsyncIterator[commands.Bot]:
    """Run ``bot`` against ``fake`` until the block exits, then close it cleanly."""
    with discord_py_pointed_at(fake):
        task = asyncio.create_task(bot.start("fake-token"))
        try:
            await fake.wait_ready()
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 5)


run = functools.partial(run_checked, timeout=15)


def test_login_sync_slash_command_and_button() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "homework"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot()) as bot:
                sync = await fake.wait_for_command_sync()
                assert {c["name"] for c in sync.commands} == {"ping", "topic", "slow", "late", "long"}
                await asyncio.wait_for(bot.wait_until_ready(), 5)
                cached = bot.get_guild(guild.id)
                assert cached is not None and cached.get_channel(guild.channel("homework").id) is not None

                inter = await fake.send_slash_command("ping", user=alice)
                cb = await fake.wait_for_response(inter)
                assert cb.ok and cb.type == CallbackType.CHANNEL_MESSAGE
                assert cb.embeds[0]["title"] == "Pong"
                assert cb.latency is not None and cb.latency < 1.0
                assert cb.message is not None
                button_ids = [c["custom_id"] for row in cb.message["components"] for c in row["components"]]
                assert button_ids == ["ping:again"]

                click = await fake.click_button(cb, "ping:again", user=alice)
                update = await fake.wait_for_response(click)
                assert update.ok and update.type == CallbackType.UPDATE_MESSAGE
                assert fake.messages[int(cb.message["id"])]["content"] == "pong x2"
                assert not fake.errors

    run(scenario)


def test_autocomplete_and_option_types() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            async with running(fake, make_bot()):
                await fake.wait_for_command_sync()
                choices = await fake.autocomplete("topic", {"name": "alg"}, focused="name")
                assert [c["value"] for c in choices] == ["Algebra", "Linear algebra"]

                inter = await fake.send_slash_command("topic", {"name": "Biology"})
                assert (await fake.wait_for_response(inter)).content == "topic: Biology"

    run(scenario)


def test_message_create_gets_channel_reply() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild()
            bob = fake.add_user("bob")
            fake.add_member(guild, bob)
            async with running(fake, make_bot()):
                sent = await fake.send_message(guild.channel("general"), "hello bot", author=bob)
                reply = await fake.wait_for_channel_message(guild.channel("general"), after=sent)
                assert reply.content == f"hi <@{bob.id}>"
                assert reply.at - sent.sent_at < 1.0

    run(scenario)


def test_message_content_intent_is_enforced() -> None:
    """Without the privileged intent the bot sees empty content, as on real Discord."""

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild()
            async with running(fake, make_bot(message_content=False)):
                sent = await fake.send_message(guild.channel("general"), "hello bot")
                with contextlib.suppress(TimeoutError):
                    await fake.wait_for_channel_message(after=sent, timeout=0.3)
                assert fake.channel_messages == []

    run(scenario)


def test_message_update_for_an_edit_and_for_a_link_preview() -> None:
    """A user's edit arrives as a whole message with edited_at set; a link preview Discord adds
    arrives the same way, but with the content and edited_at unchanged; without the Message
    Content intent an edit that drops the bot's mention arrives empty."""

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild()
            bob = fake.add_user("bob")
            fake.add_member(guild, bob)
            bot = make_bot(message_content=False)
            edits: list[discord.RawMessageUpdateEvent] = []

            @bot.listen("on_raw_message_edit")
            async def seen(payload: discord.RawMessageUpdateEvent) -> None:
                edits.append(payload)

            async with running(fake, bot):
                await asyncio.wait_for(bot.wait_until_ready(), 5)
                sent = await fake.send_message(guild.channel("general"), f"{fake.bot_user.mention} see https://x.y")
                await fake.unfurl(sent.payload, [{"type": "link", "url": "https://x.y", "title": "X"}])
                await fake.edit_message(sent.payload, f"{fake.bot_user.mention} what is lora")
                await fake.edit_message(sent.payload, "what is lora")
                await fake.wait_for(lambda: len(edits) == 3, what="three MESSAGE_UPDATEs", timeout=5)
                unfurled, edited, unmentioned = (e.message for e in edits)
                assert unfurled.edited_at is None and unfurled.content.endswith("see https://x.y")
                assert unfurled.embeds[0].title == "X"
                assert edited.edited_at is not None and edited.content.endswith("what is lora")
                assert [u.id for u in edited.mentions] == [fake.bot_user.id] and edited.author.id == bob.id
                assert unmentioned.content == "" and unmentioned.mentions == []
                assert all(e.message_id == sent.id and e.guild_id == guild.id for e in edits)

    run(scenario)


def test_forced_close_resumes_and_keeps_answering() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            async with running(fake, make_bot()):
                await fake.wait_for_command_sync()
                first = await fake.send_slash_command("topic", {"name": "Algebra"})
                await fake.wait_for_response(first)

                t0 = time.monotonic()
                await fake.force_close(4000)
                # dispatched while the socket is down: buffered, replayed on RESUME
                during = await fake.send_slash_command("topic", {"name": "Chemistry"})
                resumed = await fake.wait_resumed(after=t0)
                assert resumed.detail["path"] == "/gateway-resume"
                assert resumed.detail["replayed"] >= 1
                assert (await fake.wait_for_response(during)).content == "topic: Chemistry"

                after = await fake.send_slash_command("ping")
                assert (await fake.wait_for_response(after)).ok
                assert fake.identify_count == 1 and fake.resume_count == 1

    run(scenario)


def test_invalidated_session_reidentifies() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            async with running(fake, make_bot()):
                await fake.wait_for_command_sync()
                t0 = time.monotonic()
                await fake.force_close(4000, invalidate_session=True)
                await fake.wait_ready(after=t0)
                assert fake.identify_count == 2
                inter = await fake.send_slash_command("topic", {"name": "Biology"})
                assert (await fake.wait_for_response(inter)).content == "topic: Biology"

    run(scenario)


def test_deferred_response_and_followup() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            async with running(fake, make_bot()):
                await fake.wait_for_command_sync()
                inter = await fake.send_slash_command("slow", {"seconds": 0.05})
                cb = await fake.wait_for_response(inter)
                assert cb.type == CallbackType.DEFERRED_CHANNEL_MESSAGE
                followup = await fake.wait_for_followup(inter)
                assert followup.method == "POST" and followup.status == 200
                assert followup.message is not None and followup.message["content"] == "done thinking"

    run(scenario)


def test_discord_rules_are_enforced() -> None:
    """Late acks (>ack timeout) get 10062 and >2000-char messages get 50035, like Discord."""

    async def scenario() -> None:
        async with FakeDiscord(interaction_ack_timeout=0.1) as fake:
            fake.add_guild()
            async with running(fake, make_bot()):
                await fake.wait_for_command_sync()
                late = await fake.wait_for_response(await fake.send_slash_command("late"))
                assert (late.status, late.error_code) == (404, 10062)
                long = await fake.wait_for_response(await fake.send_slash_command("long"))
                assert (long.status, long.error_code) == (400, 50035)
                try:
                    await fake.send_slash_command("never-synced")
                except LookupError:
                    pass
                else:
                    raise AssertionError("unsynced command should be refused")

    run(scenario)


def test_rest_surface_is_json_and_gateway_uses_zlib_stream() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild()
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{fake.api_base}/nope/nothing") as resp:
                    assert resp.status == 404
                    assert resp.headers["Content-Type"] == "application/json"
                    assert (await resp.json())["message"] == "404: Not Found"
                async with http.delete(f"{fake.api_base}/gateway") as resp:
                    assert resp.status == 405 and resp.headers["Content-Type"] == "application/json"
                async with http.get(f"{fake.api_base}/gateway/bot") as resp:
                    assert (await resp.json())["url"] == fake.gateway_url
                async with http.get(f"{fake.api_base}/channels/{guild.channel('general').id}") as resp:
                    assert (await resp.json())["name"] == "general"
            async with running(fake, make_bot()):
                connect = next(e for e in fake.gateway_events if e.kind == "connect")
                assert connect.detail["query"]["encoding"] == "json"
                # discord.py picks zstd-stream only when `zstandard` is importable
                assert connect.detail["query"]["compress"] in ("zlib-stream", "zstd-stream")

    run(scenario)


class AnswerModal(discord.ui.Modal, title="Your answer"):
    answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(label="Answer", custom_id="quiz:answer")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.answer.value}", ephemeral=True)


class TopicSelect(discord.ui.View):
    @discord.ui.select(
        custom_id="quiz:topic",
        options=[
            discord.SelectOption(label="Algebra", value="alg"),
            discord.SelectOption(label="Biology", value="bio"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[TopicSelect]) -> None:
        await interaction.response.send_message(f"picked {select.values}")


def add_extra_commands(bot: commands.Bot) -> None:
    study = app_commands.Group(name="study", description="Study tools")
    quiz = app_commands.Group(name="quiz", description="Quizzes", parent=study)

    @study.command(name="start", description="Start a session with a partner")
    async def start(interaction: discord.Interaction, partner: discord.Member, minutes: int = 25) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"{partner.display_name} for {minutes} min")

    @quiz.command(name="answer", description="Answer in a modal")
    async def answer(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AnswerModal())

    @quiz.command(name="topics", description="Pick a topic from a menu")
    async def topics(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick one", view=TopicSelect())

    @bot.listen("on_message")
    async def on_upload(message: discord.Message) -> None:
        if message.attachments and not message.author.bot:
            data = await message.attachments[0].read()
            await message.reply(f"read {data.decode()}")
        elif isinstance(message.channel, discord.DMChannel) and not message.author.bot:
            await message.channel.send(f"dm: {message.content}")

    bot.tree.add_command(study)


def test_subcommands_modal_select_dm_attachment_and_guild_join() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild()
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            bot = make_bot()
            add_extra_commands(bot)
            async with running(fake, bot):
                await fake.wait_for_command_sync()

                start = await fake.send_slash_command("study start", {"partner": alice, "minutes": 5})
                assert (await fake.wait_for_response(start)).type == CallbackType.DEFERRED_CHANNEL_MESSAGE
                edit = await fake.wait_for_followup(start, method="PATCH")
                assert edit.message_id == "@original" and edit.message is not None
                assert edit.message["content"] == "alice for 5 min" and edit.message["flags"] == 0

                modal = await fake.wait_for_response(await fake.send_slash_command("study quiz answer"))
                assert modal.type == CallbackType.MODAL
                submitted = await fake.wait_for_response(await fake.submit_modal(modal, {"quiz:answer": "42"}))
                assert submitted.content == "got 42" and submitted.data is not None
                assert submitted.data["flags"] == 64  # ephemeral

                menu = await fake.wait_for_response(await fake.send_slash_command("study quiz topics"))
                picked = await fake.wait_for_response(await fake.select(menu, "quiz:topic", ["bio"]))
                assert picked.content == "picked ['bio']"

                dm = fake.dm_channel(alice)
                sent = await fake.send_message(dm, "hey from DM")
                assert (await fake.wait_for_channel_message(dm, after=sent)).content == "dm: hey from DM"

                upload = await fake.send_message(content="notes", attachments=[("notes.txt", b"abc")])
                reply = await fake.wait_for_channel_message(after=upload)
                assert reply.content == "read abc" and reply.message["message_reference"]["message_id"] == str(
                    upload.id
                )

                second = fake.add_guild("Second group")  # joined while connected: live GUILD_CREATE
                joined = await fake.wait_for(lambda: bot.get_guild(second.id), what="guild join")
                assert joined.name == "Second group"
                assert not fake.errors

    run(scenario)


def test_fail_next_rate_limits_server_errors_and_forbidden() -> None:
    """Injected 429 / 5xx are retried by discord.py (one message in the end); 403 raises Forbidden."""

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild()
            general = guild.channel("general")
            messages = rf"/channels/{general.id}/messages"
            async with running(fake, make_bot()) as bot:
                await fake.wait_for_command_sync()
                limited = fake.fail_next("POST", messages, 429, retry_after=0.2)
                broken = fake.fail_next("POST", messages, 502)
                sent = await fake.send_message(general, "hello bot")
                reply = await fake.wait_for_channel_message(general, after=sent, timeout=10)
                assert reply.content.startswith("hi ") and len(fake.channel_messages) == 1
                statuses = [r.status for r in fake.requests if r.method == "POST" and r.path == messages]
                assert statuses == [429, 502, 200]
                assert (limited.hits, limited.remaining, broken.hits) == (1, 0, 1)

                # a global limit on interaction callbacks: still answered within Discord's window
                fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", 429, retry_after=0.1, global_=True)
                cb = await fake.wait_for_response(await fake.send_slash_command("ping"))
                assert cb.ok and cb.embeds[0]["title"] == "Pong"

                fake.fail_next("POST", messages, 403, code=50013)
                try:
                    await bot.get_channel(general.id).send("not allowed")
                except discord.Forbidden as exc:
                    assert (exc.status, exc.code, exc.text) == (403, 50013, "Missing Permissions")
                else:
                    raise AssertionError("expected discord.Forbidden")
                assert len(fake.channel_messages) == 1

                # a webhook's message: webhook_id set, the author a bot and not a member
                seen = asyncio.ensure_future(bot.wait_for("message", timeout=5))
                hook = await fake.send_webhook_message(general, "hello from a hook")
                message = await seen
                assert message.webhook_id == int(hook.payload["webhook_id"]) and message.author.bot
                assert not isinstance(message.author, discord.Member)
                assert not fake.errors

    run(scenario)


def test_fail_next_rejects_unusable_rules() -> None:
    fake = FakeDiscord()
    for args, kwargs, words in [
        (("POST", "/x", 429), {}, "retry_after"),
        (("POST", "/x", 200), {}, "400-599"),
        (("POST", "(", 500), {}, "regular expression"),
        (("FETCH", "/x", 500), {}, "method"),
        (("POST", "/x", 403), {"retry_after": 1.0}, "only apply to status 429"),
        (("POST", "/x", 500), {"times": 0}, "times"),
    ]:
        try:
            fake.fail_next(*args, **kwargs)
        except ValueError as exc:
            assert words in str(exc), (args, exc)
        else:
            raise AssertionError(f"accepted {args} {kwargs}")
    assert fake.faults == []
