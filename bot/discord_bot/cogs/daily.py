"""Term of the day: a once-a-minute check that posts each server's term once per local day.

The state database is written before the message is sent (claim), so a crash
or restart never posts twice; a failed send is recorded and shown in
`/glossary config show`. A failure Discord answered (no access, no permission, no such
channel) surely posted nothing: an admin's fix (`daily-channel`, `daily on`) lets that
day's term go out once after all (`StateStore.retry_daily_post`). On shutdown a post being sent is given a few seconds
to finish (discord.py may be waiting out a rate limit), so its row ends up
"posted" or "failed", never stuck half-done; a post a crash left half-done is
reported at the next start.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import date

import discord
from discord.ext import commands, tasks

from ...glossary.daily import ScheduleError
from ...state import GuildConfig, interrupted_error
from .. import render
from ..config_checks import DAILY_NEEDS, missing_permissions, named_together
from ..ui import dynamic_view, in_quick_pool, in_search_pool, log_failure

log = logging.getLogger(__name__)
#: how long shutdown waits for a post being sent (Docker gives 10 s before SIGKILL)
SHUTDOWN_GRACE_SECONDS = 5.0


class Daily(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.now = bot.now  # injectable clock (tests replace it)
        self._lock = asyncio.Lock()  # held while posting
        self._stopping = False
        self.shutdown_grace = SHUTDOWN_GRACE_SECONDS  # tests shorten it
        self.loop = tasks.loop(seconds=bot.daily_interval)(self._tick)
        self.loop.before_loop(self._before)

    async def cog_load(self) -> None:
        state = self.bot.state
        if state is not None and state.db.dialect == "sqlite":  # one process: every half-done post is ours
            await self._recover(None)
        self.loop.start()

    async def _recover(self, guilds: set[int] | None) -> None:
        for guild_id, day in await in_quick_pool(self.bot.state.recover_interrupted_posts, guilds):
            log.warning("guild %s: %s", guild_id, interrupted_error(day))

    async def cog_unload(self) -> None:
        """Stop the loop; a post being sent may finish first (bounded), so its row is not left half-done."""
        self._stopping = True
        task = self.loop.get_task()
        if self._lock.locked():
            try:
                async with asyncio.timeout(self.shutdown_grace):
                    async with self._lock:
                        pass
            except TimeoutError:
                log.warning("shutting down while a term of the day is still being sent")
        self.loop.cancel()
        if task is not None and not task.done():
            # let the cancelled post record itself before the bot closes the state database
            await asyncio.wait([task], timeout=self.shutdown_grace)

    async def _before(self) -> None:
        """With a shared PostgreSQL state, once connected (so this process knows which servers
        are on its shards): report the posts a stopped bot left half-done, for those servers
        only; another process's post in flight is not ours to judge."""
        await self.bot.wait_until_ready()
        state = self.bot.state
        if state is not None and state.db.dialect != "sqlite":
            await self._recover({guild.id for guild in self.bot.guilds})

    async def _tick(self) -> None:
        try:
            await self.post_due()
        except Exception as exc:  # never let the loop die; an unavailable state database in one line
            log_failure("daily check failed", exc)

    async def post_due(self) -> int:
        """Post every due term of the day; returns how many were posted."""
        async with self._lock:
            state = self.bot.state
            if state is None or self._stopping:
                return 0
            posted = 0
            for config in await in_quick_pool(state.all_configs):
                if self._stopping:
                    break  # shutting down: start no new post
                if not (config.daily_enabled and config.daily_channel_id):
                    continue
                if not self.bot.owns_guild(config.guild_id):
                    continue  # another process's shard (the claim row would stop a second post anyway)
                try:
                    posted += await self.post_for(config)
                except Exception:
                    log.exception("daily post failed for guild %s", config.guild_id)
            return posted

    async def post_for(self, config: GuildConfig) -> int:
        state = self.bot.state
        try:
            schedule = config.schedule
        except ScheduleError as exc:
            log.warning("guild %s has an unusable schedule: %s", config.guild_id, exc)
            return 0
        now = self.now()
        if not schedule.is_due(now, *(await in_quick_pool(state.last_claim, config.guild_id) or (None, None))):
            return 0
        # the day is a date in the zone set now: the claim, the outcome and the day's row all name it
        day, zone = schedule.local_day(now), config.timezone
        term = await in_quick_pool(functools.partial(state.claim_daily_post, config.guild_id, day, self.bot.daily_terms(),
                                                     now, zone, term_now=self.bot.term_now))
        if term is None:
            return 0
        error, not_sent = None, False
        try:
            await self._send(config.guild_id, config.daily_channel_id, term, day, config.daily_quiz)
        except asyncio.CancelledError:
            # stopped mid-send: record it now (no awaiting while cancelled), or the row stays "sending"
            state.finish_daily_post(config.guild_id, day, interrupted_error(day), zone=zone)
            raise
        except (discord.HTTPException, LookupError, CannotPost) as exc:
            reason = failure_reason(exc, config.daily_channel_id)
            error = f"term of the day for {day.isoformat()} not posted: {reason}"
            not_sent = surely_not_sent(exc)
            log.warning("guild %s: %s", config.guild_id, error)
        await in_quick_pool(functools.partial(state.finish_daily_post, config.guild_id, day, error,
                                              not_sent=not_sent, zone=zone))
        self.bot.metrics.daily_posts.labels("failed" if error else "sent").inc()
        return 0 if error else 1

    async def _send(self, guild_id: int, channel_id: int, term: str, day: date, with_quiz: bool = False) -> None:
        answer = await in_search_pool(self.bot.answer_term, term)  # a renamed term is followed (entry_by_term)
        if answer is None:
            raise LookupError(f"term {term!r} is no longer in the glossary")
        note = await in_quick_pool(self.bot.server_note, guild_id, answer.entry)  # as /today shows it
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if missing := missing_permissions(channel, DAILY_NEEDS):
            # Without Embed Links Discord posts the text and drops the embed: a bare header counted as sent,
            # and the day's term lost. Refused here, the day fails unsent and goes out once fixed.
            raise CannotPost(channel_id, missing)
        await channel.send(
            content=f"📘 Term of the day ({day.isoformat()})",
            embed=render.entry_embed(answer.entry, note=note),
            view=dynamic_view(render.entry_view(answer.entry, answer.related or [])),
            allowed_mentions=render.NO_MENTIONS,
        )
        quiz = self.bot.get_cog("Quiz")
        if with_quiz and quiz is not None:
            # the term is posted whatever happens here: a lost quiz is logged, not the day's failure
            try:
                embed, view = await in_quick_pool(quiz.daily_question, day)
                await channel.send(embed=embed, view=dynamic_view(view), allowed_mentions=render.NO_MENTIONS)
            except Exception as exc:  # noqa: BLE001 - whatever it was, the term's post stands
                log.warning("quiz of the day not posted in channel %s: %s", channel_id, exc)


