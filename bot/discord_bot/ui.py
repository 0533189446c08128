"""Shared Discord plumbing: persistent buttons, timed searches, safe replies.

Blocking work never runs on the event loop: searches go to a small pool of
their own, short calls (state database, autocomplete) to another.

Buttons carry their whole state in the custom id (`gloss:show:<term>`,
`gloss:page:<n>:<term>`, `gloss:quiz:…`, `gloss:keep:aliases:<n>`), so they keep working
after a restart: a `DynamicItem` with a regex template per kind catches them, and views we
send are made of such items only, so discord.py stores no per-message state for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import discord

from ..study import zones
from . import render

log = logging.getLogger(__name__)
T = TypeVar("T")
RESPOND_WITHIN = 2.0  # seconds after the user acted by which we answer or defer (Discord allows 3)
# Searches (model call, keyword postings, numpy) run in a pool of their own, not the loop's
# default executor: a burst of questions then waits in this pool's queue instead of
# a thread per question competing with the event loop for the GIL (each competitor
# makes every GIL hand-off back to the loop slower, and the loop stalls), and the
# default executor stays free for what the loop itself needs (DNS lookups). One
# worker: the model already spreads one inference over the cores; on 2 cores a
# second worker answered a burst of 200 questions only a little sooner, and the
# loop got to run half as often meanwhile.
SEARCH_WORKERS = 1
_pools: dict[str, ThreadPoolExecutor] = {}


class PersistentButton(discord.ui.DynamicItem[discord.ui.Button], template=r"(?!)"):
    """A button of ours on any message, before or after a restart: the subclass's template
    catches its custom ids, and `handle` gets the cog named `cog` to act on the click."""

    cog = ""

    def __init__(self, custom_id: str, *, label: str | None = None,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary, row: int | None = None) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id, label=label, style=style, row=row))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> PersistentButton:
        return cls(item.custom_id or match.group(0), label=item.label, style=item.style)

    @classmethod
    def accepts(cls, custom_id: str) -> bool:
        return cls.__discord_ui_compiled_template__.fullmatch(custom_id) is not None

    async def handle(self, interaction: discord.Interaction, cog: Any, custom_id: str) -> None:
        await cog.on_button(interaction, custom_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        custom_id = self.item.custom_id or ""
        cog = interaction.client.get_cog(self.cog) if isinstance(interaction.client, discord.Client) else None
        if cog is None:
            await safe_reply(interaction, "That button no longer works.", ephemeral=True)
            return
        metrics = getattr(interaction.client, "metrics", None)
        answering(interaction)
        try:
            await self.handle(interaction, cog, custom_id)
        except Exception as exc:
            log_failure("button %r failed (user %s, guild %s)", exc, custom_id, interaction.user.id,
                        interaction.guild_id)
            await safe_reply(interaction, failure_text(exc), ephemeral=True)
            outcome = "error"
        else:
            outcome = "ok"
        if metrics is not None:
            metrics.interactions.labels(f"button:{self.cog.lower()}", outcome).inc()


class GlossButton(PersistentButton, template=r"gloss:(?P<kind>show|page):(?P<rest>.*)"):
    """"Show this term" and page buttons: the Lookup cog's."""

    cog = "Lookup"

    @classmethod
    def accepts(cls, custom_id: str) -> bool:
        return render.parse_custom_id(custom_id) is not None

    async def handle(self, interaction: discord.Interaction, cog: Any, custom_id: str) -> None:
        parsed = render.parse_custom_id(custom_id)
        if parsed is None:
            await safe_reply(interaction, "That button no longer works.", ephemeral=True)
            return
        await cog.on_button(interaction, *parsed)


class QuizButton(PersistentButton, template=r"gloss:quiz:(?P<rest>.+)"):
    """A quiz option (private or the daily question's) or "Next question": the Quiz cog's."""

    cog = "Quiz"


class RoundButton(PersistentButton, template=r"gloss:round:(?P<rest>.+)"):
    """An option of a channel round's question: the Rounds cog's."""

    cog = "Rounds"


class ReviewButton(PersistentButton, template=r"gloss:rev:(?P<rest>.+)"):
    """📚 Add to my review, Show definition, and the recall ratings: the Review cog's."""

    cog = "Review"


class ForgetButton(PersistentButton, template=r"gloss:forget:(?P<rest>.+)"):
    """/forget-me's confirmation: the Privacy cog's."""

    cog = "Privacy"


