"""`/glossary …`: per-server settings, the gaps report and usage stats (Manage Server), and
the server's own aliases and notes (Manage Server or the server's editor role)."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from ...config import DAYS_MAX
from ...glossary.daily import ScheduleError
from ...glossary.gaps import GapQuestion, gaps_report
from ...glossary.terms import STOPWORDS, lookup_key
from ...state import GuildConfig
from ...state.additions import AdditionError
from ...study import zones
from .. import render, render_keepers, render_study
from ..bot import Refused
from ..config_checks import (champion_role_problem, configured_channel_problems, configured_role_problems,
                             daily_channel_problem, daily_problem, study_problem)
from ..ui import (dynamic_view, in_quick_pool, in_search_pool, respond, safe_reply, term_choices, within_time,
                  zone_choices)
from .scores import take_back_role

log = logging.getLogger(__name__)


EDITOR_GROUPS = frozenset({"alias", "note"})  # what the editor role may use besides managers
EDITORS_ONLY = ("Server aliases and notes need the Manage Server permission or this server's editor "
                "role (/glossary config editor-role).")
DEFAULT_DAYS = 30


def _is_manager(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_guild or perms.administrator)


def _group(interaction: discord.Interaction) -> str | None:
    command = interaction.command
    parent = getattr(command, "parent", None)
    return parent.name if parent is not None and parent.name != "glossary" else None


# Hidden from members who lack Manage Server; a server that sets an editor role also lets that
# role see /glossary (Server Settings → Integrations), and the check below keeps it to aliases and notes.
@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class GlossaryGroup(commands.GroupCog, group_name="glossary", group_description="Glossary bot settings and reports"):
    config = app_commands.Group(name="config", description="Show or change this server's glossary settings")
    alias = app_commands.Group(name="alias", description="This server's own names for glossary entries")
    note = app_commands.Group(name="note", description="This server's own notes under glossary entries")

    def __init__(self, bot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if _is_manager(interaction):
            return True
        if _group(interaction) in EDITOR_GROUPS:
            if await in_quick_pool(self._may_edit, interaction):
                return True
            raise Refused(EDITORS_ONLY)
        raise app_commands.MissingPermissions(["manage_guild"])

    def _may_edit(self, interaction: discord.Interaction) -> bool:
        """Whether the user may see and change the server's aliases and notes (reads the state DB)."""
        if _is_manager(interaction):
            return True
        role_id = self.bot.state.config(interaction.guild_id).editor_role_id
        return bool(role_id) and any(role.id == role_id for role in getattr(interaction.user, "roles", []))

    def _settings(self, config: GuildConfig, problems: list[str] | None = None) -> str:
        """The server's settings, warning when study channels lack the intent they need and
        with `problems` (the bot's missing permissions in the channels set)."""
        return render.config_text(config, reads_messages=self.bot.intents.message_content, problems=problems)

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(render.clip(text, render.CONTENT_MAX), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    async def _update(self, interaction: discord.Interaction, done: str, **changes) -> None:
        try:
            # off the loop: a state DB locked by another writer waits out its busy timeout there
            config = await in_quick_pool(functools.partial(self.bot.state.update_config, interaction.guild_id,
                                                           **changes))
        except ScheduleError as exc:
            await self._reply(interaction, f"Not changed: {render.escape_user_text(str(exc), 400)}")
            return
        await self._reply(interaction, f"{done}\n{self._settings(config)}")

    @config.command(name="show", description="Show this server's glossary settings")
    async def show(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        # deleted while the bot was away: nothing can pick them to remove (an unavailable server's
        # channels are not known, so none counts as gone then)
        known = guild is not None and not guild.unavailable
        gone = [c for c in config.study_channels if known and guild.get_channel(c) is None]
        if gone:
            config = await in_quick_pool(self._drop_study_channels, interaction.guild_id, gone)
        problems = configured_channel_problems(guild, config)
        if known:  # an unavailable server's roles are not known either
            problems += configured_role_problems(guild, config)
        dropped = "".join(f"Removed study channel <#{c}>: it no longer exists.\n" for c in gone)
        await self._reply(interaction, dropped + self._settings(config, problems))

    def _drop_study_channels(self, guild_id: int, channel_ids: list[int]) -> GuildConfig:
        current = self.bot.state.config(guild_id).study_channels  # read and write in one call
        return self.bot.state.update_config(guild_id, study_channels=tuple(c for c in current if c not in channel_ids))

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted study channel leaves the settings: no command could name it any more."""
        if self.bot.state is None:
            return
        config = await in_quick_pool(self.bot.state.config, channel.guild.id)
        if channel.id in config.study_channels:
            await in_quick_pool(self._drop_study_channels, channel.guild.id, [channel.id])

    @config.command(name="study-channel", description="Answer questions in a channel or forum (or stop)")
    @app_commands.describe(action="add or remove", channel="A text, announcement or forum channel")
    async def study_channel(self, interaction: discord.Interaction, action: Literal["add", "remove"],
                            channel: discord.TextChannel | discord.ForumChannel) -> None:
        state = self.bot.state

        def change() -> tuple[GuildConfig, bool]:  # read and write in one call: two admins lose no edit
            current = list(state.config(interaction.guild_id).study_channels)
            was = channel.id in current
            if action == "add" and not was:
                current.append(channel.id)
            elif action == "remove" and was:
                current.remove(channel.id)
            return state.update_config(interaction.guild_id, study_channels=tuple(current)), was

        config, was = await in_quick_pool(change)
        if action == "add":
            done = f"{channel.mention} is already a study channel." if was else f"Added {channel.mention}."
        else:
            done = f"Removed {channel.mention}." if was else f"{channel.mention} was not a study channel."
        # saved either way, like the daily channel: the admin may fix the permissions next
        problem = study_problem(channel) if action == "add" else None
        warning = f"\n{problem}" if problem else ""
        await self._reply(interaction, f"{done}{warning}\n{self._settings(config)}")

    @config.command(name="daily-channel", description="Channel for the term of the day")
    @app_commands.describe(channel="A text or announcement channel")
    async def daily_channel(self, interaction: discord.Interaction,
                            channel: discord.TextChannel | discord.ForumChannel) -> None:
        if isinstance(channel, discord.ForumChannel):  # offered, so that the admin is told why not
            await self._reply(interaction, f"Not changed: {channel.mention} is a forum, where every message starts "
                                           "a post of its own. The term of the day needs a text or announcement "
                                           "channel.")
            return
        # An error about posting to the old channel says nothing about the new one.
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        # A channel alone posts nothing: the admin who set one should not wait for a post that never comes.
        still_off = "" if config.daily_enabled else " It is off: `/glossary config daily enabled:True` starts it."
        await self._update_daily(interaction, f"Term of the day goes to {channel.mention}.{still_off}",
                                 daily_problem(channel), daily_channel_id=channel.id, last_error=None)

    async def _update_daily(self, interaction: discord.Interaction, done: str, problem: str | None,
                            **changes) -> None:
        """Change the term-of-the-day settings, an admin's fix: if today's post failed surely
        unsent (Discord refused it), today's term goes out once after all, unless `problem`
        (what the bot lacks in the channel) says it would fail again. The reply says which."""
        state, guild_id, now = self.bot.state, interaction.guild_id, self.bot.now()

        def change():
            config = state.update_config(guild_id, **changes)
            try:
                day = config.schedule.local_day(now)
            except ScheduleError:  # a schedule stored unusable: the daily loop logs it
                return config, None, None, False, False
            failed = state.daily_failure(guild_id, day, config.timezone)
            if not (failed and problem is None and state.retry_daily_post(guild_id, day, config.timezone)):
                return config, day, failed, False, False
            due = config.schedule.is_due(now, *(state.last_claim(guild_id) or (None, None)))
            return state.config(guild_id), day, failed, True, due

        try:
            config, day, failed, retried, due = await in_quick_pool(change)
        except ScheduleError as exc:
            await self._reply(interaction, f"Not changed: {render.escape_user_text(str(exc), 400)}")
            return
        lines = [done, *([problem] if problem else [])]
        if day is not None and failed is not None:
            lines.append(today_text(config, day, failed, retried, due))
        await self._reply(interaction, "\n".join([*lines, self._settings(config)]))

    @config.command(name="daily-time", description="Local time for the term of the day (HH:MM, 24-hour)")
    async def daily_time(self, interaction: discord.Interaction, time: app_commands.Range[str, 1, 20]) -> None:
        await self._update(interaction, "Time updated.", daily_time=time)

    @config.command(name="timezone", description="Time zone for the term of the day and members' days (e.g. Europe/Berlin)")
    async def timezone(self, interaction: discord.Interaction, zone: app_commands.Range[str, 1, 60]) -> None:
        # Only a name that means what an admin would think, as /review timezone takes: "Etc/GMT+2" is
        # UTC-2 (the post came 4 hours late for an admin meaning UTC+2), "localtime" the host's (QA68).
        # A zone stored before this check keeps working.
        name = zones.meant(zone)
        if name is None:
            await self._reply(interaction, "Not changed: " + render_study.zone_unknown(
                zone, zones.near(zone), zones.offset_like(zone)))
            return
        await self._update(interaction, "Time zone updated: the term of the day goes by it, and so do the days (streaks, "
                                        "the day's scored quiz questions) of members who set no zone of their own; their past "
                                        "answers count on its dates too, so the move cuts no streak.",
                           timezone=name)

    @timezone.autocomplete("zone")
    async def zone_autocomplete(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        return await in_quick_pool(zone_choices, current)

    @config.command(name="daily", description="Turn the term of the day on or off")
    async def daily(self, interaction: discord.Interaction, enabled: bool) -> None:
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        if enabled and not config.daily_channel_id:
            await self._reply(interaction, "Set a channel first with /glossary config daily-channel.")
            return
        if not enabled:
            await self._update(interaction, "Term of the day is off.", daily_enabled=False)
            return
        # "on" again after fixing the channel's permissions brings back today's failed post
        problem = daily_channel_problem(interaction.guild, config.daily_channel_id)
        await self._update_daily(interaction, "Term of the day is on.", problem, daily_enabled=True)

    @config.command(name="daily-quiz", description="Post a quiz question under the term of the day (on or off)")
    async def daily_quiz(self, interaction: discord.Interaction, enabled: bool) -> None:
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        # it is posted under the term of the day: on alone, it posts nothing, and the admin would wait for it
        waits = ("" if not enabled or (config.daily_enabled and config.daily_channel_id) else
                 " It is posted under the term of the day, which is off: `/glossary config daily-channel` and "
                 "`/glossary config daily enabled:True` start it.")
        await self._update(interaction, f"Quiz of the day is {'on' if enabled else 'off'}.{waits}", daily_quiz=enabled)

    @config.command(name="quiz-role", description="A role whose members may start quiz rounds (empty: none)")
    async def quiz_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        done = ("Every member may start quiz rounds." if role is not None and role.is_default() else
                f"Members with {role.mention} may start quiz rounds." if role
                else "Only members with Manage Messages or Manage Server may start quiz rounds.")
        await self._update(interaction, done, quiz_role_id=role.id if role else None)

    @config.command(name="champion-role", description="Give a role to last month's top quiz scorer (empty: off)")
    async def champion_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        # a new role (or none) is the admin's answer to the last failure to give the old one
        problem = champion_role_problem(interaction.guild, role) if role is not None else None
        if problem:
            await self._reply(interaction, f"Not changed: {problem}")
            return
        config = await in_quick_pool(self.bot.state.config, interaction.guild_id)
        kept = ""
        if config.champion_role_id and (role is None or role.id != config.champion_role_id):
            kept = await self._take_back_champion_role(interaction.guild, config)
        if role is None:
            await self._update(interaction, f"No champion role.{kept}", champion_role_id=None, champion_error=None,
                               champion_user_id=None)
            return
        done = f"{role.mention} goes to last month's top scorer within a minute, then at the start of each month."
        await self._update(interaction, f"{done}{kept}", champion_role_id=role.id, champion_month=None,
                           champion_error=None)

    async def _take_back_champion_role(self, guild: discord.Guild, config: GuildConfig) -> str:
        """The old champion role taken from the member holding it when the admin switches or clears it (it
        stayed with them for good, a second champion beside the next one); what to say when it can't be."""
        old = guild.get_role(config.champion_role_id) if config.champion_user_id else None
        if old is None:
            return ""
        try:
            changed = "glossary bot: the champion role was changed"
            if not await take_back_role(guild, old, config.champion_user_id, changed):
                return ""  # left the server, and the role with it
        except discord.HTTPException:
            return (f"\n{old.mention} stays with <@{config.champion_user_id}>, last month's champion: I could not "
                    "take it back (Manage Roles, and my role above it); remove it by hand.")
        return f"\n{old.mention} was taken back from <@{config.champion_user_id}>, last month's champion."


    @config.command(name="editor-role", description="A role that may edit server aliases and notes (empty: none)")
    async def editor_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        if role is not None and role.is_default():
            await self._reply(interaction, "Not changed: @everyone would make every member an editor.")
            return
        done = (f"Members with {role.mention} may edit this server's aliases and notes." if role
                else "Only members with Manage Server may edit this server's aliases and notes.")
        await self._update(interaction, done, editor_role_id=role.id if role else None)

    # -- reports for the glossary's keepers --------------------------------------------------------

    @app_commands.command(name="gaps", description="What people asked that the glossary could not answer")
    @app_commands.describe(days="How far back to look (default 30)")
    async def gaps(self, interaction: discord.Interaction,
                   days: app_commands.Range[int, 1, DAYS_MAX] = DEFAULT_DAYS) -> None:
        if await self._days_refused(interaction, days):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # embeds every question: seconds
        since = self.bot.now() - timedelta(days=days)
        logged = await in_quick_pool(self.bot.state.feedback.gap_questions, since, interaction.guild_id)
        questions = [GapQuestion(q.query, q.user_hash) for q in logged]
        gaps = await in_search_pool(gaps_report, questions, self.bot.searcher)
        kept = self.bot.settings.log_retention_days
        await interaction.followup.send(embed=render_keepers.gaps_embed(gaps, days, kept), ephemeral=True,
                                        allowed_mentions=render.NO_MENTIONS)

    @app_commands.command(name="stats", description="Questions asked, answered, hedged and refused; top terms; votes")
    @app_commands.describe(days="How far back to look (default 30)")
    async def stats(self, interaction: discord.Interaction,
                    days: app_commands.Range[int, 1, DAYS_MAX] = DEFAULT_DAYS) -> None:
        if await self._days_refused(interaction, days):
            return
        since = self.bot.now() - timedelta(days=days)
        # (up to DAYS_MAX days of a big server's log: deferred if it takes longer than a reply may wait)
        usage, deferred = await within_time(interaction, in_quick_pool(
            self.bot.state.feedback.usage, since, interaction.guild_id, 5, self.bot.term_now))
        kept = self.bot.settings.log_retention_days
        await respond(interaction, deferred, embed=render_keepers.usage_embed(usage, days, kept), ephemeral=True)

    async def _days_refused(self, interaction: discord.Interaction, days: int) -> bool:
        # Discord's clients keep to the range; a raw API call need not, and discord.py passes it on
        # ("last -5 days", or a timedelta overflow and "Something went wrong": QA68).
        if 1 <= days <= DAYS_MAX:
            return False
        await self._reply(interaction, f"`days` goes from 1 to {DAYS_MAX}.")
        return True

    @app_commands.command(name="changes", description="Recent changes to this server's aliases and notes, and who")
    async def changes(self, interaction: discord.Interaction) -> None:
        changes = await in_quick_pool(self.bot.state.additions.changes, interaction.guild_id)
        await self._reply(interaction, render_keepers.changes_text(changes))

    # -- the server's own aliases and notes --------------------------------------------------------

    def _entry(self, term: str):
        """The entry `term` names (exactly, or by a term or alias match), or None."""
        return self.bot.searcher.named(term)

    def _who(self, interaction: discord.Interaction) -> tuple[str, str]:
        return self.bot.user_hash(interaction.user.id), str(interaction.user)

    def _add_alias(self, interaction: discord.Interaction, alias: str, term: str) -> str:
        entry = self._entry(term)
        if entry is None:
            return f"Not added: the glossary has no entry “{render.escape_user_text(term, 100)}”."
        words = lookup_key(alias).split()
        if words and all(word in STOPWORDS for word in words):
            # (QA76: "the" → LoRA, and "what is the model?" was answered LoRA, publicly)
            return (f"Not added: “{render.escape_user_text(alias, 60)}” is made of everyday words, so any question "
                    "holding them would find that entry. Choose a name people use for it only.")
        taken = self.bot.searcher.lookup(alias)
        if taken and taken.best:
            return (f"Not added: “{render.escape_user_text(alias, 60)}” already names "
                    f"{discord.utils.escape_markdown(taken.best.entry.term)} in the glossary.")
        before = self.bot.state.additions.alias_target(interaction.guild_id, alias)
        try:
            stored = self.bot.state.additions.add_alias(interaction.guild_id, alias, entry.term,
                                                        *self._who(interaction), self.bot.now())
        except AdditionError as exc:
            return f"Not added: {exc}."
        # stored under an earlier name of the same entry, it found this entry already
        replaced = (f" It found **{discord.utils.escape_markdown(before)}** before."
                    if before is not None and self.bot.term_now(before) != entry.term else "")
        return (f"In this server, “{render.escape_user_text(stored, 60)}” now finds "
                f"**{discord.utils.escape_markdown(entry.term)}** (labelled as this server's alias).{replaced}")

    @alias.command(name="add", description="Let a name of this server's find a glossary entry, here only")
    @app_commands.describe(alias="The server's name, e.g. ytdl", term="The glossary entry it stands for")
    async def alias_add(self, interaction: discord.Interaction, alias: app_commands.Range[str, 1, 100],
                        term: app_commands.Range[str, 1, 200]) -> None:
        await self._reply(interaction, await in_quick_pool(self._add_alias, interaction, alias, term))

    @alias_add.autocomplete("term")
    async def alias_term_autocomplete(self, interaction: discord.Interaction, current: str):
        return await term_choices(self.bot.searcher, current)

    @alias.command(name="remove", description="Remove one of this server's aliases")
    async def alias_remove(self, interaction: discord.Interaction, alias: app_commands.Range[str, 1, 100]) -> None:
        removed = await in_quick_pool(self.bot.state.additions.remove_alias, interaction.guild_id, alias,
                                      *self._who(interaction), self.bot.now())
        if removed:  # as the server wrote it, and what it named: "MEMO trick" removes "memo trick"
            written, named = removed
            text = f"Removed “{render.escape_user_text(written, 60)}” (it named {render.escape_user_text(named, 100)})."
        else:
            text = f"This server has no alias “{render.escape_user_text(alias, 60)}”."
        await self._reply(interaction, text)

    @alias_remove.autocomplete("alias")
    async def alias_remove_autocomplete(self, interaction: discord.Interaction,
                                        current: str) -> list[app_commands.Choice[str]]:
        def choices():  # autocomplete skips interaction_check: the same people only
            if interaction.guild_id is None or not self._may_edit(interaction):
                return []
            return render_keepers.alias_choices(self.bot.state.additions.aliases(interaction.guild_id), current,
                                                self.bot.term_now)

        return await in_quick_pool(choices)

    @alias.command(name="list", description="This server's aliases")
    async def alias_list(self, interaction: discord.Interaction) -> None:
        await self._send_list(interaction, "aliases")

    def _list_page(self, guild_id: int, kind: str, page: int) -> tuple[discord.Embed, discord.ui.View]:
        """A page of the server's aliases or notes, each with what its entry is called now: renamed,
        or gone from the glossary."""
        additions = self.bot.state.additions
        if kind == "aliases":
            aliases = additions.aliases(guild_id)
            shadowed = {a: taken for a, term in aliases
                        if (taken := self.bot.glossary_name_for(a)) is not None and taken != self.bot.term_now(term)}
            return render_keepers.aliases_page([(a, term, self.bot.term_now(term)) for a, term in aliases], page,
                                               shadowed)
        notes = additions.notes(guild_id)
        return render_keepers.notes_page([(term, note, self.bot.term_now(term)) for term, note in notes], page)

    async def _send_list(self, interaction: discord.Interaction, kind: str) -> None:
        embed, view = await in_quick_pool(self._list_page, interaction.guild_id, kind, 0)
        await interaction.response.send_message(embed=embed, view=dynamic_view(view), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        """◀ ▶ on a list: that page of the list as it is now, in place (the list may have changed)."""
        parsed = render_keepers.parse_list_custom_id(custom_id)
        if parsed is None or interaction.guild_id is None:
            await safe_reply(interaction, "That button no longer works.")
            return
        # the user's role may have gone since the list was sent (buttons work after a restart too)
        if not await in_quick_pool(self._may_edit, interaction):
            await safe_reply(interaction, EDITORS_ONLY)
            return
        embed, view = await in_quick_pool(self._list_page, interaction.guild_id, *parsed)
        await interaction.response.edit_message(embed=embed, view=dynamic_view(view),
                                                allowed_mentions=render.NO_MENTIONS)

    def _set_note(self, interaction: discord.Interaction, term: str, text: str) -> str:
        entry = self._entry(term)
        if entry is None:
            return f"Not saved: the glossary has no entry “{render.escape_user_text(term, 100)}”."
        # a note kept under the entry's name before a rename is its note still: changed where it is
        stored_as = self.bot.server_note_term(interaction.guild_id, entry) or entry.term
        try:
            self.bot.state.additions.set_note(interaction.guild_id, stored_as, text, *self._who(interaction),
                                              self.bot.now())
        except AdditionError as exc:
            return f"Not saved: {exc}."
        return (f"Saved. In this server **{discord.utils.escape_markdown(entry.term)}** shows the note, "
                "labelled as this server's.")

    @note.command(name="set", description="Show a short note of this server's under a glossary entry, here only")
    @app_commands.describe(term="The glossary entry", text="The note (up to 500 characters, no mentions or links)")
    async def note_set(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200],
                       text: app_commands.Range[str, 1, 1000]) -> None:
        await self._reply(interaction, await in_quick_pool(self._set_note, interaction, term, text))

    note_set.autocomplete("term")(alias_term_autocomplete)

    @note.command(name="remove", description="Remove this server's note from an entry")
    async def note_remove(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        def remove() -> bool:  # the note's own name first: its entry may have been renamed since
            additions, who, now = self.bot.state.additions, self._who(interaction), self.bot.now()
            if additions.remove_note(interaction.guild_id, term, *who, now):
                return True
            entry = self._entry(term)
            stored_as = self.bot.server_note_term(interaction.guild_id, entry) if entry is not None else None
            return stored_as is not None and additions.remove_note(interaction.guild_id, stored_as, *who, now)

        removed = await in_quick_pool(remove)
        shown = render.escape_user_text(term, 100)
        text = f"Removed the note on “{shown}”." if removed else f"No note on “{shown}”."
        await self._reply(interaction, text)

    @note_remove.autocomplete("term")
    async def note_remove_autocomplete(self, interaction: discord.Interaction,
                                       current: str) -> list[app_commands.Choice[str]]:
        def choices():  # the server's notes, not every entry: only those can be removed
            if interaction.guild_id is None or not self._may_edit(interaction):
                return []
            return render_keepers.note_choices(self.bot.state.additions.notes(interaction.guild_id), current,
                                               self.bot.term_now)

        return await in_quick_pool(choices)

    @note.command(name="list", description="This server's notes")
    async def note_list(self, interaction: discord.Interaction) -> None:
        await self._send_list(interaction, "notes")


def today_text(config: GuildConfig, day, surely_unsent: bool, retried: bool, due: bool = True) -> str:
    """What becomes of today's failed term of the day after an admin's change (`retried`: it
    goes out after all, `due`: its time has come)."""
    if retried:
        when = ("once the term of the day is on (`/glossary config daily enabled:True`)" if not config.daily_enabled
                else "within a minute" if due else f"at {config.daily_time} ({config.timezone})")
        return f"Today's term of the day ({day.isoformat()}) did not go out earlier: it is posted {when}."
    if surely_unsent:
        return (f"Today's term of the day ({day.isoformat()}) did not go out: once I can post in the channel, "
                "`/glossary config daily enabled:True` sends it.")
    return (f"Today's term of the day ({day.isoformat()}) may have appeared before the bot stopped, or "
            "before Discord failed while taking it, so it is not sent again unless I find it missing from the "
            f"channel; the next one comes tomorrow at {config.daily_time} ({config.timezone}).")


async def setup(bot) -> None:
    await bot.add_cog(GlossaryGroup(bot))
