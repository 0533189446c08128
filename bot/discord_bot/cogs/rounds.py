"""Quiz rounds in a channel (`/quiz round:5`): N questions, each open for a time limit,
everyone may answer each once, faster right answers score more, a summary at the end.
A moderator (Manage Messages or Manage Server) or a member with the server's quiz role starts
one; `/quiz-stop` or a question's Stop round button (which asks first) ends one early (its starter or
a moderator).

A round is rows in the state database: its questions (fixed when it starts), the open
question's message and when it opened, and every answer. A driver task posts a question,
waits out its time on the bot's clock, closes it, and goes on; after a restart the
driver picks each running round up where it was, and answers clicked meanwhile count.
A stop is a row change too (`stopped_by`), and only the driver acts on it: woken at once (or,
for a stop made in another bot process, within a few ticks, as it reads the row while it waits),
it closes the open question and posts the summary, so a stop never races the driver's own
next question, and one made just before a restart is finished after it.

A state database that fails for a while (PostgreSQL restarting, a failover) pauses the round
rather than ending it: the driver logs it once, reads the round again a little later and goes
on. After `give_up_after` seconds without the database it stops driving and leaves the round
running (it could not mark it otherwise): `/quiz-stop` or the bot's next start then finishes it.
"""

from __future__ import annotations

import asyncio
import contextvars
import contextlib
import logging
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from ...state import StateError
from ...state.study import CANCELLED, FINISHED, RUNNING, STOPPED, Round, RoundQuestion, round_ref
from ...study import scoring
from .. import render, render_quiz, render_study
from ..ui import dynamic_view, in_quick_pool, log_failure, past_the_reply, safe_reply

log = logging.getLogger(__name__)
DEFAULT_QUESTIONS, DEFAULT_SECONDS = 5, 30
# the most a click may have waited for the state worker and still count from when it was made:
# Discord wants its answer within 3 s, so a longer wait is no click anyone is still waiting on
CLICK_WAIT_MAX = 3.0


def _transient() -> tuple[type[Exception], ...]:
    """State errors that pass: the database restarting or unreachable for a while (PostgreSQL's
    OperationalError, which includes the pool's PoolTimeout and AdminShutdown), or SQLite busy.
    psycopg's only once it is loaded: only a PostgreSQL state raises its errors, and it has
    imported it by then (importing it here cost every SQLite start about 0.1 s)."""
    psycopg = sys.modules.get("psycopg")
    return (StateError, sqlite3.OperationalError, *((psycopg.OperationalError,) if psycopg else ()))


# Discord's own trouble, after discord.py's retries (a 5xx), or the connection to it dropped: a round
# waits it out as it waits out its database, where one 503 ended it for good, silently (QA70).
_DISCORD_TRANSIENT = (discord.DiscordServerError, aiohttp.ClientError, TimeoutError)


def _what_failed(exc: Exception) -> str:
    return "Discord" if isinstance(exc, _DISCORD_TRANSIENT) else "the state database"


class _GaveUp(Exception):
    """The state database (or Discord) has failed for longer than a driver waits for it."""