class CannotPost(Exception):
    """The bot lacks permissions a post needs in the channel: nothing was sent."""

    def __init__(self, channel_id: int, missing: list[str]):
        super().__init__(f"the bot lacks {named_together(missing)} in <#{channel_id}>; give it "
                         f"{'that' if len(missing) == 1 else 'those'} there (channel settings → Permissions → "
                         "its role), then /glossary config daily enabled:True sends the day's term")


def surely_not_sent(exc: Exception) -> bool:
    """Whether a failed post surely did not appear: Discord refused it (a 4xx: no access, no
    permission, no such channel) or there was nothing to send. A server error or a timeout may
    come after Discord posted it, so such a day is not sent again (at most one post a day)."""
    if isinstance(exc, discord.HTTPException):
        return 400 <= exc.status < 500
    return isinstance(exc, (LookupError, CannotPost))


def failure_reason(exc: Exception, channel_id: int) -> str:
    """Why a post failed, in words a server admin can act on (shown by /glossary config show)."""
    if isinstance(exc, discord.Forbidden):
        if exc.code == 50001:  # Missing Access: the bot cannot even see the channel
            return (f"the bot cannot see <#{channel_id}> (Discord: Missing Access); give it View Channel "
                    "there or choose another channel with /glossary config daily-channel")
        return (f"the bot may not post in <#{channel_id}> (Discord: {exc.text or 'Forbidden'}); give it "
                "Send Messages and Embed Links there")
    if isinstance(exc, discord.NotFound):
        return (f"the daily channel {channel_id} no longer exists; choose another one with "
                "/glossary config daily-channel")
    if isinstance(exc, discord.HTTPException):
        code = f", code {exc.code}" if exc.code else ""
        return f"Discord answered {exc.status}{code}: {exc.text or 'no details'}"
    return str(exc)


async def setup(bot) -> None:
    await bot.add_cog(Daily(bot))