class FeedbackButton(PersistentButton, template=r"gloss:fb:(?P<rest>(?:up|down):\d+)"):
    """👍 / 👎 under an answer: the Feedback cog's."""

    cog = "Feedback"


class ListButton(PersistentButton, template=r"gloss:keep:(?P<rest>.+)"):
    """◀ ▶ on /glossary alias list or note list: the admin cog's."""

    cog = "GlossaryGroup"


class FeedbackSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"gloss:fb:want:(?P<question>\d+)"):
    """"Which entry did you want?" after a 👎, answered after a restart too: the Feedback cog's."""

    def __init__(self, question_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(discord.ui.Select(custom_id=f"gloss:fb:want:{question_id}",
                                           options=options or [discord.SelectOption(label="-")],
                                           placeholder="Which entry did you want?"))
        self.question_id = question_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str], /) -> FeedbackSelect:
        return cls(int(match.group("question")))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Feedback") if isinstance(interaction.client, discord.Client) else None
        values = (interaction.data or {}).get("values") or []
        if cog is None or not values:
            await safe_reply(interaction, "That menu no longer works.")
            return
        answering(interaction)
        try:
            await cog.on_wanted(interaction, self.question_id, str(values[0]))
        except Exception as exc:
            log_failure("feedback menu failed (user %s, guild %s)", exc, interaction.user.id, interaction.guild_id)
            await safe_reply(interaction, failure_text(exc))


PERSISTENT_BUTTONS = (GlossButton, QuizButton, RoundButton, ReviewButton, ForgetButton, FeedbackButton, ListButton)
PERSISTENT_ITEMS = (*PERSISTENT_BUTTONS, FeedbackSelect)


def dynamic_view(view: discord.ui.View) -> discord.ui.View:
    """The same buttons as `view`, each as the persistent button class that handles it."""
    out = discord.ui.View(timeout=None)
    for child in view.children:
        if not isinstance(child, discord.ui.Button) or not child.custom_id:
            continue
        kind = next((k for k in PERSISTENT_BUTTONS if k.accepts(child.custom_id)), None)
        if kind is not None:
            out.add_item(kind(child.custom_id, label=child.label, style=child.style, row=child.row))
    return out


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    pool = _pools.get(name)
    if pool is None:
        pool = _pools[name] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"glossary-{name}")
    return pool


