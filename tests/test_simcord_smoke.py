"""simcord (PyPI ``simcord==3.2.1``) drives discord.py 2.7.1 bots entirely in memory.

Why keep this next to ``fake_discord``: simcord patches discord.py's two seams
(``HTTPClient.request`` and the gateway parsers) and runs on a virtual clock, so it
is the fast way to test behaviour and ``tasks.loop`` schedules (``advance_time``);
``fake_discord`` is the wire-level fake (real HTTP, websocket, RESUME, latency).
Skipped when simcord is not installed (it is not a project dependency yet).
"""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands
from discord.ext import commands, tasks

simcord = pytest.importorskip("simcord", minversion="3.2.1")


class AgainView(discord.ui.View):
    @discord.ui.button(label="Again", custom_id="ping:again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]) -> None:
        await interaction.response.edit_message(content="clicked")


class StudyBot(commands.Bot):
    """A minimal bot: /ping (embed + button), /topic (autocomplete), a 10-minute loop."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents)
        self.ticks = 0
        self.reminder = tasks.loop(minutes=10)(self._tick)

        @self.tree.command(name="ping", description="Replies with an embed and a button")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=discord.Embed(title="Pong"), view=AgainView())

        @self.tree.command(name="topic", description="Pick a study topic")
        async def topic(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"topic: {name}")

        @topic.autocomplete("name")
        async def topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            topics = ["Algebra", "Biology", "Linear algebra"]
            return [app_commands.Choice(name=t, value=t) for t in topics if current.lower() in t.lower()]

    async def _tick(self) -> None:
        self.ticks += 1

    async def setup_hook(self) -> None:
        await self.tree.sync()  # simcord's strict_sync refuses unsynced commands, like Discord
        self.reminder.start()


def test_simcord_slash_button_autocomplete_and_virtual_time() -> None:
    async def scenario() -> None:
        bot = StudyBot()
        async with simcord.run(bot) as env:
            channel = env.create_guild().create_text_channel("general")
            alice = env.guild.add_member(env.create_user("alice"))

            result = await alice.slash(channel, "ping")
            assert result.acknowledged and result.response.embeds[0].title == "Pong"

            clicked = await alice.click(result.response, custom_id="ping:again")
            assert clicked.acknowledged and channel.last_message.content == "clicked"

            choices = await alice.autocomplete(channel, "topic", "name", "alg")
            assert [c["value"] for c in choices] == ["Algebra", "Linear algebra"]

            before = bot.ticks
            await env.advance_time(30 * 60)  # instant: three more 10-minute iterations
            assert bot.ticks == before + 3

    asyncio.run(scenario())