class _Outage:
    """A driver's time without its state database, or without Discord: logged once when it starts
    and once when it ends (not a traceback per tick), waited out `retry` seconds at a time, given
    up after `give_up_after` seconds (on the real clock: the bot's may stand still)."""

    def __init__(self, round_id: int, retry: float, give_up_after: float) -> None:
        self.round_id, self.retry, self.give_up_after = round_id, retry, give_up_after
        self.since: float | None = None
        self.what = "the state database"

    async def wait(self, exc: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since, self.what = now, _what_failed(exc)
            log.warning("quiz round %s: %s failed (%s: %s); trying again", self.round_id, self.what,
                        type(exc).__name__, " ".join(str(exc).split()))
        elif now - self.since > self.give_up_after:
            raise _GaveUp(f"no answer from {_what_failed(exc)} for {now - self.since:.0f} s, last "
                          f"{type(exc).__name__}: " + " ".join(str(exc).split()))
        await asyncio.sleep(self.retry)

    def over(self) -> None:
        if self.since is not None:
            log.info("quiz round %s: %s answers again after %.0f s", self.round_id, self.what,
                     time.monotonic() - self.since)
            self.since = None

    async def retried(self, func, *args):
        """`func(*args)` in the quick pool until it succeeds: for a write that must land before the
        driver goes on, such as the open question's message id once the question is posted."""
        while True:
            try:
                result = await in_quick_pool(func, *args)
            except _transient() as exc:
                await self.wait(exc)
                continue
            self.over()
            return result


#: how far back a resumed round looks for its question posted but not recorded (players' answers are clicks)
QUESTION_LOOKBACK = 20


class Rounds(commands.Cog):
    retry_ticks = 3  # a driver whose state database failed tries again after this many ticks
    poll_ticks = 5  # a driver waiting out a question reads its round this often (a stop made in another process)
    give_up_after = 600.0  # seconds without the state database after which a driver lets its round be

    def __init__(self, bot) -> None:
        self.bot = bot
        self._drivers: dict[int, asyncio.Task] = {}
        self._wakes: dict[int, asyncio.Event] = {}  # set when a round is stopped: its driver stops waiting
        self._unloaded = False
        # rounds picked up after a start (or from another process): the question they ask next may
        # have been posted by a process stopped before it recorded it (QA75), looked for first
        self._resumed: set[int] = set()

    async def cog_load(self) -> None:
        for quiz_round in await in_quick_pool(self.bot.state.study.running_rounds):
            self._drive_later(quiz_round.round_id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._undriven(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._undriven(guild)

    async def _undriven(self, guild: discord.Guild) -> None:
        """Running rounds of a server that is back (after an outage, or re-invited) and that no driver
        here has: at start it was not this bot's (kicked while the bot was down) or not available.
        One whose question closed only moments ago goes on; one left longer (perhaps weeks: the bot
        was removed) is over, cancelled, so the channel is free for a new one: it said a round was
        running that nothing ran (QA70)."""
        try:
            rounds = [r for r in await in_quick_pool(self.bot.state.study.running_rounds)
                      if r.guild_id == guild.id and r.round_id not in self._drivers]
            now = self.bot.now()
            for quiz_round in rounds:
                deadline = quiz_round.deadline()
                if deadline is not None and (now - deadline).total_seconds() <= self.give_up_after:
                    self._drive_later(quiz_round.round_id)
                else:
                    await in_quick_pool(self.bot.state.study.end_round, quiz_round.round_id, CANCELLED)
                    log.info("quiz round %s: cancelled, its server was gone from the bot for a while",
                             quiz_round.round_id)
        except Exception as exc:  # an event handler: one line, never a traceback per event
            log_failure(f"quiz rounds of server {guild.id} not picked up", exc)

    async def cog_unload(self) -> None:
        # the rounds stay "running" in the database: the next start resumes them
        self._unloaded = True
        for task in self._drivers.values():
            task.cancel()
        if self._drivers:
            await asyncio.wait(self._drivers.values(), timeout=5)
        # a cancelled driver's last write (say, the question it just posted) is still queued in the
        # quick pool (one worker, in order): let it land before the bot closes the database
        await in_quick_pool(lambda: None)

    def _drive_later(self, round_id: int, resumed: bool = True) -> None:
        if self._unloaded:
            # a /quiz answered just as the bot closed: its round stays running for the next start, a
            # driver begun now would post through a closed session and cancel the round on the way out
            log.info("quiz round %s: left for the next start (the bot is closing)", round_id)
            return
        # a context of its own: not the /quiz handler's, whose state calls are bounded by its interaction
        task = asyncio.create_task(self._drive(round_id), name=f"quiz-round-{round_id}", context=contextvars.Context())
        self._drivers[round_id] = task
        if resumed:
            self._resumed.add(round_id)
        self._wakes[round_id] = asyncio.Event()

        def done(_task: asyncio.Task) -> None:
            self._drivers.pop(round_id, None)
            self._wakes.pop(round_id, None)
            self._resumed.discard(round_id)

        task.add_done_callback(done)

    # -- starting --------------------------------------------------------------------------------

    def may_start(self, interaction: discord.Interaction) -> bool:
        """A moderator (the same as may stop any round: Manage Messages or Manage Server), or a
        member with the server's quiz role."""
        if is_moderator(interaction):
            return True
        role_id = self.bot.state.config(interaction.guild_id).quiz_role_id
        roles = getattr(interaction.user, "roles", [])
        return role_id is not None and any(role.id == role_id for role in roles)

    def _questions(self, count: int) -> list[RoundQuestion]:
        """Up to `count` questions about different entries (fewer if a small glossary has fewer)."""
        maker = self.bot.quiz_maker()
        entries, rng = maker.index.entries, random.Random()
        questions = []
        for answer in rng.sample(maker.askable, min(count, len(maker.askable))):
            question = maker.question(rng, entry_id=answer)
            questions.append(RoundQuestion(question.kind, entries[question.answer].term,
                                           tuple(entries[o].term for o in question.options)))
        return questions

    async def start(self, interaction: discord.Interaction, count: int, seconds: int) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            await safe_reply(interaction, "Quiz rounds run in a server channel. `/quiz` alone asks you privately.")
            return
        if not await in_quick_pool(self.may_start, interaction):
            await safe_reply(interaction, "Starting a round needs the Manage Messages or Manage Server permission, "
                                          "or the server's quiz role. `/quiz` alone asks you privately.")
            return
        can = interaction.app_permissions
        # In a thread or forum post what lets the bot post is Send Messages in Threads (a staff-only forum
        # denies Send Messages, which there means creating posts)
        in_thread = isinstance(interaction.channel, discord.Thread)
        if not ((can.send_messages_in_threads if in_thread else can.send_messages) and can.embed_links):
            needs = "Send Messages in Threads" if in_thread else "Send Messages"
            await safe_reply(interaction, f"I can't run a round here: I need {needs} and Embed Links in "
                                          f"this {'thread' if in_thread else 'channel'}.")
            return
        questions = await in_quick_pool(self._questions, count)
        if not questions:
            await safe_reply(interaction, "This glossary has no entries long enough to ask about.")
            return
        quiz_round = await in_quick_pool(self.bot.state.study.start_round, interaction.guild_id,
                                         interaction.channel_id, interaction.user.id, questions, seconds,
                                         self.bot.now())
        if quiz_round is None:
            await safe_reply(interaction, "A quiz round is already running in this channel. `/quiz-stop` ends it "
                                          "(whoever started it, or a member with Manage Messages or Manage Server).")
            return
        try:
            await interaction.response.send_message(render_study.round_announcement(len(questions), seconds),
                                                    allowed_mentions=render.NO_MENTIONS)
        except discord.HTTPException:
            # nobody was told it started (the interaction expired): a round nobody waits for is no round
            with past_the_reply():  # (the expired interaction's time is no limit for ending it)
                await in_quick_pool(self.bot.state.study.end_round, quiz_round.round_id, CANCELLED)
            raise
        self._drive_later(quiz_round.round_id, resumed=False)

    # -- the driver ---------------------------------------------------------------------------------

    async def _drive(self, round_id: int) -> None:
        await self.bot.wait_until_ready()
        study = self.bot.state.study
        outage = _Outage(round_id, self.bot.round_tick * self.retry_ticks, self.give_up_after)
        first = None
        try:
            first = await outage.retried(study.round, round_id)
            if first is None or not self.bot.owns_guild(first.guild_id):
                return  # a round in a server on another process's shards: that process drives it
            while True:
                try:
                    quiz_round = await in_quick_pool(study.round, round_id)
                    if quiz_round is None or quiz_round.status != RUNNING:
                        return
                    await self._step(quiz_round, outage)
                    outage.over()  # a step done, not a read alone: a database that only reads is no way on
                except (*_transient(), *_DISCORD_TRANSIENT) as exc:
                    # Each step's writes come last (a closed question moves on to the next), so the
                    # round read afresh says where to go on; a write after a post is retried in place.
                    await outage.wait(exc)
        except asyncio.CancelledError:
            raise
        except _GaveUp as exc:
            # nothing can be written now: the round stays running, for /quiz-stop (which drives it to
            # its summary) or the next start to finish once the database is back
            log.error("quiz round %s: stopped driving it (%s); /quiz-stop in its channel or the bot's next start "
                      "finishes it", round_id, exc)
        except discord.HTTPException as exc:  # channel gone, or no permission to post there any more
            if self._unloaded:  # (the bot closing under it: the round is the next start's)
                return
            log.warning("quiz round %s stopped: %s", round_id, exc)
            await self._cancel(round_id, outage)
            if first is not None:
                await self._tell_starter(first, exc)
        except Exception:
            if self._unloaded:  # the bot closed under it (its HTTP session, its database): the next start resumes
                log.info("quiz round %s: left for the next start (the bot closed under its driver)", round_id)
                return
            log.exception("quiz round %s failed", round_id)
            await self._cancel(round_id, outage)

    async def _step(self, quiz_round: Round, outage: _Outage) -> None:
        """One thing the round needs now: wait, close the open question, ask the next, or finish."""
        channel = self.bot.get_channel(quiz_round.channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(quiz_round.channel_id)
        stopped = quiz_round.stopped_by is not None
        if quiz_round.message_id is not None:  # a question is open: until its time is up or a stop
            if not stopped and self.bot.now() < quiz_round.deadline():
                await self._wait(quiz_round)  # then the round is read again: a stop is in the database
            else:
                await self._close(channel, quiz_round)
        elif stopped or quiz_round.position >= len(quiz_round.questions):
            await self._finish(channel, quiz_round, outage)
        else:
            await self._ask(channel, quiz_round, outage)

    async def _cancel(self, round_id: int, outage: _Outage) -> None:
        try:
            await outage.retried(self.bot.state.study.end_round, round_id, CANCELLED)
        except _GaveUp as exc:
            log.error("quiz round %s: could not mark it cancelled (%s); /quiz-stop in its channel or the bot's next "
                      "start finishes it", round_id, exc)

    async def _tell_starter(self, quiz_round: Round, exc: discord.HTTPException) -> None:
        """Who started a round Discord would not let go on, told why in a DM: the channel, where the
        round would say so, is what the bot can no longer post in (QA70: it ended without a word)."""
        why = ("the channel is gone" if isinstance(exc, discord.NotFound)
               else "I may no longer post there (Send Messages or Embed Links was taken away)"
               if isinstance(exc, discord.Forbidden) else f"Discord refused a post there ({exc.status})")
        guild = self.bot.get_guild(quiz_round.guild_id)
        where = f" in **{discord.utils.escape_markdown(guild.name)}**" if guild is not None else ""
        text = (f"The quiz round you started in <#{quiz_round.channel_id}>{where} ended early: {why}. "
                f"The points already won count.")
        try:
            user = self.bot.get_user(quiz_round.started_by) or await self.bot.fetch_user(quiz_round.started_by)
            await user.send(text, allowed_mentions=render.NO_MENTIONS)
        except (discord.HTTPException, *_DISCORD_TRANSIENT) as dm_exc:  # DMs closed, the account gone, Discord down
            log.info("quiz round %s: could not tell its starter it ended (%s)", quiz_round.round_id, dm_exc)

    async def _wait(self, quiz_round: Round) -> None:
        """Until the open question's time is up on the bot's clock, or the round is stopped: in this
        process the stop wakes it, one made in another process is found in the row, read every
        `poll_ticks` ticks."""
        wake = self._wakes.setdefault(quiz_round.round_id, asyncio.Event())
        ticks = 0
        while self.bot.now() < quiz_round.deadline() and not wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.bot.round_tick)
            ticks += 1
            if ticks % self.poll_ticks == 0 and await self._ended_elsewhere(quiz_round.round_id):
                break
        wake.clear()

    async def _ended_elsewhere(self, round_id: int) -> bool:
        """Whether the round's row says stopped or over; a failing database says nothing (the
        question's deadline still ends the wait, and the driver reads the round then)."""
        try:
            quiz_round = await in_quick_pool(self.bot.state.study.round, round_id)
        except _transient():
            return False
        return quiz_round is None or quiz_round.status != RUNNING or quiz_round.stopped_by is not None

    def _render_question(self, quiz_round: Round):
        """The open question as a /quiz question is shown, or None if a rebuilt glossary lost one
        of its entries, or merged two of its options (a round stores names: ids may change in a
        rebuild). An entry renamed since, its old name kept as an alias, is asked under its new
        name, as review cards and buttons follow it (QA71: the question was skipped)."""
        question = quiz_round.question
        entries = [self.bot.entry_by_term(term) for term in (question.answer, *question.options)]
        if any(entry is None for entry in entries) or len({e.id for e in entries[1:]}) < len(entries) - 1:
            return None
        text, labels = render_quiz.question_text(self.bot.quiz_maker(), question.kind, entries[0].id,
                                                 tuple(e.id for e in entries[1:]))
        return render_study.round_question(quiz_round, text, labels, entries[0].term)

    async def _ask(self, channel, quiz_round: Round, outage: _Outage) -> None:
        shown = await in_quick_pool(self._render_question, quiz_round)
        if shown is None:
            await in_quick_pool(self.bot.state.study.next_question, quiz_round.round_id)
            return
        embed, view = shown
        message = None
        if quiz_round.round_id in self._resumed:  # (a failed look is retried by the driver, as a failed post)
            message = await self._posted_already(channel, quiz_round)
        if message is None:
            message = await channel.send(embed=embed, view=dynamic_view(view), allowed_mentions=render.NO_MENTIONS)
        self._resumed.discard(quiz_round.round_id)
        # retried here, not by reading the round again, which would post the question a second time
        await outage.retried(self.bot.state.study.open_question, quiz_round.round_id, quiz_round.position,
                             message.id, self.bot.now())

    async def _posted_already(self, channel, quiz_round: Round) -> discord.Message | None:
        """The round's next question among the channel's latest messages, posted by a process that
        stopped (killed, or its database gone at the shutdown) before it recorded the question open:
        asked again, the channel showed it twice, the first copy's buttons live for ever (QA75). None
        when it is not there or the bot cannot tell (no Read Message History): then it is posted."""
        guild = getattr(channel, "guild", None)
        if guild is None or not hasattr(channel, "history"):
            return None
        allowed = channel.permissions_for(guild.me)
        if not (allowed.view_channel and allowed.read_message_history):
            return None
        wanted = render_study.round_custom_id(quiz_round.round_id, quiz_round.position, 0)
        try:
            async for message in channel.history(limit=QUESTION_LOOKBACK):
                if message.author.id == self.bot.user.id and any(
                        getattr(item, "custom_id", None) == wanted for row in message.components
                        for item in getattr(row, "children", ())):
                    log.info("quiz round %s: question %d was posted before the restart, not again",
                             quiz_round.round_id, quiz_round.position + 1)
                    return message
        except discord.Forbidden as exc:  # (a Discord hiccup is not caught: the driver tries again)
            log.warning("quiz round %s: could not read its channel's latest messages (%s)", quiz_round.round_id, exc)
        return None

    async def _close(self, channel, quiz_round: Round) -> None:
        results = await in_quick_pool(self._close_question, quiz_round)
        answer = self.bot.term_now(quiz_round.question.answer)  # renamed since the round began: as asked
        try:
            await channel.get_partial_message(quiz_round.message_id).edit(
                embed=render_study.round_closed(quiz_round, results, answer), view=None,
                allowed_mentions=render.NO_MENTIONS)
        except discord.NotFound:
            pass  # someone deleted the question: the round goes on

    def _close_question(self, quiz_round: Round) -> list[tuple[int, bool, int]]:
        """The question's results, and the round past it, in one call of the quick pool (where clicks
        are answered too): a click made in time but answered after the results were read counted and
        was told so, while the closed question showed nobody right. Now it comes before (and is shown)
        or after (and is told the question closed). A restart between this and the edit leaves the
        question's buttons on screen, closed."""
        study = self.bot.state.study
        results = study.question_results(quiz_round, quiz_round.position)
        study.next_question(quiz_round.round_id)
        return results

    def _end(self, round_id: int):
        """End the round as it is now, and its scores: one call in the quick pool (one worker), so
        a stop is either in it ("Round stopped") or comes after it ("already over")."""
        study = self.bot.state.study
        quiz_round = study.round(round_id)
        study.end_round(round_id, STOPPED if quiz_round.stopped_by is not None else FINISHED)
        return quiz_round, study.round_scores(quiz_round)

    async def _finish(self, channel, quiz_round: Round, outage: _Outage) -> None:
        # ended first: a restart right here loses the summary rather than posting it twice; retried
        # here, as once ended the round read again would be over, its summary never posted
        quiz_round, rows = await outage.retried(self._end, quiz_round.round_id)
        await channel.send(embed=render_study.round_summary(rows, quiz_round), allowed_mentions=render.NO_MENTIONS)

    # -- answers --------------------------------------------------------------------------------------

    def _answer(self, user_id: int, round_id: int, position: int, pick: int,
                clicked_at: datetime | None = None) -> str:
        """A click on an option; `clicked_at`: when Discord took it (the interaction's time)."""
        study, now = self.bot.state.study, self.bot.now()
        if clicked_at is not None:
            # The click's moment, not when the state worker got to it: on a busy server a click in time was
            # told the question had closed, and a fast one lost its speed points. The wait is Discord's
            # clock against ours (ours may be a test's); one ahead of Discord's counts none.
            waited = (discord.utils.utcnow() - clicked_at).total_seconds()
            now -= timedelta(seconds=min(max(waited, 0.0), CLICK_WAIT_MAX))
        quiz_round = study.round(round_id)
        if quiz_round is not None and quiz_round.stopped_by is not None:
            return "That question is closed: the round was stopped."
        # Opened but not yet recorded so: the driver posts a question, then records it open, and a click
        # in between (a busy state worker, a database blip) was told the question on screen was closed.
        just_posted = quiz_round is not None and quiz_round.opened_at is None
        if (quiz_round is None or quiz_round.status != RUNNING or quiz_round.position != position
                or (not just_posted and now > quiz_round.deadline())):
            return "That question is closed."
        question = quiz_round.question
        if pick >= len(question.options):
            return "That button no longer works."
        correct = pick == question.correct
        elapsed = 0.0 if just_posted else max((now - quiz_round.opened_at).total_seconds(), 0.0)
        points = scoring.round_points(correct, elapsed, quiz_round.seconds)
        if not study.record_answer(quiz_round.guild_id, user_id, round_ref(round_id, position), correct, points, now):
            return "You already answered this question."
        if correct:
            return f"✅ Right! +{points} points ({elapsed:.1f} s)."
        return "❌ Not that one. The answer is shown when time is up."

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        stop = render_study.parse_round_stop_id(custom_id)
        if stop is not None:
            await self.stop_button(interaction, *stop)
            return
        parsed = render_study.parse_round_id(custom_id)
        if parsed is None:
            await safe_reply(interaction, "That button no longer works.")
            return
        await safe_reply(interaction, await in_quick_pool(self._answer, interaction.user.id, *parsed,
                                                          interaction.created_at))

    # -- stopping ---------------------------------------------------------------------------------------

    @app_commands.command(name="quiz-stop", description="Stop the quiz round running in this channel")
    @app_commands.guild_only()
    async def quiz_stop(self, interaction: discord.Interaction) -> None:
        await self.stop(interaction, None)

    @staticmethod
    def may_stop(interaction: discord.Interaction, quiz_round: Round) -> bool:
        """Whoever started the round, or a moderator (Manage Messages or Manage Server)."""
        return interaction.user.id == quiz_round.started_by or is_moderator(interaction)

    def _refusal(self, interaction: discord.Interaction, round_id: int | None) -> tuple[str | None, Round | None]:
        """(why this member cannot stop the round, or None; the round); `round_id`: a Stop button's
        round, None: the channel's."""
        study = self.bot.state.study
        quiz_round = study.running_round_in(interaction.channel_id) if round_id is None else study.round(round_id)
        if quiz_round is None or quiz_round.status != RUNNING or quiz_round.guild_id != interaction.guild_id:
            return ("No quiz round is running in this channel." if round_id is None
                    else "This round is already over."), None
        if quiz_round.stopped_by is not None:
            return "This round is already stopped: its summary follows.", None
        if not self.may_stop(interaction, quiz_round):
            starter = f"<@{quiz_round.started_by}>, who started it, or " if quiz_round.started_by else ""
            return f"Only {starter}a member with Manage Messages or Manage Server can stop this round.", None
        return None, quiz_round

    def _stop(self, interaction: discord.Interaction, round_id: int | None) -> tuple[str, int | None]:
        """(the reply, the round stopped or None); `round_id`: a Stop button's round, None: the channel's."""
        refusal, quiz_round = self._refusal(interaction, round_id)
        if refusal is not None:
            return refusal, None
        if not self.bot.state.study.stop_round(quiz_round.round_id, interaction.user.id):
            return "This round has just ended.", None
        return "⏹️ Round stopped. The summary, with the scores so far, follows in the channel.", quiz_round.round_id

    async def stop_button(self, interaction: discord.Interaction, round_id: int, step: str) -> None:
        """A question's Stop round asks first, privately, whoever may stop the round; the answer
        replaces the question asked, so its buttons cannot be pressed twice."""
        if interaction.guild_id is None or interaction.channel_id is None:
            await safe_reply(interaction, "That button no longer works.")
            return
        if step == render_study.STOP_ASK:
            refusal, _ = await in_quick_pool(self._refusal, interaction, round_id)
            if refusal is not None:
                await safe_reply(interaction, refusal)
                return
            text, view = render_study.round_stop_confirmation(round_id)
            try:
                await interaction.response.send_message(text, view=dynamic_view(view), ephemeral=True,
                                                        allowed_mentions=render.NO_MENTIONS)
            except discord.HTTPException as exc:  # expired meanwhile: the button can be pressed again
                log.warning("could not ask to confirm a stop: %s", exc)
            return
        if step == render_study.STOP_YES:
            text = await self._stop_now(interaction, round_id)
        else:
            text = "Nothing was stopped."
        try:
            await interaction.response.edit_message(content=text, view=None, allowed_mentions=render.NO_MENTIONS)
        except discord.HTTPException as exc:  # the confirmation is gone (dismissed): say it afresh
            log.info("could not edit a stop confirmation: %s", exc)
            await safe_reply(interaction, text)

    async def stop(self, interaction: discord.Interaction, round_id: int | None) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            await safe_reply(interaction, "Quiz rounds run in server channels: there is none to stop here.")
            return
        await safe_reply(interaction, await self._stop_now(interaction, round_id))

    async def _stop_now(self, interaction: discord.Interaction, round_id: int | None) -> str:
        text, stopped = await in_quick_pool(self._stop, interaction, round_id)
        if stopped is not None:
            wake = self._wakes.get(stopped)
            if wake is not None:
                wake.set()
            elif self.bot.owns_guild(interaction.guild_id):
                self._drive_later(stopped)  # none here to wake: one to close the question and post the summary
        return text


def is_moderator(interaction: discord.Interaction) -> bool:
    """May start any round and stop anyone's: Manage Messages or Manage Server (or Administrator)."""
    perms = interaction.permissions
    return bool(perms.manage_messages or perms.manage_guild or perms.administrator)


async def setup(bot) -> None:
    await bot.add_cog(Rounds(bot))
