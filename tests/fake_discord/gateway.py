"""The gateway side of the fake: sessions, IDENTIFY/RESUME, dispatching, disconnect controls."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from .models import (
    API_VERSION,
    DEFAULT_APPLICATION_FLAGS,
    JSON,
    FakeGuild,
    FakeMember,
    GatewayEvent,
    Intents,
    Op,
)
from .sharding import CLOSE_INVALID_SHARD, CLOSE_RATE_LIMITED, parse_shard

log = logging.getLogger(__name__)


class _Connection:
    """One accepted gateway websocket. Serialises sends because zlib-stream is stateful."""

    def __init__(self, ws: web.WebSocketResponse, *, path: str, compress: str | None, encoding: str) -> None:
        self.ws = ws
        self.path = path
        self.encoding = encoding
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.session: _Session | None = None
        self.live = False  # True once READY/RESUMED was sent: dispatches may flow

    async def send(self, frame: JSON) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                return
            if self._zlib is not None:
                data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                # zstd-stream (only requested when `zstandard` is installed) or none:
                # discord.py accepts TEXT frames whatever it asked for.
                await self.ws.send_str(text)


class _Session:
    """A gateway session: survives reconnects and replays missed events on RESUME."""

    def __init__(self, session_id: str, *, intents: int, shard: tuple[int, int]) -> None:
        self.session_id = session_id
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.log: list[JSON] = []  # every dispatched frame, for RESUME replay
        self.conn: _Connection | None = None
        self.lock = asyncio.Lock()

    def wants_guild(self, guild_id: int | None) -> bool:
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % shard_count == shard_id


class GatewayMixin:
    """FakeDiscord's gateway: websocket handling, dispatch, and the test controls that break it."""

    # ------------------------------------------------------------------ gateway: dispatching

    def _sessions_for(self, guild_id: int | None) -> list[_Session]:
        return [s for s in self._sessions.values() if s.wants_guild(guild_id)]

    async def dispatch(self, event: str, data: JSON, *, guild_id: int | None = None) -> int:
        """Send a DISPATCH to every session that owns ``guild_id`` (raw escape hatch).

        While a session's socket is down the event is buffered and replayed on RESUME,
        like Discord does. Returns how many sessions received it.
        """
        sessions = self._sessions_for(guild_id)
        for session in sessions:
            await self._dispatch_to(session, event, data)
        return len(sessions)

    async def _dispatch_to(self, session: _Session, event: str, data: JSON) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": Op.DISPATCH, "t": event, "s": session.seq, "d": data}
            session.log.append(frame)
            conn = session.conn
            if conn is not None and conn.live:
                await conn.send(frame)

    def _dispatch_soon_if_live(self, event: str, guild_id: int, make: Callable[[], JSON]) -> None:
        """Sync builders call this: only guilds already announced to the bot get live events."""
        if not self._sessions or guild_id not in self._announced_guilds:
            return
        self._spawn(self.dispatch(event, make(), guild_id=guild_id))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(task.exception())  # type: ignore[arg-type]

    async def _record_gateway(self, kind: str, **detail: Any) -> GatewayEvent:
        event = GatewayEvent(kind, time.monotonic(), detail)
        self.gateway_events.append(event)
        await self._notify()
        return event

    # ------------------------------------------------------------------ gateway: connection handling

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(
            ws,
            path=request.path,
            compress=request.query.get("compress"),
            encoding=request.query.get("encoding", "json"),
        )
        self._connections.add(conn)
        await self._record_gateway("connect", path=request.path, query=dict(request.query))
        try:
            if conn.encoding != "json":
                await ws.close(code=4002, message=b"fake discord only speaks json")
                return ws
            await conn.send(
                {"op": Op.HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                    await self._on_gateway_frame(conn, frame)
                except Exception as exc:  # a bug in the fake: record it and surface it
                    self.errors.append(exc)
                    log.exception("fake discord gateway error")
                    await ws.close(code=4000, message=b"fake discord internal error")
        finally:
            conn.live = False
            self._connections.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            await self._record_gateway("close", path=conn.path, code=ws.close_code)
        return ws

    async def _on_gateway_frame(self, conn: _Connection, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == Op.HEARTBEAT:
            await conn.send({"op": Op.HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == Op.IDENTIFY:
            await self._on_identify(conn, data or {})
        elif op == Op.RESUME:
            await self._on_resume(conn, data or {})
        elif op == Op.REQUEST_GUILD_MEMBERS:
            await self._on_request_members(conn, data or {})
        elif op == Op.PRESENCE_UPDATE:
            await self._record_gateway("presence", **(data or {}))
        else:
            await self._record_gateway("op", op=op)

    async def _on_identify(self, conn: _Connection, data: JSON) -> None:
        token = str(data.get("token", ""))
        intents = int(data.get("intents", 0))
        shard_raw = data.get("shard")
        parsed = parse_shard(shard_raw)
        shard_detail = list(parsed) if parsed is not None else shard_raw
        bucket = parsed[0] % self.max_concurrency if parsed is not None else None
        event = await self._record_gateway("identify", intents=intents, shard=shard_detail, bucket=bucket)

        async def reject(code: int, reason: bytes) -> None:
            event.detail["rejected"] = code
            await conn.ws.close(code=code, message=reason)

        if self.token is not None and token != self.token:
            return await reject(4004, b"Authentication failed.")
        if parsed is None:
            return await reject(CLOSE_INVALID_SHARD, b"Invalid shard.")
        shard = parsed
        approved = self.approved_privileged_intents
        if approved is not None and intents & Intents.privileged() & ~approved:
            return await reject(4014, b"Disallowed intent(s).")
        if self.enforce_identify_rate and self._identify_too_early(event):
            return await reject(CLOSE_RATE_LIMITED, b"Rate limited.")
        # a fresh IDENTIFY replaces the previous session of that shard
        for sid, old in list(self._sessions.items()):
            if old.shard == shard:
                del self._sessions[sid]
        session = _Session(secrets.token_hex(16), intents=intents, shard=shard)
        self._sessions[session.session_id] = session
        conn.session = session
        session.conn = conn
        guilds = [g for g in self.guilds.values() if session.wants_guild(g.id)]
        async with session.lock:
            conn.live = True
        ready = {
            "v": API_VERSION,
            "user": {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": list(shard),
            "application": {"id": str(self.application_id), "flags": DEFAULT_APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        await self._dispatch_to(session, "READY", ready)
        for guild in guilds:
            self._announced_guilds.add(guild.id)
            await self._dispatch_to(session, "GUILD_CREATE", self._guild_create_for(session, guild))
        await self._record_gateway("ready", session_id=session.session_id, guilds=len(guilds), shard=list(shard))

    def _guild_create_for(self, session: _Session, guild: FakeGuild) -> JSON:
        """Without GUILD_MEMBERS, Discord only sends the bot's own member in GUILD_CREATE."""
        data = guild.payload()
        if not session.intents & Intents.GUILD_MEMBERS:
            data["members"] = [m for m in data["members"] if int(m["user"]["id"]) == self.bot_user.id]
        return data

    async def _dispatch_member_update(self, guild: FakeGuild, member: FakeMember) -> None:
        """GUILD_MEMBER_UPDATE needs the GUILD_MEMBERS intent, except about the bot itself."""
        data = {**member.payload(), "guild_id": str(guild.id)}
        for session in self._sessions_for(guild.id):
            if session.intents & Intents.GUILD_MEMBERS or member.user.id == self.bot_user.id:
                await self._dispatch_to(session, "GUILD_MEMBER_UPDATE", data)

    async def _on_resume(self, conn: _Connection, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        await self._record_gateway("resume", session_id=data.get("session_id"), seq=data.get("seq"))
        if session is None or (self.token is not None and data.get("token") != self.token):
            # not resumable: discord.py closes with 1000 and re-IDENTIFYs
            await conn.send({"op": Op.INVALID_SESSION, "d": False, "s": None, "t": None})
            await self._record_gateway("invalid_session", resumable=False)
            return
        last_seq = int(data.get("seq") or 0)
        conn.session = session
        async with session.lock:
            if session.conn is not None and session.conn is not conn:
                session.conn.live = False
            session.conn = conn
            replay = [f for f in session.log if f["s"] > last_seq]
            for frame in replay:
                await conn.send(frame)
            session.seq += 1
            resumed = {"op": Op.DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}}
            session.log.append(resumed)
            await conn.send(resumed)
            conn.live = True
        await self._record_gateway("resumed", session_id=session.session_id, replayed=len(replay), path=conn.path)

    async def _on_request_members(self, conn: _Connection, data: JSON) -> None:
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        session = conn.session
        if guild is None or session is None:
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m.user.id in wanted]
        elif data.get("query"):
            query = str(data["query"]).lower()
            members = [m for m in members if m.user.username.lower().startswith(query)]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        if data.get("presences"):
            chunk["presences"] = []
        await self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)

    # ------------------------------------------------------------------ gateway: test controls

    def _live_connections(self, shard_id: int | None) -> list[_Connection]:
        return [
            c
            for c in self._connections
            if c.session is not None and (shard_id is None or c.session.shard[0] == shard_id) and not c.ws.closed
        ]

    async def force_close(
        self, code: int = 4000, *, shard_id: int | None = None, invalidate_session: bool = False
    ) -> None:
        """Close the bot's gateway socket(s) from the server side.

        ``4000`` (default) makes discord.py reconnect to ``resume_gateway_url`` and RESUME;
        events dispatched meanwhile are buffered and replayed. With
        ``invalidate_session=True`` the session is forgotten, so the RESUME is answered
        with INVALID_SESSION(false) and discord.py re-IDENTIFYs.
        """
        conns = self._live_connections(shard_id)
        if not conns:
            raise RuntimeError("no gateway connection to close")
        for conn in conns:
            conn.live = False
            if invalidate_session and conn.session is not None:
                self._sessions.pop(conn.session.session_id, None)
            await self._record_gateway("force_close", code=code)
            await conn.ws.close(code=code, message=b"fake discord forced close")

    async def send_invalid_session(self, *, resumable: bool = False, shard_id: int | None = None) -> None:
        """Send op 9. ``resumable=False`` forgets the session: discord.py re-IDENTIFYs."""
        for conn in self._live_connections(shard_id):
            if not resumable and conn.session is not None:
                self._sessions.pop(conn.session.session_id, None)
            conn.live = False
            await conn.send({"op": Op.INVALID_SESSION, "d": resumable, "s": None, "t": None})

    async def send_reconnect(self, *, shard_id: int | None = None) -> None:
        """Send op 7 RECONNECT: discord.py closes and RESUMEs."""
        for conn in self._live_connections(shard_id):
            conn.live = False
            await conn.send({"op": Op.RECONNECT, "d": None, "s": None, "t": None})
