"""`GlossaryBot`: the discord.py client that serves the glossary.

Startup (`setup_hook`): open the index (the launcher normally has) and the
state database off the event loop, load one extension per feature area,
register the persistent button handler, wait for the model, which has been
loading on a thread since the process started, and start syncing the slash
commands — to one server instantly when DISCORD_GUILD_ID is set, globally
otherwise — while the bot connects.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from ..glossary.daily import daily_entries
from ..glossary.errors import IndexError_
from ..glossary.index import stored_fingerprint, stored_model
from ..glossary.index_file import check_index
from ..glossary.normalize import MAX_QUERY_CHARS, framed_subject, plain_text, small_talk
from ..glossary.quiz import QuizMaker
from ..glossary.search import ANSWER, NOT_FOUND, Hit, Related, SearchResult, Searcher
from ..glossary.service import Glossary
from ..glossary.store import StoredEntry
from ..state import StateStore, StateUnavailable
from ..state.feedback import checked_key, user_hasher
from ..state.study import DeckStats
from .asked import ForgetRequests
from .metrics import Metrics, start_server
from .ui import PERSISTENT_ITEMS, answering, failure_text, log_failure, safe_reply

log = logging.getLogger(__name__)
EXTENSIONS = ("lookup", "study", "admin", "daily", "quiz", "rounds", "review", "scores", "privacy", "feedback")
COMMAND_NAMES = ("define", "ask", "related", "random", "today", "glossary", "quiz", "quiz-stop", "review", "stats",
                 "leaderboard", "forget-me")


@dataclass
class Answer:
    """What a search produced, ready to render (computed off the event loop)."""

    result: SearchResult
    entry: StoredEntry | None = None
    related: list[Related] | None = None
    others: list[StoredEntry] | None = None  # other close matches, shown beside a searched answer
    note: str | None = None  # the server's own note on the entry
    question_id: int | None = None  # the logged question, for 👍/👎

    @property
    def sense(self) -> str:
        """Which sense of the name typed the entry is, when the name has another (senses.py)."""
        return self.result.note if self._about_best and not self.result.lacking else ""

    @property
    def lacking(self) -> str:
        """That the glossary has no entry for other names the message asks about ("rope vs alibi")."""
        return self.result.note if self._about_best and self.result.lacking else ""

    @property
    def _about_best(self) -> bool:
        best = self.result.best
        return best is not None and best.entry == self.entry


def _no_hash_key_yet(user_id: int) -> str:
    raise RuntimeError("user ids are hashed with the state database's key, read in setup_hook")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Refused(app_commands.CheckFailure):
    """A check that failed with its own explanation for the user."""


class GlossaryTree(app_commands.CommandTree):
    """Any failure in a command ends as a short ephemeral message plus a log line."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        answering(interaction)  # (run first in the command's task: its state calls are bounded by it)
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(error, Refused):
            await safe_reply(interaction, str(error))
            return
        if isinstance(error, app_commands.MissingPermissions):
            await safe_reply(interaction, "You need the Manage Server permission for that.")
            return
        if isinstance(error, app_commands.NoPrivateMessage):
            await safe_reply(interaction, "That only works in a server.")
            return
        if isinstance(error, app_commands.CheckFailure):
            await safe_reply(interaction, "You can't use that here.")
            return
        if isinstance(error, app_commands.TransformerError):
            # an option Discord's clients would not send (a channel of another server, in a raw API
            # call): no fault of ours, so no traceback (QA68)
            await safe_reply(interaction, "That option names something I can't use here: pick it from the list.")
            return
        original = getattr(error, "original", error)
        metrics = getattr(interaction.client, "metrics", None)
        if metrics is not None:
            metrics.interactions.labels(command, "error").inc()
        log_failure("command /%s failed (user %s, guild %s, channel %s)", original, command,
                    interaction.user.id if interaction.user else None, interaction.guild_id, interaction.channel_id)
        await safe_reply(interaction, failure_text(original, "Something went wrong. Please try again in a moment."))


