"""Messages the bot creates: interaction callbacks, followup webhooks and channel posts."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from .gateway import _Session
from .models import (
    _MENTION_RE,
    _ROLE_MENTION_RE,
    JSON,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    MESSAGE_TYPE_CHAT_INPUT_COMMAND,
    MESSAGE_TYPE_DEFAULT,
    MESSAGE_TYPE_REPLY,
    CallbackType,
    FakeChannel,
    FakeDiscordError,
    FakeUser,
    MESSAGE_TYPES,
    Intents,
    InteractionType,
    Permissions,
    RecordedCallback,
    RecordedFollowup,
    RecordedMessage,
    _form_error,
    _InteractionState,
    _iso_now,
    _sf,
)
from .validation import _validate_message_body


class MessagesMixin:
    """FakeDiscord's message store and the REST endpoints that create or edit messages."""

    # ------------------------------------------------------------------ messages

    def attachment_bytes(self, attachment: Mapping[str, Any]) -> bytes:
        """What a file the bot sent holds (an entry of a message's ``attachments``)."""
        return self._files[int(attachment["id"])][0]

    def _store_file(self, filename: str, blob: bytes, content_type: str) -> JSON:
        fid = self._snowflake()
        self._files[fid] = (blob, content_type)
        url = f"{self.http_base}/attachments/{fid}/{filename}"
        return {
            "id": str(fid),
            "filename": filename,
            "size": len(blob),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    def _mentions_for(self, content: str, extra: Sequence[FakeUser]) -> list[FakeUser]:
        found: dict[int, FakeUser] = {u.id: u for u in extra}
        for match in _MENTION_RE.finditer(content):
            user = self.users.get(int(match.group(1)))
            if user is not None:
                found.setdefault(user.id, user)
        return list(found.values())

    @staticmethod
    def _role_mentions_for(guild, content: str) -> list[str]:
        """The ids of the guild's roles ``<@&id>`` in ``content`` names, as Discord fills mention_roles."""
        if guild is None:
            return []
        ids = {int(m.group(1)) for m in _ROLE_MENTION_RE.finditer(content)}
        return [str(r.id) for r in guild.roles if r.id in ids]

    def _new_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: Mapping[str, Any],
        attachments: list[JSON],
        *,
        msg_type: int = MESSAGE_TYPE_DEFAULT,
        extra_mentions: Sequence[FakeUser] = (),
        webhook: bool = False,
    ) -> JSON:
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        content = str(body.get("content") or "")
        mentions = self._mentions_for(content, extra_mentions)
        msg: JSON = {
            "id": str(self._snowflake()),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": _iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [u.payload() for u in mentions],
            "mention_roles": self._role_mentions_for(guild, content),
            "attachments": attachments,
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "pinned": False,
            "type": msg_type,
            "flags": int(body.get("flags") or 0),
        }
        if guild is not None:
            msg["guild_id"] = str(guild.id)
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if body.get("poll") is not None:
            msg["poll"] = body["poll"]
        if webhook:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
        reference = body.get("message_reference")
        if reference and reference.get("message_id"):
            ref = self.messages.get(int(reference["message_id"]))
            msg["type"] = MESSAGE_TYPE_REPLY
            msg["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel.id),
                "guild_id": _sf(channel.guild_id),
            }
            msg["referenced_message"] = copy.deepcopy(ref) if ref is not None else None
        return msg

    def _store_message(self, msg: JSON, channel: FakeChannel) -> None:
        self.messages[int(msg["id"])] = msg
        channel.last_message_id = int(msg["id"])

    def _gateway_message(self, msg: JSON, session: _Session) -> JSON:
        """The MESSAGE_CREATE/UPDATE as a given session sees it (member data, intent gating)."""
        out: JSON = copy.deepcopy(msg)
        guild = self.guilds.get(int(msg["guild_id"])) if msg.get("guild_id") else None
        if guild is not None:
            member = guild.member(int(msg["author"]["id"]))
            if member is not None and "webhook_id" not in msg:
                out["member"] = member.payload(with_user=False)
            for mention in out["mentions"]:
                m = guild.member(int(mention["id"]))
                if m is not None:
                    mention["member"] = m.payload(with_user=False)
        if self.enforce_message_content_intent and not session.intents & Intents.MESSAGE_CONTENT:
            author_is_bot = int(msg["author"]["id"]) == self.bot_user.id
            mentioned = any(int(m["id"]) == self.bot_user.id for m in msg["mentions"])
            if guild is not None and not author_is_bot and not mentioned:
                out.update(content="", embeds=[], attachments=[], components=[])
                out.pop("poll", None)
        return out

    def _bot_sees(self, channel: FakeChannel) -> bool:
        """Whether the bot can view ``channel`` (DMs: always): Discord sends a channel's message
        events only to those who can."""
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        return guild is None or bool(guild.permissions_for(self.bot_user, channel) & Permissions.VIEW_CHANNEL)

    async def _dispatch_message_event(self, event: str, msg: JSON, channel: FakeChannel) -> None:
        if int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL:
            return  # ephemeral messages never reach the gateway
        if not self._bot_sees(channel):
            return
        for session in self._sessions_for(channel.guild_id):
            await self._dispatch_to(session, event, self._gateway_message(msg, session))

    async def _echo(self, event: str, msg: JSON, channel: FakeChannel) -> None:
        if self.echo_bot_messages:
            await self._dispatch_message_event(event, msg, channel)

    def _apply_edit(self, msg: JSON, body: Mapping[str, Any], files: list[JSON]) -> None:
        after = {key: body[key] if key in body else msg.get(key) for key in ("content", "embeds", "components", "poll")}
        kept = body["attachments"] if "attachments" in body else msg.get("attachments")
        if not (any(after.values()) or kept or files):  # an edit that clears every field: Discord refuses it
            raise FakeDiscordError(400, 50006, "Cannot send an empty message")
        for key in ("content", "embeds", "components", "flags", "poll"):
            if key in body:
                value = body[key]
                if key == "content":
                    value = value or ""
                elif key in ("embeds", "components"):
                    value = list(value or [])
                elif key == "flags":
                    value = (int(value or 0) & ~MESSAGE_FLAG_LOADING) | (
                        int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL
                    )
                msg[key] = value
        if "attachments" in body or files:
            kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = [a for a in msg.get("attachments") or [] if str(a["id"]) in kept_ids]
            msg["attachments"] = kept + files
        msg["flags"] = int(msg.get("flags") or 0) & ~MESSAGE_FLAG_LOADING
        msg["edited_timestamp"] = _iso_now()
        if "content" in body:
            msg["mentions"] = [u.payload() for u in self._mentions_for(msg["content"], ())]
            edited_in = self.guilds.get(int(msg["guild_id"])) if msg.get("guild_id") else None
            msg["mention_roles"] = self._role_mentions_for(edited_in, msg["content"])

    # ------------------------------------------------------------------ REST: interactions

    async def _r_interaction_callback(
        self, request: web.Request, body: Any, files: list[JSON], interaction_id: str, token: str
    ) -> JSON | None:
        """Record the callback; answer discord.py 2.7's ``?with_response=1`` shape.

        discord.py (>=2.5) always asks ``with_response`` and parses
        ``{"interaction": {...}, "resource": {"type", "message"}}``; it needs the message
        id there to register the reply's View for later button clicks.
        """
        now = time.monotonic()
        state = self._interactions.get(int(interaction_id))
        body = body or {}
        cb_type = int(body.get("type", 0))
        data = body.get("data")

        def record(status: int, code: int | None = None, message: JSON | None = None) -> None:
            self.interaction_responses.append(
                RecordedCallback(
                    int(interaction_id),
                    token,
                    cb_type,
                    data,
                    now,
                    status,
                    code,
                    message,
                    state.interaction.sent_at if state else None,
                )
            )

        try:
            if (
                state is None
                or state.interaction.token != token
                or (self.interaction_ack_timeout is not None
                    and now - state.interaction.sent_at > self.interaction_ack_timeout)
            ):
                raise FakeDiscordError(404, 10062, "Unknown interaction")
            if state.acked_type is not None:
                raise FakeDiscordError(400, 40060, "Interaction has already been acknowledged.")
            itype = state.interaction.type
            allowed = {
                InteractionType.APPLICATION_COMMAND: {4, 5, 9, 12},
                InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9, 12},
                InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE: {8},
                InteractionType.MODAL_SUBMIT: {4, 5, 6, 7},
            }.get(InteractionType(itype), set())
            if cb_type not in allowed:
                raise _form_error(
                    [
                        (
                            "type",
                            "INTERACTION_RESPONSE_TYPE_INVALID",
                            f"Callback type {cb_type} is invalid for interaction type {itype}",
                        )
                    ]
                )
            message = await self._apply_callback(state, cb_type, data or {}, files)
        except FakeDiscordError as exc:
            record(exc.status, exc.code)
            raise
        state.acked_type = cb_type
        record(200, None, message)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return None
        result: JSON = {"interaction": {"id": interaction_id, "type": state.interaction.type}}
        if message is not None:
            flags = int(message.get("flags") or 0)
            result["interaction"].update(
                response_message_id=message["id"],
                response_message_loading=bool(flags & MESSAGE_FLAG_LOADING),
                response_message_ephemeral=bool(flags & MESSAGE_FLAG_EPHEMERAL),
            )
            result["resource"] = {"type": cb_type, "message": message}
        elif cb_type in (CallbackType.MODAL, CallbackType.DEFERRED_UPDATE_MESSAGE):
            result["resource"] = {"type": cb_type}
        return result

    async def _apply_callback(
        self, state: _InteractionState, cb_type: int, data: JSON, files: list[JSON]
    ) -> JSON | None:
        channel = self.get_channel(state.interaction.channel_id) if state.interaction.channel_id else None
        if channel is None:
            raise FakeDiscordError(404, 10003, "Unknown Channel")
        msg_type = (
            MESSAGE_TYPE_CHAT_INPUT_COMMAND
            if state.interaction.type == InteractionType.APPLICATION_COMMAND
            else MESSAGE_TYPE_DEFAULT
        )
        if cb_type == CallbackType.CHANNEL_MESSAGE:
            _validate_message_body(data, has_files=bool(files))
            msg = self._new_message(channel, self.bot_user, data, files, msg_type=msg_type, webhook=True)
            self._add_interaction_metadata(msg, state)
            return await self._commit_bot_message(msg, channel, "interaction", state)
        if cb_type == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags = MESSAGE_FLAG_LOADING | (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)
            msg = self._new_message(channel, self.bot_user, {"flags": flags}, [], msg_type=msg_type, webhook=True)
            self._add_interaction_metadata(msg, state)
            state.original_message_id = int(msg["id"])
            self._store_message(msg, channel)
            await self._echo("MESSAGE_CREATE", msg, channel)
            return msg
        if cb_type in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            origin = state.interaction.payload.get("message")
            if origin is None:
                raise FakeDiscordError(400, 50035, "Invalid Form Body")
            msg = self.messages[int(origin["id"])]
            state.original_message_id = int(msg["id"])
            if cb_type == CallbackType.DEFERRED_UPDATE_MESSAGE:
                return None
            _validate_message_body(data, has_files=bool(files), partial=True)
            self._apply_edit(msg, data, files)
            await self._echo("MESSAGE_UPDATE", msg, channel)
            await self._notify()
            return msg
        if cb_type == CallbackType.AUTOCOMPLETE_RESULT:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise _form_error([("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")])
            for k, choice in enumerate(choices):
                if not 1 <= len(str(choice.get("name", ""))) <= 100:
                    raise _form_error(
                        [(f"data.choices.{k}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")]
                    )
            return None
        if cb_type == CallbackType.MODAL:
            if not data.get("custom_id") or not 1 <= len(str(data.get("title", ""))) <= 45:
                raise _form_error([("data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")])
            return None
        return None

    def _add_interaction_metadata(self, msg: JSON, state: _InteractionState) -> None:
        meta: JSON = {
            "id": str(state.interaction.id),
            "type": state.interaction.type,
            "user": state.user.payload(),
            "authorizing_integration_owners": state.interaction.payload.get("authorizing_integration_owners", {}),
        }
        if state.command_name:
            meta["name"] = state.command_name
            meta["command_type"] = 1
        origin = state.interaction.payload.get("message")
        if origin is not None:
            meta["interacted_message_id"] = origin["id"]
        msg["interaction_metadata"] = meta

    async def _commit_bot_message(
        self, msg: JSON, channel: FakeChannel, source: str, state: _InteractionState | None
    ) -> JSON:
        self._store_message(msg, channel)
        rec = RecordedMessage(
            copy.deepcopy(msg), channel.id, time.monotonic(), source, state.interaction.id if state else None
        )
        if source == "channel":
            self.channel_messages.append(rec)
        if state is not None and source == "interaction":
            state.original_message_id = int(msg["id"])
        self.bot_messages.append(rec)
        await self._echo("MESSAGE_CREATE", msg, channel)
        return msg

    # ------------------------------------------------------------------ REST: webhooks (followups)

    def _webhook_state(self, app_id: str, token: str) -> _InteractionState:
        iid = self._tokens.get(token)
        if int(app_id) != self.application_id or iid is None:
            raise FakeDiscordError(404, 10015, "Unknown Webhook")
        state = self._interactions[iid]
        if state.acked_type is None:
            raise FakeDiscordError(404, 10015, "Unknown Webhook")  # followup before the ack
        return state

    async def _r_webhook_execute(
        self, request: web.Request, body: Any, files: list[JSON], app_id: str, token: str
    ) -> JSON | None:
        at = time.monotonic()
        state: _InteractionState | None = None
        status = 500
        msg: JSON | None = None
        try:
            state = self._webhook_state(app_id, token)
            channel = self.get_channel(state.interaction.channel_id) if state.interaction.channel_id else None
            if channel is None:
                raise FakeDiscordError(404, 10003, "Unknown Channel")
            body = body or {}
            _validate_message_body(body, has_files=bool(files))
            msg = self._new_message(channel, self.bot_user, body, files, webhook=True)
            self._add_interaction_metadata(msg, state)
            await self._commit_bot_message(msg, channel, "followup", state)
            status = 200
        except FakeDiscordError as exc:
            status = exc.status
            raise
        finally:
            self.followups.append(
                RecordedFollowup("POST", token, state.interaction.id if state else None, None, body, msg, at, status)
            )
        wait = request.query.get("wait", "false").lower() in ("1", "true")
        return msg if wait else None

    async def _r_webhook_message(
        self, request: web.Request, body: Any, files: list[JSON], app_id: str, token: str, message_id: str
    ) -> JSON | None:
        at = time.monotonic()
        state: _InteractionState | None = None
        status = 500
        msg: JSON | None = None
        method = request.method
        try:
            state = self._webhook_state(app_id, token)
            mid = state.original_message_id if message_id == "@original" else int(message_id)
            msg = self.messages.get(mid) if mid is not None else None
            if msg is None:
                raise FakeDiscordError(404, 10008, "Unknown Message")
            channel = self._channel_or_404(msg["channel_id"])
            if method == "PATCH":
                _validate_message_body(body or {}, has_files=bool(files), partial=True)
                self._apply_edit(msg, body or {}, files)
                await self._echo("MESSAGE_UPDATE", msg, channel)
            elif method == "DELETE":
                del self.messages[int(msg["id"])]
                await self._echo_delete(msg, channel)
            status = 204 if method == "DELETE" else 200
        except FakeDiscordError as exc:
            status = exc.status
            raise
        finally:
            if method != "GET":
                snapshot = copy.deepcopy(msg) if msg is not None else None
                self.followups.append(
                    RecordedFollowup(
                        method, token, state.interaction.id if state else None, message_id, body, snapshot, at, status
                    )
                )
        return None if method == "DELETE" else msg

    async def _echo_delete(self, msg: JSON, channel: FakeChannel) -> None:
        if self.echo_bot_messages and not int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL:
            data: JSON = {"id": msg["id"], "channel_id": msg["channel_id"]}
            if msg.get("guild_id"):
                data["guild_id"] = msg["guild_id"]
            await self.dispatch("MESSAGE_DELETE", data, guild_id=channel.guild_id)

    # ------------------------------------------------------------------ REST: channel messages

    async def _r_channel_post(self, request: web.Request, body: Any, files: list[JSON], channel_id: str) -> JSON:
        channel = self._channel_or_404(channel_id)
        body = body or {}
        _validate_message_body(body, has_files=bool(files))
        if any(not user.accepts_dms for user in channel.recipients):
            # the DM channel itself exists (POST /users/@me/channels succeeded); posting is refused
            raise FakeDiscordError(403, 50007, "Cannot send messages to this user")
        body = self._check_post_permissions(channel, body, has_files=bool(files))
        msg = self._new_message(channel, self.bot_user, body, files)
        return await self._commit_bot_message(msg, channel, "channel", None)

    def _check_post_permissions(self, channel: FakeChannel, body: JSON, *, has_files: bool) -> JSON:
        """What Discord checks before the bot posts in a guild channel, with the bot's permissions
        there (overwrites included): a channel it cannot see is ``50001 Missing Access``; a forum
        or category holds no messages of its own (``50008``); sending needs Send Messages (in a
        thread, Send Messages in Threads) and embeds without text Embed Links (``50013``; with
        text, the embeds are dropped); a reply needs Read Message History (``160002``).
        Returns the body as posted."""
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is None:
            return body
        perms = guild.permissions_for(self.bot_user, channel)
        if not perms & Permissions.VIEW_CHANNEL:
            raise FakeDiscordError(403, 50001, "Missing Access")
        if channel.type not in MESSAGE_TYPES:
            raise FakeDiscordError(400, 50008, "Cannot send messages in a non-text channel")
        sends = Permissions.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permissions.SEND_MESSAGES
        if not perms & sends:
            raise FakeDiscordError(403, 50013, "Missing Permissions")
        if body.get("embeds") and not perms & Permissions.EMBED_LINKS:
            if not (body.get("content") or has_files):
                raise FakeDiscordError(403, 50013, "Missing Permissions")
            body = {**body, "embeds": []}
        reference = body.get("message_reference") or {}
        if reference.get("message_id") and not perms & Permissions.READ_MESSAGE_HISTORY:
            raise FakeDiscordError(403, 160002, "Cannot reply without permission to read message history")
        return body

    async def _r_channel_history(
        self, request: web.Request, body: Any, files: list[JSON], channel_id: str
    ) -> list[JSON]:
        channel = self._channel_or_404(channel_id)
        limit = int(request.query.get("limit", 50))
        msgs = self.messages_in(channel)
        if "before" in request.query:
            msgs = [m for m in msgs if int(m["id"]) < int(request.query["before"])]
        if "after" in request.query:
            msgs = [m for m in msgs if int(m["id"]) > int(request.query["after"])]
            return msgs[:limit][::-1]
        return msgs[::-1][:limit]  # newest first, like Discord

    async def _r_channel_message(
        self, request: web.Request, body: Any, files: list[JSON], channel_id: str, message_id: str
    ) -> JSON | None:
        channel = self._channel_or_404(channel_id)
        msg = self.messages.get(int(message_id))
        if msg is None or int(msg["channel_id"]) != channel.id:
            raise FakeDiscordError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return msg
        if request.method == "DELETE":
            del self.messages[int(message_id)]
            await self._echo_delete(msg, channel)
            return None
        if int(msg["author"]["id"]) != self.bot_user.id:
            raise FakeDiscordError(403, 50005, "Cannot edit a message authored by another user")
        _validate_message_body(body or {}, has_files=bool(files), partial=True)
        self._apply_edit(msg, body or {}, files)
        await self._echo("MESSAGE_UPDATE", msg, channel)
        return msg

    async def _r_reaction(
        self, request: web.Request, body: Any, files: list[JSON], channel_id: str, message_id: str, emoji: str
    ) -> None:
        channel = self._channel_or_404(channel_id)
        if int(message_id) not in self.messages:
            raise FakeDiscordError(404, 10008, "Unknown Message")
        self.reactions.append((request.method, channel.id, int(message_id), emoji, time.monotonic()))
        return None
