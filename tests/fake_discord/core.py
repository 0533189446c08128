"""`FakeDiscord` itself: construction, lifecycle, world building, waiting and inspection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from .actions import ActionsMixin
from .faults import Fault, FaultsMixin
from .gateway import GatewayMixin, _Connection, _Session
from .messages import MessagesMixin
from .models import (
    API_VERSION,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DISCORD_EPOCH_MS,
    JSON,
    ChannelType,
    Dispatched,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeOverwrite,
    FakeRole,
    FakeUser,
    GatewayEvent,
    Permissions,
    RecordedCallback,
    RecordedCommandSync,
    RecordedFollowup,
    RecordedMessage,
    RecordedRequest,
    T,
    THREAD_TYPES,
    _InteractionState,
)
from .rest import RestMixin
from .sharding import ShardingMixin


class FakeDiscord(GatewayMixin, ShardingMixin, ActionsMixin, MessagesMixin, RestMixin, FaultsMixin):
    """Loopback fake of Discord's REST API v10 + gateway for the real discord.py client.

    Use as ``async with FakeDiscord() as fake: ...``. Build the world with the sync
    ``add_*`` methods (ideally before the bot connects), act as users with the async
    ``send_*``/``click_button``/``select``/``submit_modal`` methods, and assert with the
    recorded lists or the ``wait_for_*`` helpers. Break things with ``fail_next`` (REST
    errors) and ``force_close``/``send_invalid_session``/``send_reconnect`` (gateway).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "StudyBot",
        application_id: int | None = None,
        heartbeat_interval_ms: int = 41_250,
        interaction_ack_timeout: float | None = 3.0,
        strict_commands: bool = True,
        enforce_message_content_intent: bool = True,
        echo_bot_messages: bool = True,
        approved_privileged_intents: int | None = None,
        shard_count: int = 1,
        max_concurrency: int = 1,
        identify_window: float = 5.0,
        enforce_identify_rate: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        """
        :param token: if set, REST calls and IDENTIFY must use it (else 401 / close 4004).
        :param interaction_ack_timeout: Discord's 3 s window to acknowledge; ``None`` disables.
        :param strict_commands: refuse (in the test) to invoke commands the bot never synced.
        :param enforce_message_content_intent: blank content without the MESSAGE_CONTENT intent.
        :param echo_bot_messages: dispatch MESSAGE_CREATE/UPDATE for the bot's own messages.
        :param approved_privileged_intents: portal toggles; ``None`` approves all. An IDENTIFY
            asking for more gets close code 4014 (discord.py raises PrivilegedIntentsRequired).
        :param shard_count: the shard count ``GET /gateway/bot`` recommends. Whatever the bot
            asks for in IDENTIFY is honoured (see :mod:`.sharding`).
        :param max_concurrency: ``session_start_limit.max_concurrency``: IDENTIFY buckets.
        :param identify_window: one IDENTIFY per bucket per this many seconds (Discord: 5).
        :param enforce_identify_rate: close a too-early IDENTIFY with 4008 instead of only
            recording it (see ``identify_violations()``).
        """
        if shard_count < 1 or max_concurrency < 1:
            raise ValueError("shard_count and max_concurrency must be at least 1")
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_ack_timeout = interaction_ack_timeout
        self.strict_commands = strict_commands
        self.enforce_message_content_intent = enforce_message_content_intent
        self.echo_bot_messages = echo_bot_messages
        self.approved_privileged_intents = approved_privileged_intents
        self.shard_count = shard_count
        self.max_concurrency = max_concurrency
        self.identify_window = identify_window
        self.enforce_identify_rate = enforce_identify_rate
        self.host = host

        self._last_snowflake = 0
        self.users: dict[int, FakeUser] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}  # user id -> DM channel
        self.bot_user = self.add_user(bot_name, bot=True)
        self.owner = self.add_user("owner")
        self.application_id = application_id or self.bot_user.id

        # recordings (append-only, in arrival order)
        self.requests: list[RecordedRequest] = []
        self.interaction_responses: list[RecordedCallback] = []
        self.channel_messages: list[RecordedMessage] = []
        self.bot_messages: list[RecordedMessage] = []  # channel + interaction + followup
        self.followups: list[RecordedFollowup] = []
        self.command_syncs: list[RecordedCommandSync] = []
        self.gateway_events: list[GatewayEvent] = []
        self.dispatched: list[Dispatched] = []
        self.reactions: list[tuple[str, int, int, str, float]] = []  # (method, channel, message, emoji, at)
        self.errors: list[BaseException] = []  # bugs inside the fake itself
        self.faults: list[Fault] = []  # fail_next() rules, in the order added

        # live state
        self.messages: dict[int, JSON] = {}  # every message, current version
        self.commands: dict[int | None, dict[int, JSON]] = {}  # guild id (None=global) -> id -> cmd
        self._interactions: dict[int, _InteractionState] = {}
        self._tokens: dict[str, int] = {}
        self._files: dict[int, tuple[bytes, str]] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._announced_guilds: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port: int = 0

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind a random free port on ``host`` and start serving."""
        self._cond = asyncio.Condition()
        app = web.Application(middlewares=[self._json_errors_middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/gateway-resume", self._gateway_handler)
        app.router.add_get("/attachments/{id}/{filename}", self._attachment_handler)
        app.router.add_route("*", "/api/v{version}/{tail:.*}", self._rest_handler)
        app.router.add_route("*", "/{tail:.*}", self._not_found_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Close every gateway socket (1001 going away) and stop the server."""
        for task in list(self._tasks):
            task.cancel()
        for conn in list(self._connections):
            conn.live = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"fake discord shutting down"), 2.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return f"{self.http_base}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Initial gateway URL (discord.py appends ``?v=10&encoding=json&compress=...``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """Given in READY; a distinct path so tests can check RESUME used it."""
        return f"ws://{self.host}:{self.port}/gateway-resume"

    def env(self) -> dict[str, str]:
        """Environment for a bot running in a subprocess."""
        return {
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_TOKEN": self.token or "fake.bot.token",
        }

    # ------------------------------------------------------------------ world building

    def _snowflake(self) -> int:
        """Time-based, strictly increasing ids (so discord.py's created_at is sensible)."""
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(value, self._last_snowflake + 1)
        return self._last_snowflake

    def add_user(
        self, username: str, *, bot: bool = False, global_name: str | None = None, accepts_dms: bool = True
    ) -> FakeUser:
        """``accepts_dms=False``: the bot's DMs to this user get 403 ``50007`` (also settable later)."""
        user = FakeUser(self._snowflake(), username, bot=bot, global_name=global_name, accepts_dms=accepts_dms)
        self.users[user.id] = user
        return user

    def delete_user(self, user: FakeUser) -> None:
        """The account is deleted: it leaves its servers (GUILD_MEMBER_REMOVE), and looking it up
        or opening a DM with it gets 404 ``10013`` Unknown User."""
        del self.users[user.id]
        self.dm_channels.pop(user.id, None)
        for guild in self.guilds.values():
            if guild.members.pop(user.id, None) is not None:
                self._dispatch_soon_if_live("GUILD_MEMBER_REMOVE", guild.id, lambda g=guild: {
                    "guild_id": str(g.id), "user": user.payload()})

    def add_guild(
        self,
        name: str = "Study Group",
        *,
        owner: FakeUser | None = None,
        channels: Sequence[str] = ("general",),
        members: Sequence[FakeUser] = (),
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        shard: int | None = None,
        shard_count: int | None = None,
    ) -> FakeGuild:
        """Create a guild containing the bot (with a managed role), its owner and ``members``.

        Added after the bot connected, it is announced with GUILD_CREATE (a "join") to the
        session(s) of its shard. Each guild id gets a timestamp part of its own, so guilds
        spread over shards; ``shard=k, shard_count=n`` puts it on shard ``k`` of ``n``.
        """
        owner = owner or self.owner
        guild = FakeGuild(self._guild_snowflake(shard, shard_count), name, owner.id)
        guild.roles.append(FakeRole(guild.id, "@everyone", everyone_permissions, 0))
        bot_role = FakeRole(
            self._snowflake(), self.bot_user.username, bot_permissions, 1, managed=True, bot_id=self.bot_user.id
        )
        guild.roles.append(bot_role)
        for position, channel_name in enumerate(channels):
            guild.channels.append(
                FakeChannel(self._snowflake(), channel_name, ChannelType.GUILD_TEXT, guild.id, position)
            )
        guild.members[self.bot_user.id] = FakeMember(self.bot_user, [bot_role.id])
        for user in (owner, *members):
            guild.members.setdefault(user.id, FakeMember(user))
        self.guilds[guild.id] = guild
        if self._sessions:
            self._announced_guilds.add(guild.id)
            for session in self._sessions_for(guild.id):
                self._spawn(self._dispatch_to(session, "GUILD_CREATE", self._guild_create_for(session, guild)))
        return guild

    def add_member(
        self, guild: FakeGuild, user: FakeUser, *, roles: Sequence[FakeRole] = (), nick: str | None = None
    ) -> FakeMember:
        member = FakeMember(user, [r.id for r in roles], nick)
        guild.members[user.id] = member
        self._dispatch_soon_if_live(
            "GUILD_MEMBER_ADD", guild.id, lambda: {**member.payload(), "guild_id": str(guild.id)}
        )
        return member

    def add_role(
        self, guild: FakeGuild, name: str, *, permissions: int = 0, position: int | None = None
    ) -> FakeRole:
        """Create a role. As on Discord it goes to the bottom (position 1, just above
        ``@everyone``), so below the bot's managed role and assignable by the bot.

        ``position=`` puts it elsewhere (``fake.bot_role(guild).position + 1`` is just above
        the bot's role; anything >= ``len(guild.roles)`` is the top); roles at or above that
        position move up one, and a connected bot gets GUILD_ROLE_UPDATE for each of them.
        """
        position = 1 if position is None else max(1, min(position, len(guild.roles)))
        shifted = [r for r in guild.roles if r.id != guild.id and r.position >= position]
        for other in shifted:
            other.position += 1
        role = FakeRole(self._snowflake(), name, permissions, position)
        guild.roles.append(role)
        self._dispatch_soon_if_live(
            "GUILD_ROLE_CREATE", guild.id, lambda: {"guild_id": str(guild.id), "role": role.payload()}
        )
        for other in shifted:
            self._dispatch_soon_if_live(
                "GUILD_ROLE_UPDATE", guild.id, lambda r=other: {"guild_id": str(guild.id), "role": r.payload()}
            )
        return role

    def edit_role(
        self, guild: FakeGuild, role: FakeRole, *, permissions: int | None = None, position: int | None = None
    ) -> None:
        """An admin edits ``role`` in Server Settings → Roles: its permissions, or its place in the
        list (dragged to ``position``; the roles it passes shift by one). A connected bot gets
        GUILD_ROLE_UPDATE for each role that changed, as on Discord."""
        changed = [role]
        if permissions is not None:
            role.permissions = int(permissions)
        if position is not None and position != role.position:
            position = max(1, min(position, len(guild.roles) - 1))
            low, high = sorted((role.position, position))
            step = -1 if position > role.position else 1
            passed = [r for r in guild.roles if r.id not in (guild.id, role.id) and low <= r.position <= high]
            for other in passed:
                other.position += step
            role.position = position
            changed += passed
        for each in changed:
            self._dispatch_soon_if_live(
                "GUILD_ROLE_UPDATE", guild.id, lambda r=each: {"guild_id": str(guild.id), "role": r.payload()}
            )

    def bot_role(self, guild: FakeGuild) -> FakeRole:
        """The bot's managed role in ``guild`` (created by ``add_guild``, like an invite does)."""
        return next(r for r in guild.roles if r.managed and r.bot_id == self.bot_user.id)

    def member_roles(self, guild: FakeGuild, user: FakeUser | int) -> list[FakeRole]:
        """The roles ``user`` has in ``guild`` now (without ``@everyone``), lowest first."""
        member = guild.member(user)
        if member is None:
            raise KeyError(f"{user!r} is not a member of guild {guild.name!r}")
        return sorted((r for r in guild.roles if r.id in member.role_ids), key=lambda r: r.rank)

    def add_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        type: int = ChannelType.GUILD_TEXT,
        topic: str | None = None,
        parent: FakeChannel | None = None,
    ) -> FakeChannel:
        """A channel (``type``: text, announcement, forum, voice, category; ``parent``: its
        category). Threads are made with ``add_thread`` or ``create_forum_post``."""
        if type in THREAD_TYPES:
            raise ValueError("a thread is made with add_thread() or create_forum_post(), not add_channel()")
        channel = FakeChannel(
            self._snowflake(), name, type, guild.id, len(guild.channels), topic, parent.id if parent else None
        )
        guild.channels.append(channel)
        self._dispatch_soon_if_live("CHANNEL_CREATE", guild.id, channel.payload)
        return channel

    def delete_channel(self, channel: FakeChannel) -> None:
        """A moderator deletes a channel (its threads go with it): CHANNEL_DELETE, as on Discord;
        posting there afterwards gets 404 ``10003 Unknown Channel``."""
        guild = self.guilds[channel.guild_id] if channel.guild_id else None
        if guild is None or channel.is_thread:
            raise ValueError("delete_channel() deletes a guild channel")
        guild.channels.remove(channel)
        guild.threads = [t for t in guild.threads if t.parent_id != channel.id]
        self._dispatch_soon_if_live("CHANNEL_DELETE", guild.id, channel.payload)

    def set_permissions(
        self, channel: FakeChannel, target: FakeRole | FakeUser, *, allow: int = 0, deny: int = 0
    ) -> FakeOverwrite:
        """Set ``channel``'s permission overwrite for a role (``guild.default_role`` is @everyone)
        or a member, as *Edit Channel → Permissions* does (``allow=0, deny=0`` keeps an empty
        one): CHANNEL_UPDATE with the whole channel. Threads follow their parent's overwrites."""
        if channel.is_thread or channel.guild_id is None:
            raise ValueError("threads and DMs have no permission overwrites of their own")
        kind = FakeOverwrite.MEMBER if isinstance(target, FakeUser) else FakeOverwrite.ROLE
        channel.overwrites = [o for o in channel.overwrites if (o.type, o.id) != (kind, target.id)]
        overwrite = FakeOverwrite(target.id, kind, int(allow), int(deny))
        channel.overwrites.append(overwrite)
        self._dispatch_soon_if_live("CHANNEL_UPDATE", channel.guild_id, channel.payload)
        return overwrite

    def add_thread(
        self, parent: FakeChannel, name: str, *, owner: FakeUser | None = None, type: int = ChannelType.PUBLIC_THREAD
    ) -> FakeChannel:
        """A member starts a thread in a text or announcement channel (a forum's are its posts:
        ``create_forum_post``): THREAD_CREATE (``newly_created``) reaches the bot if it can see
        the parent, as Discord sends it to every bot that can view the thread."""
        guild, thread = self._new_thread(parent, name, owner, type)
        if guild.permissions_for(self.bot_user, thread) & Permissions.VIEW_CHANNEL:
            self._dispatch_soon_if_live("THREAD_CREATE", guild.id, lambda: {**thread.payload(), "newly_created": True})
        return thread

    async def create_forum_post(
        self, forum: FakeChannel, title: str, content: str, *, author: FakeUser | None = None
    ) -> tuple[FakeChannel, Dispatched]:
        """A member posts in a forum: a public thread named ``title`` (THREAD_CREATE), then its
        starter message, whose id is the thread's (MESSAGE_CREATE in the thread)."""
        if forum.type != ChannelType.GUILD_FORUM:
            raise ValueError("create_forum_post() posts in a forum channel")
        if not self._sessions:
            raise RuntimeError("the bot is not connected (no gateway session); await fake.wait_ready() first")
        guild, thread = self._new_thread(forum, title, author, ChannelType.PUBLIC_THREAD)
        author = self.users[thread.owner_id or 0]
        if guild.permissions_for(self.bot_user, thread) & Permissions.VIEW_CHANNEL:
            await self.dispatch("THREAD_CREATE", {**thread.payload(), "newly_created": True}, guild_id=guild.id)
        forum.last_message_id = thread.id
        msg = self._new_message(thread, author, {"content": content}, [])
        msg["id"] = str(thread.id)  # a forum post's first message has its thread's id
        self._store_message(msg, thread)
        dispatched = Dispatched("MESSAGE_CREATE", msg, time.monotonic())
        self.dispatched.append(dispatched)
        await self._dispatch_message_event("MESSAGE_CREATE", msg, thread)
        return thread, dispatched

    def _new_thread(
        self, parent: FakeChannel, name: str, owner: FakeUser | None, type: int
    ) -> tuple[FakeGuild, FakeChannel]:
        if parent.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT, ChannelType.GUILD_FORUM):
            raise ValueError(f"no threads in a channel of type {parent.type}")
        if type not in THREAD_TYPES:
            raise ValueError(f"type {type} is not a thread type")
        guild = self.guilds[parent.guild_id] if parent.guild_id else None
        if guild is None:
            raise ValueError("threads live in guild channels")
        owner = owner or self._default_user(guild)
        thread = FakeChannel(self._snowflake(), name, type, guild.id, parent_id=parent.id, owner_id=owner.id)
        guild.threads.append(thread)
        return guild, thread

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self._snowflake(), "", ChannelType.DM, None, recipients=[user])
            self.dm_channels[user.id] = channel
        return channel

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        """A guild channel, an active thread or a DM channel."""
        for guild in self.guilds.values():
            channel = guild.get_channel(channel_id)
            if channel is not None:
                return channel
        for channel in self.dm_channels.values():
            if channel.id == channel_id:
                return channel
        return None

    def _default_guild(self) -> FakeGuild | None:
        return next(iter(self.guilds.values()), None)

    def _default_user(self, guild: FakeGuild | None) -> FakeUser:
        if guild is not None:
            for member in guild.members.values():
                if not member.user.bot and member.user.id != guild.owner_id:
                    return member.user
            return self.users[guild.owner_id]
        return self.owner

    # ------------------------------------------------------------------ waiting

    def _require_running(self) -> asyncio.Condition:
        if self._cond is None:
            raise RuntimeError("FakeDiscord is not started; use `async with FakeDiscord() as fake:`")
        return self._cond

    async def _notify(self) -> None:
        cond = self._require_running()
        async with cond:
            cond.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        *,
        timeout: float = 5.0,
        what: str = "condition",
        poll_interval: float = 0.02,
    ) -> T:
        """Wait until ``predicate()`` returns something truthy and return it.

        Re-evaluated whenever the fake records anything, and every ``poll_interval``
        seconds so predicates over the bot's own state (``bot.get_guild(...)``) work too.
        On timeout a ``TimeoutError`` carries a transcript of recent traffic.
        """
        cond = self._require_running()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout}s waiting for {what}\n{self.transcript()}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cond.wait(), min(poll_interval, remaining))

    @staticmethod
    def _since(after: Dispatched | float | None) -> float:
        if after is None:
            return float("-inf")
        return after.sent_at if isinstance(after, Dispatched) else float(after)

    async def wait_ready(self, *, after: Dispatched | float | None = None, timeout: float = 5.0) -> GatewayEvent:
        """Wait until READY and every GUILD_CREATE have been sent (after IDENTIFY)."""
        since = self._since(after)
        return await self.wait_for(
            lambda: next((e for e in self.gateway_events if e.kind == "ready" and e.at >= since), None),
            timeout=timeout,
            what="READY",
        )

    async def wait_resumed(self, *, after: Dispatched | float | None = None, timeout: float = 5.0) -> GatewayEvent:
        """Wait until a RESUME was accepted (RESUMED sent)."""
        since = self._since(after)
        return await self.wait_for(
            lambda: next((e for e in self.gateway_events if e.kind == "resumed" and e.at >= since), None),
            timeout=timeout,
            what="RESUMED",
        )

    async def wait_for_command_sync(
        self, *, guild: FakeGuild | None = None, after: Dispatched | float | None = None, timeout: float = 5.0
    ) -> RecordedCommandSync:
        """Wait for a bulk overwrite of global (or ``guild``) commands."""
        gid = guild.id if guild else None
        since = self._since(after)
        return await self.wait_for(
            lambda: next((s for s in self.command_syncs if s.guild_id == gid and s.at >= since), None),
            timeout=timeout,
            what=f"command sync for guild={gid}",
        )

    async def wait_for_response(self, interaction: FakeInteraction | int, *, timeout: float = 5.0) -> RecordedCallback:
        """Wait for the (first) interaction callback for ``interaction``."""
        iid = interaction if isinstance(interaction, int) else interaction.id
        return await self.wait_for(
            lambda: next((c for c in self.interaction_responses if c.interaction_id == iid), None),
            timeout=timeout,
            what=f"interaction callback for {iid}",
        )

    async def wait_for_followup(
        self, interaction: FakeInteraction, *, method: str | None = None, index: int = 0, timeout: float = 5.0
    ) -> RecordedFollowup:
        """Wait for the ``index``-th webhook request (followup/edit) using this interaction's token."""

        def find() -> RecordedFollowup | None:
            found = [
                f for f in self.followups if f.token == interaction.token and (method is None or f.method == method)
            ]
            return found[index] if len(found) > index else None

        return await self.wait_for(find, timeout=timeout, what=f"followup #{index} for interaction {interaction.id}")

    async def wait_for_channel_message(
        self,
        channel: FakeChannel | int | None = None,
        *,
        after: Dispatched | float | None = None,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> RecordedMessage:
        """Wait for a bot message posted via ``POST /channels/{id}/messages``."""
        cid = channel.id if isinstance(channel, FakeChannel) else channel
        since = self._since(after)

        def find() -> RecordedMessage | None:
            for rec in self.channel_messages:
                if rec.at >= since and (cid is None or rec.channel_id == cid) and (predicate is None or predicate(rec)):
                    return rec
            return None

        return await self.wait_for(find, timeout=timeout, what=f"bot message in channel {cid}")

    # ------------------------------------------------------------------ inspection

    @property
    def identify_count(self) -> int:
        return sum(1 for e in self.gateway_events if e.kind == "identify")

    @property
    def resume_count(self) -> int:
        return sum(1 for e in self.gateway_events if e.kind == "resumed")

    def messages_in(self, channel: FakeChannel | int) -> list[JSON]:
        """Current version of every message (users' and bot's) in a channel, oldest first."""
        cid = channel.id if isinstance(channel, FakeChannel) else channel
        return sorted((m for m in self.messages.values() if int(m["channel_id"]) == cid), key=lambda m: int(m["id"]))

    def original_response(self, interaction: FakeInteraction) -> JSON | None:
        state = self._interactions.get(interaction.id)
        if state is None or state.original_message_id is None:
            return None
        return self.messages.get(state.original_message_id)

    def transcript(self, last: int = 40) -> str:
        """Human-readable tail of REST + gateway traffic (attached to timeouts)."""
        rows: list[tuple[float, str]] = []
        rows += [(r.at, f"REST {r.method} {r.path} -> {r.status}") for r in self.requests]
        rows += [(e.at, f"GW   {e.kind} {json.dumps(e.detail)[:120]}") for e in self.gateway_events]
        rows += [(d.sent_at, f"SENT {d.event} id={d.payload.get('id')}") for d in self.dispatched]
        rows.sort(key=lambda r: r[0])
        lines = [text for _, text in rows[-last:]]
        if self.errors:
            lines.append(f"FAKE ERRORS: {self.errors!r}")
        return "transcript (oldest first):\n  " + "\n  ".join(lines) if lines else "transcript: (nothing happened)"
