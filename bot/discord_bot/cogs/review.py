"""/review: spaced review of the terms a user chose, privately, scheduled by FSRS.

`/review add` or the "📚 Add to my review" button under a definition puts a term in the
user's deck (one deck per user, the same in every server). `/review start` shows the most
overdue card: term first, "Show definition", then Again / Hard / Good / Easy. Each button
names its card and how many reviews it had, so a click after a restart still works and a
second click on an old message changes nothing. A card whose term the glossary renamed (the
old name kept as an alias) follows its entry; one whose term left the glossary is set aside,
neither shown nor counted (here, in /review stats or a reminder) until the user removes it or
a rebuild brings the term back, and /review stats names it. Opted-in users get a DM when
cards are due: at most one in 24 hours, and none within an hour of their last rating or
added card, so a card rated Again (due a minute later) brings none mid-review. No model
call anywhere: cards are found by their exact term, or by the alias an old name became.
"""

from __future__ import annotations

import io
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from ...glossary.daily import parse_zone
from ...study import anki, zones
from ...study.deck import card_named
from .. import render, render_study
from ..ui import dynamic_view, in_quick_pool, log_failure, respond, run_timed, safe_reply, term_choices, zone_choices

log = logging.getLogger(__name__)
#: Discord's "Cannot send messages to this user": DMs closed to the bot, or the bot blocked. It
#: lasts until the user changes it, so the reminders stop; any other failure may pass, and they go
#: on. 50007 is the classic code (403); Discord added 50278 with the same meaning in 2026.
DMS_CLOSED = 50007
DMS_CLOSED_CODES = frozenset({DMS_CLOSED, 50278})
#: Discord's "Unknown User" (404): the account was deleted; and "Invalid Recipient(s)" (400), what
#: opening a DM with a deleted account answers. Reminders to it would fail daily for ever too;
#: nobody is left to tell. A 404 or 400 without them (a route or proxy error) may pass: reminders go on.
UNKNOWN_USER = 10013
ACCOUNT_GONE_CODES = frozenset({UNKNOWN_USER, 50033})


def _guild(interaction: discord.Interaction) -> int:
    return interaction.guild_id or 0


