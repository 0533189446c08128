"""The REST side of the fake: plumbing, routing, and the non-message endpoints."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from aiohttp import web

from .models import (
    API_VERSION,
    DEFAULT_APPLICATION_FLAGS,
    JSON,
    FakeChannel,
    FakeDiscordError,
    FakeGuild,
    Permissions,
    RecordedCommandSync,
    RecordedRequest,
    _form_error,
    _sf,
)
from .validation import _validate_commands

log = logging.getLogger(__name__)


class RestMixin:
    """FakeDiscord's REST API: request handling, the route table, users/guilds/commands."""

    # ------------------------------------------------------------------ REST plumbing

    @web.middleware
    async def _json_errors_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Whatever happens, API answers are JSON with ``Content-Type: application/json`` exactly.

        (aiohttp's ``json_response`` adds ``; charset=utf-8`` and discord.py's
        ``json_or_text`` compares the header for equality, so it would get a str.)
        """
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)
        except Exception as exc:
            self.errors.append(exc)
            log.exception("fake discord REST error")
            return _json_response({"message": f"fake discord internal error: {exc!r}", "code": 0}, 500)

    async def _not_found_handler(self, request: web.Request) -> web.StreamResponse:
        return _json_response({"message": "404: Not Found", "code": 0}, 404)

    async def _attachment_handler(self, request: web.Request) -> web.StreamResponse:
        entry = self._files.get(int(request.match_info["id"]))
        if entry is None:
            return _json_response({"message": "404: Not Found", "code": 0}, 404)
        blob, content_type = entry
        return web.Response(body=blob, headers={"Content-Type": content_type})

    async def _read_body(self, request: web.Request) -> tuple[Any, list[JSON]]:
        """JSON body, or ``payload_json`` + ``files[n]`` for multipart uploads."""
        if not request.body_exists:
            return None, []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body: Any = json.loads(str(form["payload_json"])) if "payload_json" in form else {}
            files: list[JSON] = []
            for value in form.values():
                if isinstance(value, web.FileField):
                    blob = value.file.read()
                    files.append(
                        self._store_file(value.filename, blob, value.content_type or "application/octet-stream")
                    )
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _check_auth(self, request: web.Request, path: str) -> None:
        if self.token is None or path.startswith(("/interactions/", "/webhooks/")):
            return
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise FakeDiscordError(401, 0, "401: Unauthorized")

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        at = time.monotonic()
        body: Any = None
        status = 500
        try:
            if request.match_info["version"] != str(API_VERSION):
                raise FakeDiscordError(404, 0, "404: Not Found")
            self._check_auth(request, path)
            body, files = await self._read_body(request)
            fault = self._take_fault(request.method, path)  # fail_next(): answered before routing
            if fault is not None and fault.drop:
                status = 0
                request.transport.close()  # the client sees the server hang up
                return web.Response(status=204)
            if fault is not None:
                status = fault.status
                return fault.response()
            handler, args = self._route(request.method, path)
            result = await handler(request, body, files, *args)
            if result is None:
                status = 204
                return web.Response(status=204)  # no body, so no Content-Type: discord.py reads text ""
            status = 200
            return _json_response(result, 200)
        except FakeDiscordError as exc:
            status = exc.status
            return _json_response(exc.body(), exc.status)
        finally:
            self.requests.append(RecordedRequest(request.method, path, dict(request.query), body, status, at))
            await self._notify()

    _ROUTES: ClassVar[list[tuple[str, re.Pattern[str], str]]] = [
        (m, re.compile(p), h)
        for m, p, h in [
            ("GET", r"/gateway", "_r_gateway"),
            ("GET", r"/gateway/bot", "_r_gateway_bot"),
            ("GET", r"/users/@me", "_r_me"),
            ("POST", r"/users/@me/channels", "_r_create_dm"),
            ("GET", r"/users/(\d+)", "_r_user"),
            ("GET", r"/oauth2/applications/@me", "_r_application"),
            ("GET", r"/applications/@me", "_r_application"),
            ("GET", r"/applications/(\d+)/commands", "_r_get_commands"),
            ("PUT", r"/applications/(\d+)/commands", "_r_put_commands"),
            ("POST", r"/applications/(\d+)/commands", "_r_post_command"),
            ("GET", r"/applications/(\d+)/commands/(\d+)", "_r_get_command"),
            ("DELETE", r"/applications/(\d+)/commands/(\d+)", "_r_delete_command"),
            ("GET", r"/applications/(\d+)/guilds/(\d+)/commands", "_r_get_commands"),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", "_r_put_commands"),
            ("POST", r"/applications/(\d+)/guilds/(\d+)/commands", "_r_post_command"),
            ("GET", r"/applications/(\d+)/guilds/(\d+)/commands/(\d+)", "_r_get_command"),
            ("DELETE", r"/applications/(\d+)/guilds/(\d+)/commands/(\d+)", "_r_delete_command"),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", "_r_interaction_callback"),
            ("POST", r"/webhooks/(\d+)/([^/]+)", "_r_webhook_execute"),
            ("GET", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", "_r_webhook_message"),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", "_r_webhook_message"),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", "_r_webhook_message"),
            ("GET", r"/channels/(\d+)", "_r_channel"),
            ("GET", r"/channels/(\d+)/messages", "_r_channel_history"),
            ("POST", r"/channels/(\d+)/messages", "_r_channel_post"),
            ("GET", r"/channels/(\d+)/messages/(\d+)", "_r_channel_message"),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", "_r_channel_message"),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", "_r_channel_message"),
            ("PUT", r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me", "_r_reaction"),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me", "_r_reaction"),
            ("POST", r"/channels/(\d+)/typing", "_r_typing"),
            ("GET", r"/guilds/(\d+)", "_r_guild"),
            ("GET", r"/guilds/(\d+)/channels", "_r_guild_channels"),
            ("GET", r"/guilds/(\d+)/roles", "_r_guild_roles"),
            ("GET", r"/guilds/(\d+)/members/(\d+)", "_r_guild_member"),
            ("PUT", r"/guilds/(\d+)/members/(\d+)/roles/(\d+)", "_r_member_role"),
            ("DELETE", r"/guilds/(\d+)/members/(\d+)/roles/(\d+)", "_r_member_role"),
        ]
    ]

    def _route(self, method: str, path: str) -> tuple[Callable[..., Awaitable[Any]], tuple[str, ...]]:
        path_matched = False
        for route_method, pattern, name in self._ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_matched = True
            if route_method == method:
                return getattr(self, name), match.groups()
        if path_matched:
            raise FakeDiscordError(405, 0, "405: Method Not Allowed")
        raise FakeDiscordError(404, 0, "404: Not Found")

    # ------------------------------------------------------------------ REST: misc

    async def _r_gateway(self, request: web.Request, body: Any, files: list[JSON]) -> JSON:
        return {"url": self.gateway_url}

    async def _r_gateway_bot(self, request: web.Request, body: Any, files: list[JSON]) -> JSON:
        return {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": self._session_start_limit(),
        }

    async def _r_me(self, request: web.Request, body: Any, files: list[JSON]) -> JSON:
        return {
            **self.bot_user.payload(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "email": None,
            "locale": "en-US",
        }

    async def _r_user(self, request: web.Request, body: Any, files: list[JSON], user_id: str) -> JSON:
        user = self.users.get(int(user_id))
        if user is None:
            raise FakeDiscordError(404, 10013, "Unknown User")
        return user.payload()

    async def _r_create_dm(self, request: web.Request, body: Any, files: list[JSON]) -> JSON:
        user = self.users.get(int((body or {}).get("recipient_id", 0)))
        if user is None:
            raise FakeDiscordError(404, 10013, "Unknown User")
        return self.dm_channel(user).payload()

    async def _r_application(self, request: web.Request, body: Any, files: list[JSON]) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": DEFAULT_APPLICATION_FLAGS,
            "owner": self.owner.payload(),
            "team": None,
            "bot": self.bot_user.payload(),
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,  # non-null would make discord.py warn: no gateway interactions
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
        }

    async def _r_channel(self, request: web.Request, body: Any, files: list[JSON], channel_id: str) -> JSON:
        return self._channel_or_404(channel_id).payload()

    async def _r_typing(self, request: web.Request, body: Any, files: list[JSON], channel_id: str) -> None:
        self._channel_or_404(channel_id)
        return None

    async def _r_guild(self, request: web.Request, body: Any, files: list[JSON], guild_id: str) -> JSON:
        data = self._guild_or_404(guild_id).payload()
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
        ):
            data.pop(key, None)
        return data

    async def _r_guild_channels(self, request: web.Request, body: Any, files: list[JSON], guild_id: str) -> list[JSON]:
        return [c.payload() for c in self._guild_or_404(guild_id).channels]

    async def _r_guild_roles(self, request: web.Request, body: Any, files: list[JSON], guild_id: str) -> list[JSON]:
        return [r.payload() for r in self._guild_or_404(guild_id).roles]

    async def _r_guild_member(
        self, request: web.Request, body: Any, files: list[JSON], guild_id: str, user_id: str
    ) -> JSON:
        member = self._guild_or_404(guild_id).member(int(user_id))
        if member is None:
            raise FakeDiscordError(404, 10007, "Unknown Member")
        return member.payload()

    async def _r_member_role(
        self, request: web.Request, body: Any, files: list[JSON], guild_id: str, user_id: str, role_id: str
    ) -> None:
        """``Member.add_roles``/``remove_roles``: PUT/DELETE ``.../members/{u}/roles/{r}``, 204.

        Checked like Discord: unknown guild/member/role is 404 (10004/10007/10011); the bot
        needs MANAGE_ROLES and the role must rank below the bot's highest role (unless the
        bot owns the guild), and managed roles can't be given or taken: else 403 50013.
        A change (not a repeat) dispatches GUILD_MEMBER_UPDATE.
        """
        guild = self._guild_or_404(guild_id)
        member = guild.member(int(user_id))
        if member is None:
            raise FakeDiscordError(404, 10007, "Unknown Member")
        role = guild.get_role(int(role_id))
        if role is None:
            raise FakeDiscordError(404, 10011, "Unknown Role")
        bot = self.bot_user
        allowed = guild.owner_id == bot.id or (
            guild.permissions_for(bot) & Permissions.MANAGE_ROLES and role.rank < guild.top_role(bot).rank
        )
        if role.managed or not allowed:
            raise FakeDiscordError(403, 50013, "Missing Permissions")
        if role.id == guild.id:
            return None  # @everyone: every member has it implicitly (a no-op here)
        held = role.id in member.role_ids
        if request.method == "PUT" and not held:
            member.role_ids.append(role.id)
        elif request.method == "DELETE" and held:
            member.role_ids.remove(role.id)
        else:
            return None
        await self._dispatch_member_update(guild, member)
        return None

    def _guild_or_404(self, guild_id: str) -> FakeGuild:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise FakeDiscordError(404, 10004, "Unknown Guild")
        return guild

    def _channel_or_404(self, channel_id: str) -> FakeChannel:
        channel = self.get_channel(int(channel_id))
        if channel is None:
            raise FakeDiscordError(404, 10003, "Unknown Channel")
        return channel

    # ------------------------------------------------------------------ REST: commands

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise FakeDiscordError(403, 50001, "Missing Access")

    def _normalise_command(self, cmd: Mapping[str, Any], guild_id: int | None, existing: Mapping[int, JSON]) -> JSON:
        ctype = int(cmd.get("type", 1))
        same = next(
            (c for c in existing.values() if c["name"] == cmd.get("name") and int(c.get("type", 1)) == ctype), None
        )
        out: JSON = {
            "id": same["id"] if same else str(self._snowflake()),  # Discord keeps ids on overwrite
            "application_id": str(self.application_id),
            "version": str(self._snowflake()),
            "type": ctype,
            "name": cmd.get("name"),
            "description": cmd.get("description", ""),
            # discord.py sends an int; Discord stores and returns the bit set as a string
            "default_member_permissions": _sf(cmd.get("default_member_permissions")),
            "dm_permission": cmd.get("dm_permission", True),
            "nsfw": bool(cmd.get("nsfw", False)),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types", [0]),
        }
        for key in ("options", "name_localizations", "description_localizations"):
            if cmd.get(key):
                out[key] = cmd[key]
        if guild_id is not None:
            out["guild_id"] = str(guild_id)
        return out

    async def _r_put_commands(
        self, request: web.Request, body: Any, files: list[JSON], app_id: str, guild_id: str | None = None
    ) -> list[JSON]:
        self._check_app(app_id)
        gid = int(guild_id) if guild_id else None
        if gid is not None:
            self._guild_or_404(guild_id or "0")
        if not isinstance(body, list):
            raise _form_error([("_root", "BASE_TYPE_ARRAY", "Must be an array.")])
        _validate_commands(body)
        existing = self.commands.get(gid, {})
        new = [self._normalise_command(c, gid, existing) for c in body]
        self.commands[gid] = {int(c["id"]): c for c in new}
        self.command_syncs.append(RecordedCommandSync(gid, new, time.monotonic()))
        return new

    async def _r_post_command(
        self, request: web.Request, body: Any, files: list[JSON], app_id: str, guild_id: str | None = None
    ) -> JSON:
        self._check_app(app_id)
        gid = int(guild_id) if guild_id else None
        _validate_commands([body])
        existing = self.commands.setdefault(gid, {})
        cmd = self._normalise_command(body, gid, existing)
        existing[int(cmd["id"])] = cmd
        return cmd

    async def _r_get_commands(
        self, request: web.Request, body: Any, files: list[JSON], app_id: str, guild_id: str | None = None
    ) -> list[JSON]:
        self._check_app(app_id)
        return list(self.commands.get(int(guild_id) if guild_id else None, {}).values())

    @staticmethod
    def _command_args(args: tuple[str, ...]) -> tuple[int | None, int]:
        """``(cmd,)`` is a global command, ``(guild, cmd)`` a guild one."""
        return (int(args[0]), int(args[1])) if len(args) == 2 else (None, int(args[0]))

    async def _r_get_command(self, request: web.Request, body: Any, files: list[JSON], app_id: str, *args: str) -> JSON:
        self._check_app(app_id)
        gid, cid = self._command_args(args)
        cmd = self.commands.get(gid, {}).get(cid)
        if cmd is None:
            raise FakeDiscordError(404, 10063, "Unknown application command")
        return cmd

    async def _r_delete_command(
        self, request: web.Request, body: Any, files: list[JSON], app_id: str, *args: str
    ) -> None:
        self._check_app(app_id)
        gid, cid = self._command_args(args)
        if self.commands.get(gid, {}).pop(cid, None) is None:
            raise FakeDiscordError(404, 10063, "Unknown application command")
        return None


def _json_response(data: Any, status: int) -> web.Response:
    """JSON with ``Content-Type: application/json`` *exactly* (no charset suffix)."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )
