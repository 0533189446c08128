"""/forget-me: delete everything the bot stores about the caller, after a confirmation."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

import logging

from .. import render, render_study
from ..ui import dynamic_view, in_quick_pool, safe_reply
from .scores import take_back_role

log = logging.getLogger(__name__)


class Privacy(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="forget-me", description="Delete all your data: review deck, quiz points, streaks")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(render_study.FORGET_TEXT, view=dynamic_view(render_study.forget_view()),
                                                ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        # Whoever presses deletes their own data: the confirmation is private, and the id never
        # names a user, so nobody can press it for someone else.
        if custom_id == render_study.FORGET_YES:
            await interaction.response.defer()  # the champion role below is a Discord call per server
            # first: a question of theirs still being searched must not be logged after the deletion
            self.bot.forgotten.add(interaction.user.id, interaction.created_at.timestamp())
            await self._drop_champion_roles(interaction.user.id)
            removed = await in_quick_pool(self.bot.state.study.forget_user, interaction.user.id)
            deleted, unnamed = await in_quick_pool(self.bot.state.feedback.forget,
                                                   self.bot.user_hash(interaction.user.id))
            removed += deleted
            study = self.bot.get_cog("Study")
            if study is not None:  # or an edit of a recent question would write its record back
                study.asked.forget_author(interaction.user.id, interaction.created_at.timestamp())
            # (QA76: the change-log lines only lose the name, and were counted as deleted)
            named = (f" Your name is off the {unnamed} change{'s' if unnamed != 1 else ''} you made to server aliases "
                     "and notes (the changes stay)." if unnamed else "")
            text = (f"Done: deleted {removed} record{'s' if removed != 1 else ''} about you. "
                    f"Your review deck, points, streaks, logged questions and votes are gone in every server.{named}")
        elif custom_id == render_study.FORGET_NO:
            text = "Cancelled: nothing was deleted."
        else:
            await safe_reply(interaction, "That button no longer works.")
            return
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text, view=None, allowed_mentions=render.NO_MENTIONS)
        else:
            await interaction.response.edit_message(content=text, view=None, allowed_mentions=render.NO_MENTIONS)

    async def _drop_champion_roles(self, user_id: int) -> None:
        """Take back the champion role where the user holds it: once forgotten, the bot could not."""
        for config in await in_quick_pool(self.bot.state.all_configs):
            guild = self.bot.get_guild(config.guild_id)
            if config.champion_user_id != user_id or not config.champion_role_id or guild is None:
                continue
            role = guild.get_role(config.champion_role_id)
            if role is None:
                continue
            try:
                await take_back_role(guild, role, user_id, "glossary bot: /forget-me")
            except discord.HTTPException as exc:  # no longer allowed: the data goes all the same
                log.info("champion role not removed in guild %s: %s", config.guild_id, exc)


async def setup(bot) -> None:
    await bot.add_cog(Privacy(bot))