async def in_search_pool(func: Callable[..., T], *args: Any) -> T:
    """Run a search (anything that may call the model) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_pool("search", SEARCH_WORKERS),
                                                            functools.partial(func, *args))


#: the interaction a handler is answering (set by `answering`): its state calls are bounded by it
_ANSWERING: contextvars.ContextVar[discord.Interaction | None] = contextvars.ContextVar("answering", default=None)
#: a queued call's wait once its interaction is answered or deferred ("thinking…" on screen)
STATE_WAIT_ANSWERED = 10.0
#: the quick worker's call running this long is stuck (a state call takes milliseconds), not busy
STUCK_AFTER = 1.5
_quick_call_since: list[float | None] = [None]  # when the quick worker's current call began (monotonic)


def answering(interaction: discord.Interaction) -> None:
    """Mark the running handler (its task, and what it awaits) as answering `interaction`."""
    _ANSWERING.set(interaction)


@contextlib.contextmanager
def past_the_reply():
    """State calls made here are not bounded by the interaction being answered: a clean-up after
    its reply failed must be made, however long the queue."""
    token = _ANSWERING.set(None)
    try:
        yield
    finally:
        _ANSWERING.reset(token)


def _state_wait(interaction: discord.Interaction) -> float:
    if interaction.response.is_done():
        return STATE_WAIT_ANSWERED
    # what is left of Discord's 3 s, less a moment to send "can't be reached" in
    return max(0.2, time_left(interaction, 3.0) - 0.5)


def _timed(func: Callable[..., T], *args: Any) -> T:
    _quick_call_since[0] = time.monotonic()
    try:
        return func(*args)
    finally:
        _quick_call_since[0] = None


def _worker_stuck() -> bool:
    since = _quick_call_since[0]
    return since is not None and time.monotonic() - since > STUCK_AFTER


async def in_quick_pool(func: Callable[..., T], *args: Any) -> T:
    """Run a short blocking call (state DB, autocomplete) off the event loop.

    One worker, apart from the searches: autocomplete cannot defer, so it must
    not queue behind a burst of searches, and calls finish in the order they
    were made (the study cog relies on that to take each user's messages in order).

    Behind a call stuck on a state database that hangs instead of refusing (a frozen host,
    QA75), every command waited without a word until Discord said "did not respond". A handler
    answering an interaction now waits in the queue until the interaction's time is up and, if
    the worker is then stuck on one call, its call is dropped and it gets StateUnavailable ("can't
    be reached"). A worker merely busy (many short calls, a loaded machine) is waited for, as is
    a call under way: left, its write would still land (a round started that no driver runs, a
    /forget-me half done) while the user was told it failed (review 56).
    """
    call = _pool("quick", 1).submit(_timed, func, *args)
    future = asyncio.wrap_future(call)
    interaction = _ANSWERING.get()
    if interaction is None:
        return await future
    wait = _state_wait(interaction)
    while True:
        try:
            return await asyncio.wait_for(asyncio.shield(future), wait)
        except TimeoutError:
            if _worker_stuck() and call.cancel():
                from ..state import StateUnavailable

                raise StateUnavailable("the state database gave no answer: another call waits on it") from None
            wait = 0.25  # busy, or this call under way: waited for, the worker looked at again


async def term_choices(searcher, current: str) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete for a term option: rapidfuzz over every name, off the loop but not behind
    queued searches (autocomplete cannot defer)."""
    entries = await in_quick_pool(searcher.complete, current or "", render.CHOICES_MAX)
    return [discord.app_commands.Choice(name=render.choice_name(e), value=render.clip(e.term, 100))
            for e in entries[: render.CHOICES_MAX]]


def zone_choices(current: str) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete for a time zone (study.zones.choices): "delhi" offers Asia/Kolkata."""
    return [discord.app_commands.Choice(name=render.clip(label, render.CHOICE_NAME_MAX), value=zone)
            for label, zone in zones.choices(current or "", render.CHOICES_MAX)]


def time_left(interaction: discord.Interaction, limit: float = RESPOND_WITHIN) -> float:
    """Seconds until `limit` after the interaction was created.

    Counted from the interaction's id (a Discord timestamp), not from when our
    handler started: under load an interaction can wait in the gateway backlog
    before its handler runs, and Discord's 3 s run from its creation. A clock
    behind Discord's counts as no time spent yet (the full `limit`); one ahead
    only makes us defer sooner.
    """
    spent = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    return limit - min(max(spent, 0.0), limit)


async def run_timed(interaction: discord.Interaction, func: Callable[..., T], *args: Any,
                    limit: float = RESPOND_WITHIN) -> tuple[T, bool]:
    """Run `func` in the search pool; defer the interaction unless it is done within
    `limit` of the interaction's creation (so quick refusals can stay ephemeral).

    Returns (result, deferred).
    """
    return await within_time(interaction, in_search_pool(func, *args), limit)


async def within_time(interaction: discord.Interaction, awaitable: Awaitable[T],
                      limit: float = RESPOND_WITHIN) -> tuple[T, bool]:
    """Await `awaitable`, deferring the interaction if it is not done within `limit` of the
    interaction's creation. Returns (result, deferred)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=time_left(interaction, limit))
    if done:
        return task.result(), False
    await interaction.response.defer(thinking=True, ephemeral=False)
    return await task, True


async def respond(interaction: discord.Interaction, deferred: bool, *, ephemeral: bool = False, **kwargs: Any) -> None:
    """Answer an interaction that may have been deferred; never pings anyone."""
    kwargs.setdefault("allowed_mentions", render.NO_MENTIONS)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if not deferred and not interaction.response.is_done():
        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
        return
    if ephemeral:
        # the public "thinking…" placeholder would otherwise become the answer
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(ephemeral=ephemeral, **kwargs)


UNREACHABLE_TEXT = "The bot's database can't be reached just now. Please try again in a minute."


def failure_text(exc: BaseException, otherwise: str = "Something went wrong.") -> str:
    """What a user is told when their command or click failed with `exc`."""
    from ..state import StateUnavailable

    return UNREACHABLE_TEXT if isinstance(exc, StateUnavailable) else otherwise


def log_failure(what: str, exc: BaseException, *args: Any) -> None:
    """A failure in the log: an unreachable database in one line (it fails every call until it is
    back, and says why), anything else with its traceback."""
    from ..state import StateUnavailable

    if isinstance(exc, StateUnavailable):
        log.warning(what + ": %s", *args, exc)
    else:
        log.error(what, *args, exc_info=(type(exc), exc, exc.__traceback__))


async def safe_reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Best-effort short message; swallows Discord errors (used from error paths)."""
    if interaction.type == discord.InteractionType.autocomplete:
        return
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=render.NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=render.NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not send %r: %s", text, exc)

