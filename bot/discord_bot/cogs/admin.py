"""`/glossary config …`: per-server settings, for members with Manage Server."""

from __future__ import annotations

import functools
import logging
from typing import Literal
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from ...glossary.daily import ScheduleError
from ...state import GuildConfig
from .. import render
from ..ui import in_quick_pool

log = logging.getLogger(__name__)
_ZONES = sorted(available_timezones() | {"UTC"})


def _is_manager(interaction: discord.Interaction) -> bool:
    if interaction.guild is None and interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    perms = interaction.permissions
    if not (perms.manage_guild or perms.administrator):
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class GlossaryGroup(commands.GroupCog, group_name="glossary", group_description="Glossary bot settings"):
    config = app_commands.Group(name="config", description="Show or change this server's glossary settings")

    def __init__(self, bot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return _is_manager(interaction)

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(render.clip(text, render.CONTENT_MAX), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    async def _update(self, interaction: discord.Interaction, done: str, **changes) -> None:
        try:
            # off the loop: a state DB locked by another writer waits out its busy timeout there
            config = await in_quick_pool(functools.partial(self.bot.state.update_config, interaction.guild_id,
                                                           **changes))
        except ScheduleError as exc:
            await self._reply(interaction, f"Not changed: {exc}")
            return
        await self._reply(interaction, f"{done}\n{render.config_text(config)}")

    @config.command(name="show", description="Show this server's glossary settings")
    async def show(self, interaction: discord.Interaction) -> None:
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        await self._reply(interaction, render.config_text(config))

    @config.command(name="study-channel", description="Answer questions in a channel (or stop)")
    @app_commands.describe(action="add or remove", channel="The channel")
    async def study_channel(self, interaction: discord.Interaction, action: Literal["add", "remove"],
                            channel: discord.TextChannel) -> None:
        state = self.bot.state

        def change() -> GuildConfig:  # read and write in one call, so two admins cannot lose each other's edit
            current = list(state.config(interaction.guild_id).study_channels)
            if action == "add" and channel.id not in current:
                current.append(channel.id)
            elif action == "remove" and channel.id in current:
                current.remove(channel.id)
            return state.update_config(interaction.guild_id, study_channels=tuple(current))

        config = await in_quick_pool(change)
        verb = "Added" if action == "add" else "Removed"
        await self._reply(interaction, f"{verb} {channel.mention}.\n{render.config_text(config)}")

    @config.command(name="daily-channel", description="Channel for the term of the day")
    async def daily_channel(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        # An error about posting to the old channel says nothing about the new one.
        await self._update(interaction, f"Term of the day goes to {channel.mention}.", daily_channel_id=channel.id,
                           last_error=None)

    @config.command(name="daily-time", description="Local time for the term of the day (HH:MM, 24-hour)")
    async def daily_time(self, interaction: discord.Interaction, time: app_commands.Range[str, 1, 20]) -> None:
        await self._update(interaction, "Time updated.", daily_time=time)

    @config.command(name="timezone", description="Time zone for the term of the day (e.g. Europe/Berlin)")
    async def timezone(self, interaction: discord.Interaction, zone: app_commands.Range[str, 1, 60]) -> None:
        await self._update(interaction, "Time zone updated.", timezone=zone)

    @timezone.autocomplete("zone")
    async def zone_autocomplete(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        needle = current.lower().replace(" ", "_")
        return [app_commands.Choice(name=z, value=z) for z in _ZONES if needle in z.lower()][:25]

    @config.command(name="daily", description="Turn the term of the day on or off")
    async def daily(self, interaction: discord.Interaction, enabled: bool) -> None:
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        if enabled and not config.daily_channel_id:
            await self._reply(interaction, "Set a channel first with /glossary config daily-channel.")
            return
        await self._update(interaction, f"Term of the day is {'on' if enabled else 'off'}.", daily_enabled=enabled)

    @config.command(name="daily-quiz", description="Post a quiz question under the term of the day (on or off)")
    async def daily_quiz(self, interaction: discord.Interaction, enabled: bool) -> None:
        await self._update(interaction, f"Quiz of the day is {'on' if enabled else 'off'}.", daily_quiz=enabled)

    @config.command(name="quiz-role", description="A role whose members may start quiz rounds (empty: none)")
    async def quiz_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        done = (f"Members with {role.mention} may start quiz rounds." if role
                else "Only members with Manage Messages may start quiz rounds.")
        await self._update(interaction, done, quiz_role_id=role.id if role else None)

    @config.command(name="champion-role", description="Give a role to last month's top quiz scorer (empty: off)")
    async def champion_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        if role is None:
            await self._update(interaction, "No champion role.", champion_role_id=None)
            return
        problem = champion_role_problem(interaction.guild, role)
        if problem:
            await self._reply(interaction, f"Not changed: {problem}")
            return
        await self._update(interaction, f"{role.mention} goes to last month's top scorer at the start of each month.",
                           champion_role_id=role.id, champion_month=None)


def champion_role_problem(guild: discord.Guild | None, role: discord.Role) -> str | None:
    """Why the bot could not give `role`, in words an admin can act on; None if it can."""
    me = guild.me if guild is not None else None
    if me is None:
        return None  # cannot tell from here; a failure later is shown in /glossary config show
    if role.managed or role.is_default():
        return f"{role.mention} is managed by Discord or an integration, so nobody can give it."
    if not (me.guild_permissions.manage_roles or me.guild_permissions.administrator):
        return f"I need the **Manage Roles** permission to give {role.mention}."
    if role >= me.top_role:
        return f"my own role must be above {role.mention} in the server's role list (Server Settings → Roles)."
    return None


async def setup(bot) -> None:
    await bot.add_cog(GlossaryGroup(bot))
