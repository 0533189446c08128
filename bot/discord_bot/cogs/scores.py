"""/stats and /leaderboard, and the monthly champion role.

Boards are per server and monthly by default (all-time boards go stale), months in the
server's zone (its term of the day's); at the turn of a month a server that set a champion
role gives it to last month's top scorer still in the server and takes it from the previous
one. The month is claimed in the state database before the role changes, so a restart never
crowns twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from ...state.store import crowning_mark, waiting_mark
from ...state.study import zone_of
from ...study import scoring
from .. import render, render_study
from ..config_checks import champion_role_problem
from ..ui import in_quick_pool, log_failure, respond, within_time

log = logging.getLogger(__name__)

# last month's top scorers read for the champion role: the best of them still in the server gets it
CHAMPION_CANDIDATES = 10
# /leaderboard shows BOARD_SIZE scorers still in the server, of the top BOARD_CANDIDATES
BOARD_SIZE, BOARD_CANDIDATES = 10, 25


class Scores(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.champions = tasks.loop(seconds=bot.daily_interval)(self._champion_tick)
        self.champions.before_loop(self.bot.wait_until_ready)

    async def cog_load(self) -> None:
        self.champions.start()

    async def cog_unload(self) -> None:
        self.champions.cancel()

    @app_commands.command(name="stats", description="Quiz points, right answers, streak and review deck")
    @app_commands.describe(user="Whose stats (default: yours)")
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction, user: discord.User | None = None) -> None:
        who = user or interaction.user
        study, now = self.bot.state.study, self.bot.now()
        stats = await in_quick_pool(study.stats, interaction.guild_id, who.id, now)
        # a review deck is private: shown only to its owner
        deck = ((await in_quick_pool(self.bot.review_deck, who.id, now, interaction.guild_id))[0]
                if who.id == interaction.user.id else None)
        embed = render_study.stats_embed(who.display_name, stats, deck, own=who.id == interaction.user.id)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    @app_commands.command(name="leaderboard", description="This server's top quiz scorers")
    @app_commands.describe(period="This month (default) or all time")
    @app_commands.guild_only()
    async def leaderboard(self, interaction: discord.Interaction,
                          period: Literal["month", "all"] = "month") -> None:
        study, guild_id = self.bot.state.study, interaction.guild_id
        month = await in_quick_pool(study.month_now, guild_id, self.bot.now()) if period == "month" else None
        rows = await in_quick_pool(study.leaderboard, guild_id, month, BOARD_CANDIDATES)
        guild = self.bot.get_guild(interaction.guild_id)
        deferred = False
        if guild is not None:  # members who left show as "@unknown-user": as for the champion role, skipped
            # (a member not in the cache is asked of Discord: that may take longer than a reply may wait)
            rows, deferred = await within_time(interaction, _still_in(guild, rows, BOARD_SIZE))
        await respond(interaction, deferred, embed=render_study.board_embed(rows[:BOARD_SIZE], month))

    # -- the champion role -----------------------------------------------------------------------

    async def _champion_tick(self) -> None:
        try:
            await self.crown_champions()
        except Exception as exc:  # never let the loop die; an unavailable state database in one line
            log_failure("champion check failed", exc)

    async def crown_champions(self) -> int:
        """Give each server's champion role for last month, once; returns how many were crowned."""
        state = self.bot.state
        if state is None:
            return 0
        now, crowned = self.bot.now(), 0
        for config in await in_quick_pool(state.all_configs):
            guild = self.bot.get_guild(config.guild_id)
            # last month in the server's zone: its month turns at its own midnight (QA72)
            month = scoring.previous_month(scoring.month_key(now.astimezone(zone_of((None, config.timezone))[1])))
            # (an unavailable server's roles are not loaded: its role would read as deleted, the month
            # lost; it is crowned at a check once it is back, QA70)
            # (a crowning left under way, its process killed mid-way, is taken again once it is stale)
            # (or one the bot could not make then: its note, written over the mark, keeps the month open)
            left_open = (crowning_mark(month, None), waiting_mark(month))
            under_way = config.champion_month == month and (config.champion_error or "").startswith(left_open)
            if (not config.champion_role_id or ((config.champion_month or "") >= month and not under_way)
                    or guild is None or guild.unavailable):
                continue
            if (waiting := _cannot_give_yet(guild, config, month)) is not None:
                # not claimed: crowned at the first check after the admin fixes it, without asking
                # Discord to refuse it every minute (QA70: a refusal stood for the month)
                if config.champion_error != waiting:
                    await in_quick_pool(lambda g=config.guild_id, w=waiting: state.update_config(g, champion_error=w))
                continue
            if not await in_quick_pool(state.claim_champion_month, config.guild_id, month, now):
                continue  # crowned by another process since the settings were read
            top = await in_quick_pool(state.study.leaderboard, config.guild_id, month, CHAMPION_CANDIDATES)
            changes = await self._give_role(guild, config, month, [row.user_id for row in top])
            await in_quick_pool(lambda g=config.guild_id, c=changes: state.update_config(g, **c))
            crowned += changes.get("champion_user_id") is not None
        return crowned

    async def _give_role(self, guild: discord.Guild, config, month: str, candidates: list[int]) -> dict:
        """Give the champion role to the first of `candidates` (the month's top scorers, best first)
        still in the server and take it from the previous champion; returns the settings to store:
        the new champion, or why the role could not be given (shown in /glossary config show)."""
        role = guild.get_role(config.champion_role_id)
        if role is None:
            return {"champion_error": f"not given for {month}: the role was deleted; choose another with "
                                      "/glossary config champion-role"}
        try:
            winner = await _first_member(guild, candidates)
            if config.champion_user_id and config.champion_user_id != (winner.id if winner else None):
                await take_back_role(guild, role, config.champion_user_id, "glossary bot: last month's quiz champion")
            if winner is not None:
                await winner.add_roles(role, reason="glossary bot: top quiz scorer of the month")
        except discord.Forbidden:
            return {"champion_error": f"not given for {month}: I need the Manage Roles permission to give "
                                      f"{role.name}, and my own role must be above it in the server's role list"}
        except discord.HTTPException as exc:
            return {"champion_error": f"not given for {month}: Discord refused the change ({exc.status})"}
        # scorers who all left: nobody can hold it this month, and the admin should not wonder why
        nobody_left = (f"not given for {month}: none of that month's top scorers is still in the server"
                       if candidates and winner is None else None)
        return {"champion_user_id": winner.id if winner else None, "champion_error": nobody_left}


