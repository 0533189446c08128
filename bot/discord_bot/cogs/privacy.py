"""/forget-me: delete everything the bot stores about the caller, after a confirmation."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from .. import render, render_study
from ..ui import in_quick_pool, safe_reply


class Privacy(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="forget-me", description="Delete all your data: review deck, quiz points, streaks")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(render_study.FORGET_TEXT, view=render_study.forget_view(),
                                                ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        # Whoever presses deletes their own data: the confirmation is private, and the id never
        # names a user, so nobody can press it for someone else.
        if custom_id == render_study.FORGET_YES:
            removed = await in_quick_pool(self.bot.state.study.forget_user, interaction.user.id)
            text = (f"Done: deleted {removed} record{'s' if removed != 1 else ''} about you. "
                    "Your review deck, points and streaks are gone in every server.")
        elif custom_id == render_study.FORGET_NO:
            text = "Cancelled: nothing was deleted."
        else:
            await safe_reply(interaction, "That button no longer works.")
            return
        await interaction.response.edit_message(content=text, view=None, allowed_mentions=render.NO_MENTIONS)


async def setup(bot) -> None:
    await bot.add_cog(Privacy(bot))