IDENTIFY_LOCK = 0x676C6F_10000  # + the identify bucket (shard id % max_concurrency): one key per bucket
IDENTIFY_SPACING = 5.5  # Discord: max_concurrency IDENTIFYs per 5 seconds (and a margin for a busy loop)
IDENTIFY_POLL = 0.25
WITHOUT_STATE_EVERY = 60.0  # seconds between two log lines of one thing answers go without
INDEX_CHECK_SECONDS = 30.0  # how soon a rebuild by another process is served (one small read each time)


class GlossaryBot(commands.AutoShardedBot):
    def __init__(
        self,
        glossary: Glossary,
        *,
        now: Callable[[], datetime] = utc_now,
        daily_interval: float = 60.0,
        round_tick: float = 1.0,
        index_check: float = INDEX_CHECK_SECONDS,
        warm_model: bool = True,
        **options,
    ) -> None:
        settings = glossary.settings
        intents = discord.Intents.default()
        intents.message_content = settings.message_content
        if settings.shard_count is not None:
            options.setdefault("shard_count", settings.shard_count)
        if settings.shard_ids is not None:
            options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=GlossaryTree,
            **options,
        )
        self.glossary = glossary
        self.settings = settings
        self.now = now
        self.daily_interval = daily_interval
        self.round_tick = round_tick  # how often a quiz round checks whether its question's time is up
        self.index_check = index_check  # how often the lookup cog asks reopen_if_rebuilt
        self._warned_of: str | None = None  # reopen_if_rebuilt: the stamp or problem last warned of, once
        self._without: dict[str, tuple[float, int]] = {}  # _without_state: when last logged, answers since
        self.warm_model = warm_model
        self.searcher: Searcher | None = None
        self.state: StateStore | None = None
        self.synced: list[app_commands.AppCommand] = []
        self._sync_task: asyncio.Task | None = None
        self.metrics = Metrics()
        self._max_concurrency: int | None = None
        self._quiz_maker: QuizMaker | None = None
        self._identify_turns: set[asyncio.Task] = set()
        self._metrics_server = None
        self.user_hash: Callable[[int], str] = _no_hash_key_yet  # user ids are stored only as this (setup_hook)
        # The state's secret (hash_key, read in setup_hook): it keys the user hashes and the quiz
        # answers in buttons, and unlike the token a reset leaves it as it was.
        self.state_key: str | None = None
        self.forgotten = ForgetRequests()  # /forget-me's times: see log_question, and the study cog's memory

    # -- startup ------------------------------------------------------------------

    async def setup_hook(self) -> None:
        # The launcher opened the index before connecting (see launcher.prepare); reuse it. A damaged
        # index is a cache of the glossary: it is moved aside and rebuilt rather than stopping the bot.
        self.searcher = self.glossary.searcher or await asyncio.to_thread(self.glossary.open, recover=True)
        self.state = await asyncio.to_thread(StateStore, self.settings.state_target)
        self.state_key = await asyncio.to_thread(checked_key, self.state.feedback, self.state.where,
                                                 self.settings.state_path, self.settings.hash_key)
        self.user_hash = user_hasher(self.state_key)
        for name in EXTENSIONS:
            await self.load_extension(f".cogs.{name}", package=__package__)
        self.add_dynamic_items(*PERSISTENT_ITEMS)
        if self.settings.metrics_port is not None:
            self._metrics_server = await start_server(self, self.settings.metrics_port, self.settings.metrics_host)
        if self.warm_model:
            # Loading since start-up (cli.cmd_run), alongside all of the above. Waiting here, before the
            # commands are synced and the gateway connected, stops a bot whose model cannot load before
            # it shows as online, and without touching its commands on every restart.
            await asyncio.to_thread(self.glossary.model.ready)
        # Beside the gateway connect, not before it: a sync is an HTTP round trip, and a rate-limited
        # one (restarts in a row) would keep the bot offline for its retry_after. Until it is done,
        # Discord serves the commands from the last sync.
        self._sync_task = asyncio.create_task(self.sync_commands(), name="command-sync")
        if self.glossary.built_index:
            gc.collect()  # this start built the index: real garbage, not worth keeping frozen forever
        if not self.is_closed():  # a SIGTERM during start-up closed the bot meanwhile: nothing to keep
            # The index, the model and the modules (~180,000 objects) live as long as the bot: exempt them
            # from the cyclic GC, whose every full collection would otherwise walk them all, stopping the
            # event loop for 30-50 ms on an idle 2-core machine and several times that on a busy one.
            # cli.cmd_run turned the collector off for start-up; the ~1,600 objects of garbage a start
            # without a build leaves are frozen too: less memory than a collection costs time here.
            gc.freeze()
        gc.enable()

    async def sync_commands(self) -> None:
        try:
            if self.settings.guild_id:
                guild = discord.Object(self.settings.guild_id)
                self.tree.copy_global_to(guild=guild)
                self.synced = await self.tree.sync(guild=guild)
            else:
                self.synced = await self.tree.sync()
            log.info("synced %d commands (%s)", len(self.synced),
                     f"guild {self.settings.guild_id}" if self.settings.guild_id else "global")
        except (discord.HTTPException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.error("could not sync slash commands (%s); they may be missing or stale", exc)
        except Exception:  # it runs as a background task: nothing else would report it
            log.exception("could not sync slash commands; they may be missing or stale")

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the bot speaks slash commands, and a message that
        mentions it is a question for the study cog's listener. (commands.Bot's
        default would look up a command named after the question's first word
        and log CommandNotFound for "<@bot> what is LoRA".)"""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """With a shared PostgreSQL state, processes take turns to IDENTIFY: a cluster-wide lock
        per rate-limit bucket, held for Discord's 5 seconds after each IDENTIFY, and the time of
        each IDENTIFY recorded, so a holder's crash does not cut the 5 s short. Alone (SQLite),
        discord.py's own spacing within this process is enough."""
        state = self.state
        if state is None or state.db.dialect != "postgresql":
            await super().before_identify_hook(shard_id, initial=initial)
            return
        if self._max_concurrency is None:
            try:
                self._max_concurrency = max(1, (await self.fetch_session_start_limits()).max_concurrency)
            except (discord.HTTPException, aiohttp.ClientError, asyncio.TimeoutError):
                self._max_concurrency = 1
        bucket = (shard_id or 0) % self._max_concurrency
        try:
            release = await self._identify_turn(state, bucket)
        except Exception as exc:  # noqa: BLE001 - the turn is a courtesy between processes
            # The state database down (or refusing this role its writes) must not keep a shard off
            # Discord: discord.py ends the whole client on an error here (QA75: a re-IDENTIFY during
            # an outage took every shard of the process down for good). Spaced as one process.
            log.warning("identifying shard %s without taking turns with other processes: %s", shard_id,
                        " ".join(str(exc).split())[:300] or type(exc).__name__)
            await super().before_identify_hook(shard_id, initial=initial)
            return

        async def let_go_later() -> None:
            try:
                await asyncio.sleep(IDENTIFY_SPACING)
            finally:
                await asyncio.to_thread(release)

        task = asyncio.create_task(let_go_later(), name=f"identify-turn-{shard_id}")
        self._identify_turns.add(task)
        task.add_done_callback(self._identify_turns.discard)

    async def _identify_turn(self, state, bucket: int):
        """This process's turn to IDENTIFY in `bucket`, the last one's 5 s waited out and this one's
        time recorded: the function that lets the turn go."""
        # polled, not waited for in a thread: discord.py gives up on a slow hook (and cancels
        # it), and a thread still blocked on the lock would take it later and never let go
        while (release := await asyncio.to_thread(state.db.try_lock, IDENTIFY_LOCK + bucket)) is None:
            await asyncio.sleep(IDENTIFY_POLL)
        try:
            # the last holder may have died right after its IDENTIFY (its lock went with it):
            # the time it identified is in the database, so its 5 s are still waited out
            last = await asyncio.to_thread(state.last_identify, bucket)
            if last is not None:
                await asyncio.sleep(min(IDENTIFY_SPACING, max(0.0, last + IDENTIFY_SPACING - time.time())))
            await asyncio.to_thread(state.record_identify, bucket, time.time())
        except BaseException:
            await asyncio.to_thread(release)
            raise
        return release

    def owns_guild(self, guild_id: int) -> bool:
        """Whether the server is on one of this process's shards (and so this process's to serve)."""
        return self.get_guild(guild_id) is not None

    async def on_app_command_completion(self, interaction: discord.Interaction, command) -> None:
        name = command.qualified_name
        self.metrics.interactions.labels(name, interaction.extras.get("outcome", "ok")).inc()
        self.metrics.reply_seconds.labels(name).observe(
            max(0.0, (discord.utils.utcnow() - interaction.created_at).total_seconds()))

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d servers", self.user, self.user.id if self.user else "?",
                 len(self.guilds))

    async def close(self) -> None:
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_task.cancel()  # its HTTP session closes next
        if self._metrics_server is not None:
            await self._metrics_server.cleanup()
            self._metrics_server = None
        for turn in list(self._identify_turns):  # let go of the IDENTIFY lock now (it is released on the way out)
            turn.cancel()
        if self._identify_turns:
            await asyncio.wait(list(self._identify_turns), timeout=5)
        try:
            await super().close()
        finally:
            gc.unfreeze()  # closing: its objects may become garbage, let the collector see them again
            if self.state is not None:
                self.state.close()
                self.state = None

    # -- helpers used by the cogs ----------------------------------------------------

    def reopen_if_rebuilt(self) -> bool:
        """Serve the index anew when another process rebuilt it (`glossary-bot build` after the
        glossary was edited, or any command that found it stale): the running bot otherwise kept
        the entries it started with while reading keyword postings numbered for the new ones, which
        scored neighbouring entries or failed (QA65). Blocking: run it off the event loop. One
        that cannot be served (built for another model, damaged, of another schema) is warned of
        once and the entries loaded are kept."""
        searcher = self.searcher
        if searcher is None:
            return False
        index = searcher.index
        stamp = stored_fingerprint(index.path)
        if stamp is None and index.path.is_file():
            try:  # a build killed mid-write is rolled back (as at start-up); damage is named
                check_index(index.path)
            except IndexError_ as exc:
                problem = " ".join(str(exc).split())
                if "is busy" not in problem and problem != self._warned_of:  # (busy: a build is writing it)
                    self._warned_of = problem
                    log.warning("index %s cannot be read (%s): serving the entries it had, and keyword matches "
                                "only for the words already read", index.path, problem)
                return False
            stamp = stored_fingerprint(index.path)
        if stamp is None or stamp == self._warned_of or (stamp == index.fingerprint and not index.stale):
            return False  # unchanged, being replaced right now (build --force), or already refused
        problem, built_for = None, stored_model(index.path)
        if built_for != index.model_id:
            problem = f"it was built for model {built_for}, this bot runs {index.model_id}"
        else:
            try:
                fresh = self.glossary.open(build_if_needed=False)
            except (IndexError_, OSError, sqlite3.Error) as exc:
                problem = " ".join(str(exc).split())
        if problem is not None:
            self._warned_of = stamp
            log.warning("index %s was rebuilt but cannot be served (%s): serving the entries it had, with "
                        "keyword matches only for the words already read; restart the bot once it is fixed",
                        index.path, problem)
            return False
        self.searcher = fresh
        log.warning("index %s was rebuilt by another process: now serving its %d entries", index.path,
                    len(fresh.index.entries))
        return True

    def daily_terms(self) -> list[str]:
        """The terms a server's term of the day is drawn from: all but stubs (daily.daily_entries)."""
        assert self.searcher is not None
        entries = self.searcher.index.entries
        return [entries[e].term for e in daily_entries(entries)]

    def quiz_maker(self) -> QuizMaker:
        """The quiz for the index being served (made again if the index was rebuilt); shared by
        /quiz, the quiz of the day and rounds, as building it compiles every entry's name mask."""
        searcher = self.searcher  # once: a reload may swap it meanwhile (reopen_if_rebuilt)
        assert searcher is not None
        maker = self._quiz_maker
        if maker is None or maker.index is not searcher.index:
            maker = self._quiz_maker = QuizMaker(searcher.index, searcher.same_things)
        return maker

    def entry_named(self, term: str) -> StoredEntry | None:
        """The entry called exactly `term` (a review card's, a round's), without searching."""
        assert self.searcher is not None
        return self.searcher.index.entry_named(term)

    def term_now(self, term: str) -> str | None:
        """What a review card's term is called now (Searcher.entry_now_named): itself, the name of
        the entry it was renamed to, or None when the glossary no longer has it. No search."""
        assert self.searcher is not None
        entry = self.searcher.entry_now_named(term)
        return None if entry is None else entry.term

    def review_deck(self, user_id: int, now: datetime, guild_id: int = 0) -> tuple[DeckStats, dict[str, str | None]]:
        """A user's deck counted as /review start serves it: renamed terms followed, stranded cards
        (StudyRecords.settle_deck) left out of the counts and returned to be named to the user; "due
        today" in their day (in `guild_id`, the server's, unless they set their own zone)."""
        assert self.state is not None
        study = self.state.study
        stranded = study.settle_deck(user_id, self.term_now)
        return study.deck_stats(user_id, now, frozenset(stranded), guild_id), stranded

    # These search, and may call the model: run them in the search pool (ui.in_search_pool).

    def entry_by_term(self, term: str, *, cut: bool = False) -> StoredEntry | None:
        """The entry a button or a stored name stands for: the entry called `term`, else the one
        entry it is an alias of (one renamed since), else, when `cut` (a name cut short to fit a
        button's id), the one entry whose name starts with it. None when the glossary has none
        any more: a search's guess would show another entry under this name."""
        assert self.searcher is not None
        entry = self.searcher.entry_now_named(term)
        if entry is None and cut:
            entry = self.searcher.index.entry_named(term, cut=True)
        return entry

    def answer(self, query: str) -> Answer:
        """A query's result, with the best entry and its related terms when it is an answer."""
        assert self.searcher is not None
        with self.metrics.search_seconds.time():
            result = self.searcher.search(query)
        self.metrics.answers.labels(result.band).inc()
        if result.band == ANSWER and result.best:
            return self.answer_entry(result.best.entry, result)
        return Answer(result)

    def answer_in(self, query: str, guild_id: int | None) -> Answer:
        """`answer`, after the server's own aliases ("ytdl" → youtube-dl) in that server."""
        for text in dict.fromkeys((query, framed_subject(query) or "")):
            entry = self.server_alias_entry(guild_id, text)
            if entry is not None:
                return self.answer_entry(entry, SearchResult(query, ANSWER, [Hit(entry, "server_alias", 1.0)]))
        return self.answer(query)

    def glossary_name_for(self, text: str) -> str | None:
        """The entry whose own name or alias `text` is in the glossary (as `alias add` refuses it), if any."""
        assert self.searcher is not None
        taken = self.searcher.lookup(text)
        return taken.best.entry.term if taken and taken.best else None

    def server_alias_entry(self, guild_id: int | None, text: str) -> StoredEntry | None:
        """The entry a server's own alias `text` names there, if it is one. The alias stores the entry's
        name when it was made, and follows the entry through a rename as review cards do (term_now)."""
        if not guild_id or not text or self.state is None:
            return None
        try:
            target = self.state.additions.alias_target(guild_id, text)
        except StateUnavailable as exc:
            self._without_state("a server alias", exc)
            return None
        assert self.searcher is not None
        # a name the glossary gave an entry of its own after the alias was made is the glossary's: the
        # alias could not be added now, and it hid that entry in this server (QA71)
        if not target or self.glossary_name_for(text) is not None:
            return None
        return self.searcher.entry_now_named(target)

    def log_question(self, guild_id: int | None, user_id: int, source: str, query: str, answer: Answer,
                     replaces: int | None = None, asked_at: datetime | None = None) -> int | None:
        """Log a question for the gaps report and feedback; its id (for 👍/👎), or None if the
        state database refused (the answer goes out all the same), its asker ran /forget-me
        since `asked_at`, or it was small talk. `replaces`: the question logged for the same message
        before its author edited it."""
        if self.state is None:
            return None
        if asked_at is not None and self.forgotten.cover(user_id, asked_at.timestamp()):
            return None
        result = answer.result
        if result.nothing_near and small_talk(query):
            # "anyone here?", "lunch anyone?", /ask thanks: no gap in the glossary, and no refusal in
            # /glossary stats. A question the glossary lacks, even off its field, names a topic.
            return None
        # "lora vs qlora": the reply sets both out side by side (whatever the band), and a 👍 confirms both
        sides = [h.entry.term for h in result.asked] if result.asked and result.band != NOT_FOUND else None
        try:
            return self.state.feedback.log_question(
                guild_id or 0, self.user_hash(user_id), source, _as_searched(query), result.band,
                answer.entry.term if answer.entry else None, [h.entry.term for h in result.hits[:5]], self.now(),
                result.best.match if answer.entry and result.best else None, replaces, sides)
        except StateUnavailable as exc:
            self._without_state("logging the question", exc)
            return None
        except Exception:  # a full disk or a locked database must not cost the user the answer
            self.metrics.state_errors.inc()
            log.exception("could not log a question")
            return None

    def server_note(self, guild_id: int | None, entry: StoredEntry | None) -> str | None:
        if not guild_id or entry is None or self.state is None:
            return None
        try:
            notes = dict(self.state.additions.notes(guild_id))  # one read: this is on every answer in a server
        except StateUnavailable as exc:
            self._without_state("a server note", exc)
            return None
        term = self._note_term_among(notes, entry)
        return None if term is None else notes[term]

    def _without_state(self, what: str, exc: StateUnavailable) -> None:
        """The glossary is a local file: an answer goes out while the state database is down,
        without the server's own additions: one line a minute for each thing gone without, with
        how many answers went without it meanwhile (a line per answer was three an /ask, QA66)."""
        self.metrics.state_errors.inc()
        now = time.monotonic()
        last, missed = self._without.get(what, (None, 0))
        if last is not None and now - last < WITHOUT_STATE_EVERY:
            self._without[what] = (last, missed + 1)
            return
        self._without[what] = (now, 0)
        more = f" ({missed} more answers without it in the last minute)" if missed else ""
        log.warning("answering without %s: %s%s", what, exc, more)

    def server_note_term(self, guild_id: int, entry: StoredEntry) -> str | None:
        """The name the server's note on `entry` is stored under, if it has one."""
        assert self.state is not None
        return self._note_term_among(self.state.additions.note_terms(guild_id), entry)

    def _note_term_among(self, terms, entry: StoredEntry) -> str | None:
        """Of the names a server's notes are stored under, the one for `entry`: its name, else a name
        it had before the glossary renamed it (term_now, as review cards follow it). The stored name is
        left as it is: a later build that brings the old entry back finds its note."""
        if entry.term in terms:
            return entry.term
        return next((term for term in terms if self.term_now(term) == entry.term), None)

    def answer_entry(self, entry: StoredEntry, result: SearchResult | None = None) -> Answer:
        searcher = self.searcher
        assert searcher is not None
        others = [h.entry for h in result.others] if result is not None else []
        # An entry found in the index served before a reload (reopen_if_rebuilt, mid-search) has
        # another entry's id in this one: no related terms then, rather than that entry's.
        current = searcher.index.entries.get(entry.id) is entry
        related = [r for r in searcher.related(entry.id) if r.entry not in others] if current else []
        return Answer(result or SearchResult(entry.term, ANSWER, []), entry, related, others)

    def answer_term(self, term: str, *, cut: bool = False) -> Answer | None:
        """`term`'s entry and related terms (a button, the term of the day); None if it is gone."""
        entry = self.entry_by_term(term, cut=cut)
        return None if entry is None else self.answer_entry(entry)


def _as_searched(query: str) -> str:
    """A logged question: as typed, or, past what the search reads, what it read (a long message's
    head and its last question; review 55: the log held the context, and no "what is PPO?")."""
    return query if len(query) <= MAX_QUERY_CHARS else plain_text(query)
