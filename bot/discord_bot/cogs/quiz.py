"""/quiz: one multiple-choice question for the caller, answered with a button; `/quiz round:N`
starts a round in the channel (cogs/rounds.py).

The question is private (ephemeral) and lives in its buttons (render_quiz), so an answer
clicked after a restart still counts; no model call is made anywhere here. Right answers
score on the server's leaderboard: once per question, and for the first
SOLO_SCORED_PER_DAY private questions a day (more are practice). In a DM every question is
practice: /stats and /leaderboard show a server's points, and a DM belongs to no server.
The daily question under the term of the day is answered privately by anyone, once each.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import OrderedDict, deque
from datetime import date

import discord
from discord import app_commands
from discord.ext import commands

from ...glossary.daily import ScheduleError
from ...study import scoring
from .. import render, render_quiz
from ..ui import dynamic_view, in_quick_pool, safe_reply
from .rounds import DEFAULT_SECONDS

ROUND_MIN, ROUND_MAX = 1, 20  # questions in a round
SECONDS_MIN, SECONDS_MAX = 10, 300  # per question
IN_A_DM = "Practice: answers in a DM count on no server's board"
RECENT = 100  # a person's terms not asked again so soon (of about 580 askable)
RECENT_USERS = 10_000


class Quiz(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self._recent: OrderedDict[int, deque[int]] = OrderedDict()  # user → terms asked lately, in memory
        self._recent_lock = threading.Lock()
        self.codec = render_quiz.QuizCodec(render_quiz.secret_for(bot.state_key),
                                           legacy=render_quiz.token_secret_for(bot.settings.discord_token))

    # -- work done in a thread -----------------------------------------------------------

    def _new_question(self, day: date | None = None, user_id: int | None = None):
        """A question; for a user, not about a term they were asked lately (drawn at random, 20 in a
        row repeated one in a quarter of sessions)."""
        quiz = self.bot.quiz_maker()
        with self._recent_lock:  # this runs in the quick pool's threads
            recent = () if user_id is None else tuple(self._recent.get(user_id, ()))
            question = quiz.question(random.Random(), avoid=recent)
            if user_id is not None:
                self._recent.setdefault(user_id, deque(maxlen=RECENT)).append(question.answer)
                self._recent.move_to_end(user_id)
                while len(self._recent) > RECENT_USERS:  # the people quizzing lately
                    self._recent.popitem(last=False)
        return (render_quiz.question_embed(question, quiz),
                render_quiz.question_view(question, quiz, self.codec, day))

    def _score(self, guild_id: int, user_id: int, question, right: bool, day: date | None) -> tuple[str, bool]:
        """Record the answer; what it scored, as the result's footer, and whether it was the user's
        first answer to this question (a later pick is no verdict)."""
        study, now = self.bot.state.study, self.bot.now()
        if day is not None and abs((self._local_date(guild_id, now) - day).days) > 1:
            return "An old question of the day: practice only", True
        # A DM's answer is kept too, as server 0's, so that a question is answered once there as
        # well; it scores nothing, since no board shows server 0.
        scored = guild_id != 0 and (
            day is not None or study.may_score_solo(guild_id, user_id, now))
        points = scoring.SOLO_POINTS if right and scored else 0
        if not study.record_answer(guild_id, user_id, _ref(question, day), right, points, now):
            return "Your first answer counts: no points this time", False
        return self._footer(guild_id, user_id, right, points), True

    def _local_date(self, guild_id: int, now) -> date:
        """Today in the server's zone, where its question of the day was posted: it scores that day and
        the next (UTC's date, against a local one, closed it 22 hours after an evening post west of UTC)."""
        if guild_id == 0:
            return now.date()
        try:
            return self.bot.state.config(guild_id).schedule.local_day(now)
        except ScheduleError:  # a schedule stored unusable: the daily loop logs it
            return now.date()

    def _footer(self, guild_id: int, user_id: int, right: bool, points: int) -> str:
        """An answer's score as its verdict's footer, from what is stored of it (so a verdict shown
        again reads the same)."""
        if guild_id == 0:
            return IN_A_DM
        streak = self.bot.state.study.stats(guild_id, user_id, self.bot.now()).current_streak
        if points:
            text = f"+{points} points"
        else:  # right yet no points: a private question past the day's scored ones
            text = "Practice: today's scored questions are used up" if right else "No points"
        return f"{text} · streak {streak} day{'s' if streak != 1 else ''}"

    def _first_verdict(self, guild_id: int, user_id: int, question, pick: int) -> tuple[int | None, str, bool]:
        """A private question clicked again: a double click (both clicks in before the message
        changed) or a click after the first one's reply was lost. Its first verdict again, as
        (pick, footer, first), not "Already answered" over a verdict the user may never have seen.
        Which wrong option came first is not stored: a pick unlike the first shows none (None)."""
        stored = self.bot.state.study.answer_to(guild_id, user_id, _ref(question, None))
        if stored is None:  # forgotten (/forget-me) since
            return pick, "Your first answer counts: no points this time", False
        right, points = stored
        if right != (pick == question.correct):
            pick = question.correct if right else None
        return pick, self._footer(guild_id, user_id, right, points), True

    def _parsed(self, custom_id: str, quiz):
        """(the question as the index has it now, as it was posted, the option picked) of a button, or
        None. Its ids are the index's of its day: a build since that moved them (an entry added near
        the top) is read through the ids of the builds before, each with the id its entry has now, and
        the question judged on the entries it showed (QA71: the day's quiz answered "no longer in the
        glossary" for the rest of the day)."""
        # the builds before are read only for a question the index now numbers otherwise
        index, build = quiz.index, render_quiz.build_of(custom_id)
        readings = itertools.chain((_NumberedNow(index.entries),), _read_later(index.earlier_ids))
        if build is not None and build != index.build_stamp and build not in index.numbered_alike:
            # made in another build: that build's ids first (two entries that swapped names moved no
            # id and changed no terms hash, so the ids now would read as the other entry; review 54b)
            readings = itertools.chain(_read_later(lambda: index.earlier_ids(build)), readings)
        for ids_then in readings:
            parsed = self.codec.parse(custom_id, lambda ids, t=ids_then: [t[i][0] for i in ids] if all(
                i in t for i in ids) else None)
            if parsed is None:
                continue
            posted, pick = parsed
            # (an id without the names hash, from an older release, is not checked against the terms)
            moved = {i: ids_then[i][1] if i in ids_then else None for i in posted.options}
            if None in moved.values():
                return None  # an entry it showed left the glossary
            question = type(posted)(posted.kind, moved[posted.answer], tuple(moved[o] for o in posted.options))
            return (question, posted, pick) if quiz.is_valid(question) else None
        return None

    def _result(self, custom_id: str, guild_id: int, user_id: int):
        quiz = self.bot.quiz_maker()
        parsed = self._parsed(custom_id, quiz)
        if parsed is None:
            return None
        question, posted, pick = parsed
        day = render_quiz.daily_day(custom_id)
        # scored under its ids as posted: a click before a rebuild and one after are one question
        score, first = self._score(guild_id, user_id, posted, pick == question.correct, day)
        # A public question answers each click in a message of its own: there, "Already answered"
        # replaces no verdict.
        if not first and day is None:
            pick, score, first = self._first_verdict(guild_id, user_id, posted, pick)
        answer = self.bot.answer_entry(quiz.index.entries[question.answer])
        embed = render_quiz.result_embed(question, pick, quiz.index.entries, score, first=first)
        return embed, render_quiz.result_view(answer.entry, answer.related or [])

    # -- Discord ---------------------------------------------------------------------------

    @app_commands.command(name="quiz", description="A multiple-choice question on a glossary term, just for you")
    @app_commands.describe(round="Start a round in this channel with this many questions, open to everyone",
                           seconds="A round's time per question (default 30)")
    async def quiz(self, interaction: discord.Interaction,
                   round: app_commands.Range[int, ROUND_MIN, ROUND_MAX] | None = None,
                   seconds: app_commands.Range[int, SECONDS_MIN, SECONDS_MAX] = DEFAULT_SECONDS) -> None:
        if round is not None:
            # Discord's clients keep to the ranges; a raw API call need not, and discord.py passes it on.
            if not (ROUND_MIN <= round <= ROUND_MAX and SECONDS_MIN <= seconds <= SECONDS_MAX):
                await safe_reply(interaction, f"A round has {ROUND_MIN} to {ROUND_MAX} questions, each open "
                                              f"{SECONDS_MIN} to {SECONDS_MAX} seconds.")
                return
            rounds = self.bot.get_cog("Rounds")
            await rounds.start(interaction, round, seconds)
            return
        embed, view = await in_quick_pool(self._new_question, None, interaction.user.id)
        await interaction.response.send_message(embed=embed, view=dynamic_view(view), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    def daily_question(self, day: date):
        """(embed, view) of a question to post under the term of the day of `day`."""
        embed, view = self._new_question(day)
        embed.title = render.clip(f"Quiz of the day · {embed.title}", render.TITLE_MAX)
        embed.set_footer(text="Anyone may answer, once · the result is shown only to you")
        return embed, view

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        if custom_id == render_quiz.NEXT_ID:
            embed, view = await in_quick_pool(self._new_question, None, interaction.user.id)
            await interaction.response.send_message(embed=embed, view=dynamic_view(view), ephemeral=True,
                                                    allowed_mentions=render.NO_MENTIONS)
            return
        shown = await in_quick_pool(self._result, custom_id, interaction.guild_id or 0, interaction.user.id)
        if shown is None:
            await safe_reply(interaction, "That question is no longer in the glossary. Try /quiz for a new one.")
            return
        embed, view = shown
        if render_quiz.daily_day(custom_id):  # a public post: the result is the clicker's alone
            await interaction.response.send_message(embed=embed, view=dynamic_view(view), ephemeral=True,
                                                    allowed_mentions=render.NO_MENTIONS)
            return
        await interaction.response.edit_message(embed=embed, view=dynamic_view(view),
                                                allowed_mentions=render.NO_MENTIONS)


class _NumberedNow:
    """The index's own ids read as one of `earlier_ids`' maps (id → (term, its id now)), without
    building that map for every entry at every click."""

    def __init__(self, entries) -> None:
        self.entries = entries

    def __contains__(self, entry_id: int) -> bool:
        return entry_id in self.entries

    def __getitem__(self, entry_id: int) -> tuple[str, int]:
        return self.entries[entry_id].term, entry_id


def _read_later(read):
    """What `read()` returns, read only when a loop gets that far."""
    yield from read()


def _ref(question, day: date | None) -> str:
    """Names an answered question in the state: a private one, or the question of the day of `day`."""
    return (f"daily:{day:%Y%m%d}:" if day else "solo:") + render_quiz.question_ref(question)


async def setup(bot) -> None:
    await bot.add_cog(Quiz(bot))
