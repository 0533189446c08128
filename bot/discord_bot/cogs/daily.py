"""Term of the day: a once-a-minute check that posts each server's term once per local day.

The state database is written before the message is sent (claim), so a crash
or restart never posts twice; a failed send is recorded and shown in
`/glossary config show`. A failure Discord answered (no access, no permission, no such
channel) surely posted nothing: an admin's fix (`daily-channel`, `daily on`) lets that
day's term go out once after all (`StateStore.retry_daily_post`). On shutdown a post being sent is given a few seconds
to finish (discord.py may be waiting out a rate limit), so its row ends up
"posted" or "failed", never stuck half-done; a post a crash left half-done is
reported at the next start. Once connected, a post of the day left in doubt (cut off
mid-send, or a server error after Discord may have taken it) is looked for among the
channel's latest messages: found, it counts as posted; surely missing, it goes out then,
once; where the bot cannot read the channel's history, it stays in doubt and is not sent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import date

import aiohttp
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
#: how many of a channel's latest messages are read for a post in doubt (one request to Discord)
DOUBT_LOOKBACK = 100


class Daily(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.now = bot.now  # injectable clock (tests replace it)
        self._lock = asyncio.Lock()  # held while posting
        self._unsure: set[int] = set()  # servers whose post of the day failed in doubt while running
        self._logged_doubt: set[int] = set()  # servers whose "cannot tell" is logged already
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
        if state is None:
            return
        try:
            if state.db.dialect != "sqlite":
                await self._recover({guild.id for guild in self.bot.guilds})
            await self.settle_doubts()
        except Exception as exc:  # the loop starts all the same; a post in doubt stays so
            log_failure("checking the term of the day's posts in doubt failed", exc)

    async def settle_doubts(self, guilds: set[int] | None = None) -> set[int]:
        """Today's posts in doubt (of `guilds`, or every server's), looked for in their channels: one
        found is recorded as posted, one surely missing is reopened for the next check to send.
        Returns the servers whose post stays in doubt because their channel could not tell."""
        state, now, unsure = self.bot.state, self.now(), set()
        for config in await in_quick_pool(state.all_configs):
            if guilds is not None and config.guild_id not in guilds:
                continue
            if not (config.daily_enabled and config.daily_channel_id) or not self.bot.owns_guild(config.guild_id):
                continue
            try:
                day = config.schedule.local_day(now)
            except ScheduleError:
                continue
            doubt = await in_quick_pool(state.post_in_doubt, config.guild_id, day, config.timezone)
            if doubt is None:
                continue
            claimed_at, channel_id = doubt
            if channel_id != config.daily_channel_id:
                # another channel now (or one not recorded): its messages say nothing of the post
                appeared, why, failed = None, "the daily channel changed since it was sent", False
            else:
                appeared, why, failed = await self._appeared(channel_id, day, claimed_at)
            if appeared is None:
                if guilds is None or config.guild_id not in self._logged_doubt:
                    log.info("guild %s: cannot tell whether the term of the day for %s appeared (%s); it is not "
                             "sent again", config.guild_id, day, why)
                self._logged_doubt.add(config.guild_id)
                if failed:
                    unsure.add(config.guild_id)  # Discord's trouble: asked again at the next check
                continue
            self._logged_doubt.discard(config.guild_id)
            if await in_quick_pool(functools.partial(state.settle_post_in_doubt, config.guild_id, day, appeared,
                                                     config.timezone)):
                log.info("guild %s: the term of the day for %s %s", config.guild_id, day,
                         "had appeared" if appeared else "had not appeared: it is sent now")
        return unsure

    async def _appeared(self, channel_id: int, day: date, claimed_at) -> tuple[bool | None, str, bool]:
        """Whether the bot's post for `day` is among the channel's latest messages: True, False when
        they reach back to before it was claimed (or to the channel's start), None when the bot
        cannot tell; with why not, for the log, and whether reading them failed (worth asking again)."""
        channel = self.bot.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        if channel is None or guild is None or not hasattr(channel, "history"):
            return None, f"the daily channel {channel_id} is not one the bot can see", False
        allowed = channel.permissions_for(guild.me)
        if not (allowed.view_channel and allowed.read_message_history):
            return None, f"the bot lacks Read Message History in <#{channel_id}>", False
        header, seen, oldest = post_header(day), 0, None
        try:
            async for message in channel.history(limit=DOUBT_LOOKBACK):
                seen, oldest = seen + 1, message
                # (/today's reply has the same words, but it answers an interaction)
                if (message.author.id == self.bot.user.id and message.content == header
                        and message.interaction_metadata is None):
                    return True, "", False
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, f"reading <#{channel_id}> failed: {' '.join(str(exc).split()) or type(exc).__name__}", True
        if seen < DOUBT_LOOKBACK or (oldest is not None and oldest.created_at <= claimed_at):
            return False, "", False
        return None, f"more than {DOUBT_LOOKBACK} messages in <#{channel_id}> since it was sent", False

    async def _tick(self) -> None:
        try:
            await self.post_due()
            if self._unsure:
                # A post Discord failed after perhaps taking it (a 5xx, a timeout): looked for in its
                # channel at the next checks, as at a start, not only after a restart (QA70).
                unsure, self._unsure = self._unsure, set()
                self._unsure |= await self.settle_doubts(unsure)
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
                                                     now, zone, term_now=self.bot.term_now,
                                                     channel_id=config.daily_channel_id))
        if term is None:
            return 0
        error, not_sent, sent = None, False, []
        try:
            await self._send(config.guild_id, config.daily_channel_id, term, day, config.daily_quiz, sent)
        except asyncio.CancelledError:
            # stopped mid-send: record it now (no awaiting while cancelled), or the row stays "sending";
            # stopped after the term went out (while its quiz was sent), the day is posted
            state.finish_daily_post(config.guild_id, day, None if sent else interrupted_error(day), zone=zone)
            raise
        except (discord.HTTPException, LookupError, CannotPost) as exc:
            reason = failure_reason(exc, config.daily_channel_id)
            error = f"term of the day for {day.isoformat()} not posted: {reason}"
            not_sent = surely_not_sent(exc)
            log.warning("guild %s: %s", config.guild_id, error)
            if not not_sent:
                self._unsure.add(config.guild_id)
        await in_quick_pool(functools.partial(state.finish_daily_post, config.guild_id, day, error,
                                              not_sent=not_sent, zone=zone))
        self.bot.metrics.daily_posts.labels("failed" if error else "sent").inc()
        return 0 if error else 1

    async def _send(self, guild_id: int, channel_id: int, term: str, day: date, with_quiz: bool = False,
                    sent: list | None = None) -> None:
        """Post the day's term (and its quiz question); `sent` gets an item once the term is out."""
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
            content=post_header(day),
            embed=render.entry_embed(answer.entry, note=note),
            view=dynamic_view(render.entry_view(answer.entry, answer.related or [])),
            allowed_mentions=render.NO_MENTIONS,
        )
        if sent is not None:
            sent.append(day)
        quiz = self.bot.get_cog("Quiz")
        if with_quiz and quiz is not None:
            # the term is posted whatever happens here: a lost quiz is logged, not the day's failure
            try:
                embed, view = await in_quick_pool(quiz.daily_question, day)
                await channel.send(embed=embed, view=dynamic_view(view), allowed_mentions=render.NO_MENTIONS)
            except Exception as exc:  # noqa: BLE001 - whatever it was, the term's post stands
                log.warning("quiz of the day not posted in channel %s: %s", channel_id, exc)


def post_header(day: date) -> str:
    """The words the day's post starts with (and what a post in doubt is recognised by)."""
    return f"📘 Term of the day ({day.isoformat()})"


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
        # (its id would mean nothing to the admin, and a mention of it reads "#deleted-channel" at best)
        return "the daily channel no longer exists; choose another one with /glossary config daily-channel"
    if isinstance(exc, discord.HTTPException):
        code = f", code {exc.code}" if exc.code else ""
        return f"Discord answered {exc.status}{code}: {exc.text or 'no details'}"
    return str(exc)


async def setup(bot) -> None:
    await bot.add_cog(Daily(bot))