class Review(commands.Cog):
    group = app_commands.Group(name="review", description="Spaced review of the terms you chose")

    def __init__(self, bot) -> None:
        self.bot = bot
        self.reminders = tasks.loop(seconds=bot.daily_interval)(self._remind_tick)
        self.reminders.before_loop(self.bot.wait_until_ready)

    async def cog_load(self) -> None:
        self.reminders.start()

    async def cog_unload(self) -> None:
        self.reminders.cancel()

    # -- work done in a thread ---------------------------------------------------------------

    def _next_card(self, user_id: int, rated=None):
        """The next due card as (embed, view), or the "all done" message. The deck is settled first
        (bot.review_deck): a card whose term was renamed follows its entry; one whose term left the
        glossary is set aside, not deleted (a rebuild may bring it back), and "all done" says so."""
        now = self.bot.now()
        stats, stranded = self.bot.review_deck(user_id, now)
        card = self.bot.state.study.next_due(user_id, now, frozenset(stranded))
        if card is None:
            return render_study.all_done(stats, now, rated, stranded), discord.ui.View(timeout=None)
        return render_study.card_front(card, stats.due_now)

    def _start(self, user_id: int):
        """/review start: (the line saying reminders were turned off, if it is owed), the next card."""
        return self._refusal(user_id), *self._next_card(user_id)

    def _refusal(self, user_id: int) -> str | None:
        """The line a user is owed, once, after a refused DM turned their reminders off (send_reminders)."""
        return render_study.REMINDERS_REFUSED if self.bot.state.study.take_refusal(user_id) else None

    def _add(self, user_id: int, term: str, guild_id: int | None = None) -> str:
        notice = self._refusal(user_id)
        text = self._add_term(user_id, term, guild_id)
        return text if notice is None else f"{notice}\n\n{text}"

    def _add_term(self, user_id: int, term: str, guild_id: int | None = None) -> str:
        # the server's own alias first, as /define reads it; a term as long as a 📚 button's id
        # allows may have been cut short to fit
        entry, near = self.bot.server_alias_entry(guild_id, term), []
        if entry is None:
            cut = len(render.REVIEW_ADD_PREFIX + term) >= render.CUSTOM_ID_MAX
            entry, near = self.bot.searcher.confident_entry(term, cut=cut)
        if entry is None:
            text = f"The glossary has no entry “{render.escape_user_text(term, 100)}”."
            if near:
                text += " Did you mean: " + ", ".join(discord.utils.escape_markdown(render.clip(e.term, 80))
                                                      for e in near) + "?"
            return text
        name = discord.utils.escape_markdown(render.clip(entry.term, 100))
        # the deck brought up to the glossary first: a card kept under the entry's old name is this card,
        # not a reason to start a second one and set the learner's history aside
        self.bot.state.study.settle_deck(user_id, self.bot.term_now)
        if not self.bot.state.study.add_card(user_id, entry.term, self.bot.now()):
            return f"**{name}** is already in your review deck."
        return f"Added **{name}** to your review deck. `/review start` shows your cards when they are due."

    def _show(self, user_id: int, card_id: int, reviews: int):
        """The card's back as (embed, view); None when the card is not the user's or was rated since;
        the card's term, a str, when the glossary no longer has it (rebuilt since the front was shown)."""
        card = self.bot.state.study.card(card_id)
        if card is None or card.user_id != user_id or card.reviews != reviews:
            return None
        entry = self.bot.searcher.entry_now_named(card.term)  # renamed since the front was shown: its entry
        if entry is None:
            return card.term
        return render_study.card_back(card, entry, self.bot.now())

    def _stale_text(self, user_id: int, card_id: int) -> str:
        """Why a card's button did nothing, as the one who pressed it can tell: one reply for all three
        read "already rated, or not yours" to a learner who had only clicked twice."""
        card = self.bot.state.study.card(card_id)
        if card is None:
            return "That card is no longer in your deck. `/review start` shows your next card."
        if card.user_id != user_id:
            return "That card is in someone else's deck. `/review start` shows your own."
        return "You rated that card already. `/review start` shows your next card."

    def _rate(self, user_id: int, guild_id: int, card_id: int, reviews: int, rating: str):
        rated = self.bot.state.study.rate(card_id, user_id, reviews, rating, self.bot.now(), guild_id)
        return None if rated is None else self._next_card(user_id, rated)

    # -- commands -----------------------------------------------------------------------------

    @group.command(name="start", description="Review the cards that are due, privately")
    async def start(self, interaction: discord.Interaction) -> None:
        notice, embed, view = await in_quick_pool(self._start, interaction.user.id)
        await interaction.response.send_message(notice, embed=embed, view=dynamic_view(view), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    @group.command(name="add", description="Add a glossary term to your review deck")
    @app_commands.describe(term="The term to learn")
    async def add(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        await self._reply_add(interaction, term)

    async def _reply_add(self, interaction: discord.Interaction, term: str) -> None:
        # a name not known exactly is searched: that may wait behind other searches, so it is timed
        text, deferred = await run_timed(interaction, self._add, interaction.user.id, term, interaction.guild_id)
        await respond(interaction, deferred, ephemeral=True, content=text)

    @add.autocomplete("term")
    async def add_autocomplete(self, interaction: discord.Interaction,
                               current: str) -> list[app_commands.Choice[str]]:
        return await term_choices(self.bot.searcher, current)

    @group.command(name="remove", description="Take a term out of your review deck")
    async def remove(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        notice, removed = await in_quick_pool(
            lambda user: (self._refusal(user), self._remove(user, term)), interaction.user.id)
        text = (f"Removed **{render.escape_user_text(removed, 100)}** from your deck." if removed
                else f"“{render.escape_user_text(term, 100)}” is not in your deck.")
        await safe_reply(interaction, text if notice is None else f"{notice}\n\n{text}")

    def _remove(self, user_id: int, term: str) -> str | None:
        """The card's term taken out of the deck: the card's own name, matched as a lookup matches an
        entry's (so a card set aside, with no entry, is as easy to name), or an entry the text names
        (an alias: "kv-cache"); None when no card matches. /review add forgives as much."""
        study = self.bot.state.study
        study.settle_deck(user_id, self.bot.term_now)  # a renamed entry's card under its new name
        deck = study.deck_terms(user_id)
        card = card_named(deck, term)
        if card is None:
            entry = self.bot.searcher.named(term)  # no model call
            card = card_named(deck, entry.term) if entry is not None else None
        return card if card is not None and study.remove_card(user_id, card) else None

    @remove.autocomplete("term")
    async def remove_autocomplete(self, interaction: discord.Interaction,
                                  current: str) -> list[app_commands.Choice[str]]:
        terms = await in_quick_pool(self.bot.state.study.deck_terms, interaction.user.id)
        needle = (current or "").casefold()
        return [app_commands.Choice(name=render.clip(t, render.CHOICE_NAME_MAX), value=render.clip(t, 100))
                for t in terms if needle in t.casefold()][: render.CHOICES_MAX]

    @group.command(name="stats", description="Your review deck: due today, learned, how much you recall")
    async def stats(self, interaction: discord.Interaction) -> None:
        notice, (deck, stranded) = await in_quick_pool(
            lambda user: (self._refusal(user), self.bot.review_deck(user, self.bot.now(), interaction.guild_id or 0)),
            interaction.user.id)
        await interaction.response.send_message(notice, embed=render_study.deck_embed(deck, stranded), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    @group.command(name="remind", description="A DM once a day when you have cards due (on or off)")
    async def remind(self, interaction: discord.Interaction, setting: Literal["on", "off"]) -> None:
        study = self.bot.state.study
        refused, zone = await in_quick_pool(
            lambda user: (study.set_reminder(user, setting == "on"), study.own_zone(user)), interaction.user.id)
        if setting == "on":
            text = ("I'll send you a DM at most once a day when cards are due, not while you are reviewing "
                    "(nor in the hour after). If none arrives, allow direct messages from this server's "
                    "members (Privacy Settings). `/review remind off` stops them.")
            if zone is None:
                text += " Set `/review timezone` so that none comes at night."
            if refused:
                text += (" The last one could not reach you: if your DMs are still closed to me, the next "
                         "one fails too and reminders turn off again.")
        else:
            text = "No more review reminders."
        await safe_reply(interaction, text)

    @group.command(name="export", description="Your review deck as a file Anki imports")
    async def export(self, interaction: discord.Interaction) -> None:
        notice, (entries, stranded) = await in_quick_pool(
            lambda user: (self._refusal(user), self._deck_entries(user)), interaction.user.id)
        if not entries:
            text = render_study.export_empty(len(stranded))
            await safe_reply(interaction, text if notice is None else f"{notice}\n\n{text}")
            return
        text = render_study.exported(len(entries), len(stranded))
        deck = discord.File(io.BytesIO(anki.anki_notes(entries).encode("utf-8")), filename=anki.FILENAME)
        await interaction.response.send_message(text if notice is None else f"{notice}\n\n{text}", file=deck,
                                                ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    def _deck_entries(self, user_id: int):
        """The entries of the user's cards, in the deck's order (renamed terms followed), and the
        terms of cards set aside (no entry to export)."""
        study = self.bot.state.study
        stranded = study.settle_deck(user_id, self.bot.term_now)
        return anki.exportable(study.deck_terms(user_id), stranded, self.bot.searcher.entry_now_named), stranded

    @group.command(name="timezone", description="Your time zone: your days, and when reminders may come")
    @app_commands.describe(zone="A city's zone, e.g. Europe/Berlin (start typing a city); “server” drops yours")
    async def timezone(self, interaction: discord.Interaction,
                       zone: app_commands.Range[str, 1, 60] | None = None) -> None:
        text = await in_quick_pool(self._zone, interaction.user.id, interaction.guild_id or 0, zone)
        await safe_reply(interaction, text)

    @timezone.autocomplete("zone")
    async def zone_autocomplete(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        return await in_quick_pool(zone_choices, current)  # the first lists the tz database (~20 ms)

    def _zone(self, user_id: int, guild_id: int, typed: str | None) -> str:
        study, now = self.bot.state.study, self.bot.now()
        if typed is None or not typed.strip():
            name, zone = study.day_zone(user_id, guild_id)
            return render_study.zone_shown(study.own_zone(user_id), name, zone, now, guild_id != 0)
        if typed.strip().lower() in render_study.ZONE_CLEAR_WORDS:
            had = study.own_zone(user_id) is not None
            study.set_zone(user_id, None)
            return render_study.zone_dropped(study.day_zone(user_id, guild_id)[0], guild_id != 0, had)
        name = zones.meant(typed)  # only names a learner would pick: "Etc/GMT+2" is UTC-2, "localtime" the host's
        if name is None:
            return render_study.zone_unknown(typed, zones.near(typed), zones.offset_like(typed))
        study.set_zone(user_id, name)
        return render_study.zone_set(name, parse_zone(name), now, zones.fixed(name))

    # -- buttons -----------------------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        parsed = render_study.parse_review_id(custom_id)
        if parsed is None:
            await safe_reply(interaction, "That button no longer works.")
            return
        action, args = parsed
        user = interaction.user.id
        if action == "add":
            await self._reply_add(interaction, args[0])
            return
        if action == "show":
            shown = await in_quick_pool(self._show, user, int(args[0]), int(args[1]))
        else:
            shown = await in_quick_pool(self._rate, user, _guild(interaction), int(args[0]), int(args[1]), args[2])
        if shown is None:
            await safe_reply(interaction, await in_quick_pool(self._stale_text, user, int(args[0])))
            return
        if isinstance(shown, str):
            await safe_reply(interaction, render_study.term_left_glossary(shown))
            return
        embed, view = shown
        await interaction.response.edit_message(embed=embed, view=dynamic_view(view),
                                                allowed_mentions=render.NO_MENTIONS)

    # -- daily reminders ---------------------------------------------------------------------------

    async def _remind_tick(self) -> None:
        try:
            await self.send_reminders()
        except Exception as exc:  # never let the loop die; an unavailable state database in one line
            log_failure("review reminders failed", exc)

    async def send_reminders(self) -> int:
        """DM every user whose reminder is due (StudyRecords.claim_reminders); returns how many were sent.
        Each is marked sent before sending, so a crash or a second process never sends two, and one
        DM that fails is not tried again for a day; it never stops the DMs after it. A DM Discord
        refuses because the user's DMs are closed (DMS_CLOSED) turns their reminders off: tried
        daily, it would fail daily for ever, each failure counting towards Discord's limit on
        invalid requests. Their next /review command tells them (`_refusal`). So does one to an
        account Discord says is gone (UNKNOWN_USER), without the telling."""
        if self.bot.state is None:
            return 0
        sent = 0
        # counted as /review start serves them: renamed terms followed, those gone from the glossary left out
        claimed = await in_quick_pool(self.bot.state.study.claim_reminders, self.bot.now(), self.bot.term_now)
        for user_id, due in claimed:
            try:
                sent += await self._remind(user_id, due)
            except discord.HTTPException as exc:
                log.warning("review reminder to %s failed: %s", user_id, exc)
            except Exception:  # a dropped connection, a timeout: the users after this one are claimed too
                log.warning("review reminder to %s failed", user_id, exc_info=True)
        return sent

    async def _remind(self, user_id: int, due: int) -> bool:
        """Send one reminder; False when the user's DMs are closed or the account is gone (their
        reminders are then off)."""
        # A server, not "here": a review in a DM counts toward no server's daily streak.
        text = (f"📚 You have {due} glossary card{'s' if due != 1 else ''} due for review. Type `/review start` "
                "in a server with the bot, where it counts toward your daily streak. "
                "(`/review remind off` stops these.)")
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, allowed_mentions=render.NO_MENTIONS)
            return True
        except discord.HTTPException as exc:  # the code says what lasts, whichever status carries it
            if exc.code in ACCOUNT_GONE_CODES:
                # Off as the user's own "/review remind off" would turn them: no refusal kept to
                # tell anyone, and their deck stays (a 404 is no /forget-me).
                await in_quick_pool(self.bot.state.study.set_reminder, user_id, False)
                log.info("review reminders to %s turned off: Discord says the account is gone (%s)", user_id,
                         exc.code)
                return False
            if exc.code not in DMS_CLOSED_CODES:
                raise
            await in_quick_pool(self.bot.state.study.reminder_refused, user_id, self.bot.now())
            log.info("review reminders to %s turned off: Discord refused the DM (%s)", user_id, exc.code)
            return False


async def setup(bot) -> None:
    await bot.add_cog(Review(bot))