def _cannot_give_yet(guild: discord.Guild, config, month: str) -> str | None:
    """Why the bot's permissions or place in the role list keep it from giving the champion role,
    as `config show` says it; None if it can (or the role is gone: that is said once it is tried)."""
    role = guild.get_role(config.champion_role_id)
    problem = champion_role_problem(guild, role) if role is not None else None
    if problem is None:
        return None
    problem = problem.replace("**", "")  # shown escaped, as typed text is
    if role.managed or role.is_default():
        return f"not given for {month}: {problem} Choose another with /glossary config champion-role."
    return f"{waiting_mark(month)} {problem} It is given at the next check (within a minute) once that is fixed."


async def _first_member(guild: discord.Guild, user_ids: list[int]) -> discord.Member | None:
    for user_id in user_ids:
        member = guild.get_member(user_id) or await _fetch_member(guild, user_id)
        if member is not None:
            return member
    return None


async def _still_in(guild: discord.Guild, rows: list, size: int) -> list:
    """The first `size` of the board's `rows` whose scorer is still in the server."""
    kept, start = [], 0
    while len(kept) < size and start < len(rows):
        batch = rows[start:start + size - len(kept)]
        start += len(batch)
        here = await asyncio.gather(*(_is_member(guild, row.user_id) for row in batch))
        kept += [row for row, member in zip(batch, here) if member]
    return kept


async def _is_member(guild: discord.Guild, user_id: int) -> bool:
    if guild.get_member(user_id) is not None:
        return True
    try:
        return await _fetch_member(guild, user_id) is not None
    except discord.HTTPException:
        return True  # Discord could not say: shown, rather than a member missing from the board


async def take_back_role(guild: discord.Guild, role: discord.Role, user_id: int, reason: str) -> bool:
    """`role` taken from a member (last month's champion, a forgotten one); False when they have left
    the server, and the role with it. Discord's refusals (no Manage Roles, a role above the bot's) raise."""
    member = guild.get_member(user_id) or await _fetch_member(guild, user_id)
    if member is None:
        return False
    await member.remove_roles(role, reason=reason)
    return True


async def _fetch_member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    try:
        return await guild.fetch_member(user_id)
    except (discord.NotFound, discord.Forbidden):
        return None  # left the server


async def setup(bot) -> None:
    await bot.add_cog(Scores(bot))
