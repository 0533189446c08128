"""What a test does as a Discord user: slash commands, autocomplete, clicks, modals, messages."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .models import (
    ATTACHMENT_SIZE_LIMIT,
    DEFAULT_BOT_PERMISSIONS,
    JSON,
    CallbackType,
    ChannelType,
    ComponentType,
    Dispatched,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeRole,
    FakeUser,
    InteractionType,
    MessageRef,
    OptionType,
    Permissions,
    RecordedCallback,
    RecordedMessage,
    _InteractionState,
    _iso_now,
)
from .validation import _walk_components


class ActionsMixin:
    """FakeDiscord's user actions (they dispatch gateway events to the bot)."""

    # ------------------------------------------------------------------ user actions

    def _interaction_context(
        self, user: FakeUser | None, guild: FakeGuild | None, channel: FakeChannel | None
    ) -> tuple[FakeUser, FakeGuild | None, FakeChannel]:
        if channel is not None and guild is None and channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
        if channel is None:
            guild = guild or self._default_guild()
            if guild is not None:
                if not guild.text_channels:
                    raise ValueError(f"guild {guild.name!r} has no text channel")
                channel = guild.text_channels[0]
        if user is None and channel is not None and channel.type == ChannelType.DM and channel.recipients:
            user = channel.recipients[0]
        user = user or self._default_user(guild)
        if channel is None:
            channel = self.dm_channel(user)
        return user, guild, channel

    def _base_interaction(
        self, itype: int, user: FakeUser, guild: FakeGuild | None, channel: FakeChannel, data: JSON | None
    ) -> JSON:
        """Fields discord.py 2.7 reads without ``.get`` (``attachment_size_limit``, member ``flags``...)."""
        payload: JSON = {
            "id": str(self._snowflake()),
            "application_id": str(self.application_id),
            "type": itype,
            "token": "fake-" + secrets.token_urlsafe(24),
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if data is not None:
            payload["data"] = data
        if guild is not None:
            member = guild.member(user)
            if member is None:
                raise ValueError(f"{user.username} is not a member of {guild.name!r}; use fake.add_member()")
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                # the member's and the bot's permissions in the channel, overwrites included
                member=member.payload(permissions=guild.permissions_for(user, channel)),
                app_permissions=str(guild.permissions_for(self.bot_user, channel)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
            payload["channel"]["permissions"] = str(guild.permissions_for(user, channel))
        else:
            payload.update(
                user=user.payload(),
                app_permissions=str(DEFAULT_BOT_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        return payload

    async def _send_interaction(
        self, payload: JSON, *, user: FakeUser, guild: FakeGuild | None, command_name: str | None = None
    ) -> FakeInteraction:
        if not self._sessions:
            raise RuntimeError("the bot is not connected (no gateway session); await fake.wait_ready() first")
        interaction = FakeInteraction("INTERACTION_CREATE", payload, time.monotonic())
        self._interactions[interaction.id] = _InteractionState(interaction, user, command_name)
        self._tokens[interaction.token] = interaction.id
        self.dispatched.append(interaction)
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=guild.id if guild else None)
        return interaction

    def _find_command(self, name: str, guild: FakeGuild | None) -> tuple[JSON | None, int | None]:
        """Look a chat-input command up like the Discord client: guild commands first."""
        if guild is not None:
            for cmd in self.commands.get(guild.id, {}).values():
                if cmd["name"] == name and int(cmd.get("type", 1)) == 1:
                    return cmd, guild.id
        for cmd in self.commands.get(None, {}).values():
            if cmd["name"] == name and int(cmd.get("type", 1)) == 1:
                return cmd, None
        return None, None

    def _build_command_data(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        guild: FakeGuild | None,
        *,
        focused: str | None = None,
        user: FakeUser | None = None,
    ) -> JSON:
        parts = name.split()
        command, command_guild = self._find_command(parts[0], guild)
        if command is None and self.strict_commands:
            known = sorted({c["name"] for g in self.commands.values() for c in g.values()})
            raise LookupError(f"/{parts[0]} was never synced by the bot (synced: {known}); Discord would not show it")
        schema: list[JSON] | None = command.get("options") if command is not None else None
        resolved: JSON = {}
        top_options = self._build_options(schema, dict(options or {}), resolved, guild, focused, parts[1:], user)
        data: JSON = {
            "id": command["id"] if command else str(self._snowflake()),
            "name": parts[0],
            "type": 1,
        }
        if top_options:
            data["options"] = top_options
        if resolved:
            data["resolved"] = resolved
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        return data

    def _build_options(
        self,
        schema: list[JSON] | None,
        values: dict[str, Any],
        resolved: JSON,
        guild: FakeGuild | None,
        focused: str | None,
        sub_path: list[str],
        user: FakeUser | None = None,
    ) -> list[JSON]:
        if sub_path:  # "group sub" -> nested SUB_COMMAND(_GROUP) options
            sub_name = sub_path[0]
            sub_schema = next((o for o in schema or [] if o.get("name") == sub_name), None)
            if schema is not None and sub_schema is None:
                raise LookupError(f"no subcommand {sub_name!r}")
            sub_type = (
                int(sub_schema["type"])
                if sub_schema
                else (OptionType.SUB_COMMAND_GROUP if len(sub_path) > 1 else OptionType.SUB_COMMAND)
            )
            inner = self._build_options(
                sub_schema.get("options") if sub_schema else None, values, resolved, guild, focused, sub_path[1:], user
            )
            return [{"type": sub_type, "name": sub_name, "options": inner}]
        by_name = {o["name"]: o for o in schema or []}
        if schema is not None:
            unknown = set(values) - set(by_name)
            if unknown:
                raise ValueError(f"unknown option(s) {sorted(unknown)}; command has {sorted(by_name)}")
            missing = [n for n, o in by_name.items() if o.get("required") and n not in values and n != focused]
            if missing:
                raise ValueError(f"missing required option(s) {missing}")
        if focused is not None and focused not in values:
            values[focused] = ""
        out: list[JSON] = []
        for opt_name, value in values.items():
            opt_schema = by_name.get(opt_name)
            opt_type = int(opt_schema["type"]) if opt_schema else self._infer_option_type(value)
            option: JSON = {"name": opt_name, "type": opt_type}
            if opt_name == focused:
                option.update(value=str(value), focused=True)  # the raw text typed so far
            else:
                if opt_schema and opt_schema.get("choices"):
                    allowed = [c["value"] for c in opt_schema["choices"]]
                    if value not in allowed:
                        raise ValueError(f"option {opt_name!r}={value!r} is not one of the choices {allowed}")
                types = (opt_schema or {}).get("channel_types")
                if types and isinstance(value, FakeChannel) and value.type not in types:
                    # the Discord client lists only these types in the option's picker
                    raise ValueError(f"option {opt_name!r} offers channel types {types}; "
                                     f"#{value.name} is of type {value.type}, which Discord would not offer")
                option["value"] = self._option_value(value, resolved, guild, user)
            out.append(option)
        return out

    @staticmethod
    def _infer_option_type(value: Any) -> int:
        if isinstance(value, bool):
            return OptionType.BOOLEAN
        if isinstance(value, int):
            return OptionType.INTEGER
        if isinstance(value, float):
            return OptionType.NUMBER
        if isinstance(value, FakeUser):
            return OptionType.USER
        if isinstance(value, FakeChannel):
            return OptionType.CHANNEL
        if isinstance(value, FakeRole):
            return OptionType.ROLE
        return OptionType.STRING

    def _option_value(self, value: Any, resolved: JSON, guild: FakeGuild | None, user: FakeUser | None = None) -> Any:
        if isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            member = guild.member(value) if guild else None
            if member is not None and guild is not None:
                resolved.setdefault("members", {})[str(value.id)] = member.payload(
                    with_user=False, permissions=guild.permissions_for(value)
                )
            return str(value.id)
        if isinstance(value, FakeChannel):
            # with the invoking member's permissions in that channel, overwrites included
            chan = value.payload()
            everything = guild is None or user is None
            chan["permissions"] = str(Permissions.ALL if everything else guild.permissions_for(user, value))
            chan.setdefault("name", "")
            chan.setdefault("position", 0)
            resolved.setdefault("channels", {})[str(value.id)] = chan
            return str(value.id)
        if isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        return value

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
    ) -> FakeInteraction:
        """Dispatch a type-2 INTERACTION_CREATE for ``/name`` (``"group sub"`` for subcommands).

        Option types come from the synced command schema (else inferred from Python
        types: bool/int/float/str, FakeUser/FakeChannel/FakeRole with ``resolved`` data).
        Defaults: first guild, its first text channel, its first ordinary member.
        """
        user, guild, channel = self._interaction_context(user, guild, channel)
        data = self._build_command_data(name, options, guild, user=user)
        payload = self._base_interaction(InteractionType.APPLICATION_COMMAND, user, guild, channel, data)
        return await self._send_interaction(payload, user=user, guild=guild, command_name=name)

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str,
        user: FakeUser | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
    ) -> FakeInteraction:
        """Dispatch a type-4 autocomplete interaction; ``options[focused]`` is the text typed."""
        user, guild, channel = self._interaction_context(user, guild, channel)
        data = self._build_command_data(name, options, guild, focused=focused, user=user)
        payload = self._base_interaction(InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE, user, guild, channel, data)
        return await self._send_interaction(payload, user=user, guild=guild, command_name=name)

    async def autocomplete(
        self, name: str, options: Mapping[str, Any] | None = None, *, focused: str, timeout: float = 5.0, **kw: Any
    ) -> list[JSON]:
        """Convenience: send an autocomplete and return the bot's ``choices``."""
        interaction = await self.send_autocomplete(name, options, focused=focused, **kw)
        callback = await self.wait_for_response(interaction, timeout=timeout)
        if callback.type != CallbackType.AUTOCOMPLETE_RESULT:
            raise AssertionError(f"expected an autocomplete result, got callback type {callback.type}")
        return callback.choices

    def _resolve_message(self, message: MessageRef) -> JSON:
        if isinstance(message, RecordedMessage):
            mid = message.id
        elif isinstance(message, RecordedCallback):
            if message.message is None:
                raise ValueError("that callback did not create a message")
            mid = int(message.message["id"])
        elif isinstance(message, int):
            mid = message
        else:
            mid = int(message["id"])
        current = self.messages.get(mid)
        if current is None:
            raise LookupError(f"unknown message {mid}")
        return current

    async def _component_interaction(
        self, message: MessageRef, custom_id: str, values: list[str] | None, user: FakeUser | None, expect: set[int]
    ) -> FakeInteraction:
        msg = self._resolve_message(message)
        comp = next(
            (c for _, c in _walk_components(msg.get("components") or []) if c.get("custom_id") == custom_id), None
        )
        if comp is None:
            ids = [c.get("custom_id") for _, c in _walk_components(msg.get("components") or []) if c.get("custom_id")]
            raise LookupError(f"message {msg['id']} has no component {custom_id!r} (has {ids})")
        if int(comp["type"]) not in expect:
            raise ValueError(f"component {custom_id!r} is of type {comp['type']}, not one of {sorted(expect)}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot use it")
        channel = self.get_channel(int(msg["channel_id"]))
        if channel is None:
            raise LookupError(f"unknown channel {msg['channel_id']}")
        user, guild, channel = self._interaction_context(user, None, channel)
        data: JSON = {"custom_id": custom_id, "component_type": int(comp["type"])}
        if values is not None:
            data["values"] = values
        payload = self._base_interaction(InteractionType.MESSAGE_COMPONENT, user, guild, channel, data)
        payload["message"] = copy.deepcopy(msg)
        return await self._send_interaction(payload, user=user, guild=guild)

    async def click_button(
        self, message: MessageRef, custom_id: str, *, user: FakeUser | None = None
    ) -> FakeInteraction:
        """Click the button ``custom_id`` on a message the bot sent (type-3 interaction)."""
        return await self._component_interaction(message, custom_id, None, user, {ComponentType.BUTTON})

    async def select(
        self, message: MessageRef, custom_id: str, values: Sequence[str], *, user: FakeUser | None = None
    ) -> FakeInteraction:
        """Pick ``values`` in a select menu (string/user/role/mentionable/channel select)."""
        kinds = {
            ComponentType.STRING_SELECT,
            ComponentType.USER_SELECT,
            ComponentType.ROLE_SELECT,
            ComponentType.MENTIONABLE_SELECT,
            ComponentType.CHANNEL_SELECT,
        }
        return await self._component_interaction(message, custom_id, [str(v) for v in values], user, set(kinds))

    async def submit_modal(
        self,
        modal: RecordedCallback,
        values: Mapping[str, str | Sequence[str]],
        *,
        user: FakeUser | None = None,
    ) -> FakeInteraction:
        """Submit a modal the bot opened (a type-9 callback) with ``{custom_id: value}``."""
        if modal.type != CallbackType.MODAL or modal.data is None:
            raise ValueError("submit_modal() needs the RecordedCallback of a type-9 (modal) response")
        state = self._interactions[modal.interaction_id]
        cid = state.interaction.channel_id
        user, guild, channel = self._interaction_context(user or state.user, None, self.get_channel(cid) if cid else None)

        def answer(comp: Mapping[str, Any]) -> JSON:
            cid = str(comp.get("custom_id"))
            value = values.get(cid, "" if comp["type"] == ComponentType.TEXT_INPUT else [])
            out: JSON = {"type": comp["type"], "custom_id": cid}
            if comp.get("id") is not None:
                out["id"] = comp["id"]
            if comp["type"] == ComponentType.TEXT_INPUT:
                out["value"] = str(value)
            else:
                out["values"] = [value] if isinstance(value, str) else list(value)
            return out

        components: list[JSON] = []
        for top in modal.data.get("components") or []:
            if top.get("type") == ComponentType.ACTION_ROW:
                components.append(
                    {"type": 1, "components": [answer(c) for c in top.get("components") or [] if c.get("custom_id")]}
                )
            elif top.get("type") == ComponentType.LABEL and isinstance(top.get("component"), Mapping):
                components.append({"type": ComponentType.LABEL, "component": answer(top["component"])})
        known = {c.get("custom_id") for _, c in _walk_components(modal.data.get("components") or [])}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"modal has no input(s) {sorted(unknown)} (has {sorted(k for k in known if k)})")
        data = {"custom_id": modal.data["custom_id"], "components": components}
        payload = self._base_interaction(InteractionType.MODAL_SUBMIT, user, guild, channel, data)
        origin = state.interaction.payload.get("message")
        if origin is not None:
            payload["message"] = self.messages.get(int(origin["id"]), origin)
        return await self._send_interaction(payload, user=user, guild=guild)

    async def send_message(
        self,
        channel: FakeChannel | None = None,
        content: str = "",
        *,
        author: FakeUser | None = None,
        mentions: Sequence[FakeUser] = (),
        reply_to: MessageRef | None = None,
        attachments: Sequence[tuple[str, bytes]] = (),
        message_type: int = 0,
    ) -> Dispatched:
        """A user posts a message: dispatches MESSAGE_CREATE (content gated by intents).

        ``<@id>`` mentions in ``content`` are detected automatically; ``attachments`` are
        ``(filename, bytes)`` served back from the fake, so ``Attachment.read()`` works.
        ``message_type``: Discord's, for a notice it posts on a member's behalf (18: "started a
        thread", whose content is the thread's name); ``mentions``: users pinged without a
        ``<@id>`` in the text, as a reply pings the author of the message it replies to.
        """
        user, _guild, channel = self._interaction_context(author, None, channel)
        if not self._sessions:
            raise RuntimeError("the bot is not connected (no gateway session); await fake.wait_ready() first")
        files = [self._store_file(name, blob, "application/octet-stream") for name, blob in attachments]
        body: JSON = {"content": content}
        if reply_to is not None:
            ref = self._resolve_message(reply_to)
            body["message_reference"] = {"message_id": ref["id"], "channel_id": ref["channel_id"]}
        msg = self._new_message(channel, user, body, files, extra_mentions=mentions, msg_type=message_type)
        self._store_message(msg, channel)
        dispatched = Dispatched("MESSAGE_CREATE", msg, time.monotonic())
        self.dispatched.append(dispatched)
        await self._dispatch_message_event("MESSAGE_CREATE", msg, channel)
        return dispatched

    async def edit_message(self, message: MessageRef, content: str) -> Dispatched:
        """The author edits their message: dispatches MESSAGE_UPDATE with the whole message, as
        Discord does, ``edited_timestamp`` set and ``mentions`` found again in the new text
        (content gated by intents like MESSAGE_CREATE)."""
        msg = self._resolve_message(message)
        if int(msg["author"]["id"]) == self.bot_user.id:
            raise ValueError("the bot edits its own messages over REST, not as a user action")
        msg["content"] = content
        msg["mentions"] = [u.payload() for u in self._mentions_for(content, ())]
        msg["edited_timestamp"] = _iso_now()
        return await self._message_updated(msg)

    async def delete_message(self, message: MessageRef) -> Dispatched:
        """The author (or a moderator) deletes a message: dispatches MESSAGE_DELETE with its id,
        channel and guild only, as Discord does (no intent gates it)."""
        msg = self._resolve_message(message)
        channel = self.get_channel(int(msg["channel_id"]))
        if channel is None:
            raise LookupError(f"unknown channel {msg['channel_id']}")
        del self.messages[int(msg["id"])]
        data: JSON = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if msg.get("guild_id"):
            data["guild_id"] = msg["guild_id"]
        dispatched = Dispatched("MESSAGE_DELETE", data, time.monotonic())
        self.dispatched.append(dispatched)
        if self._bot_sees(channel):
            await self.dispatch("MESSAGE_DELETE", data, guild_id=channel.guild_id)
        return dispatched

    async def unfurl(self, message: MessageRef, embeds: Sequence[JSON]) -> Dispatched:
        """Discord adds link previews to a message a moment after it was posted: a MESSAGE_UPDATE
        with the whole message, the same content and ``edited_timestamp`` unchanged (the
        author edited nothing)."""
        msg = self._resolve_message(message)
        msg["embeds"] = [*(msg.get("embeds") or []), *map(copy.deepcopy, embeds)]
        return await self._message_updated(msg)

    async def _message_updated(self, msg: JSON) -> Dispatched:
        if not self._sessions:
            raise RuntimeError("the bot is not connected (no gateway session); await fake.wait_ready() first")
        channel = self.get_channel(int(msg["channel_id"]))
        if channel is None:
            raise LookupError(f"unknown channel {msg['channel_id']}")
        dispatched = Dispatched("MESSAGE_UPDATE", copy.deepcopy(msg), time.monotonic())
        self.dispatched.append(dispatched)
        await self._dispatch_message_event("MESSAGE_UPDATE", msg, channel)
        return dispatched

    async def send_webhook_message(
        self, channel: FakeChannel, content: str, *, name: str = "Captain Hook"
    ) -> Dispatched:
        """A channel webhook (an integration, not a member) posts a message.

        As on Discord: ``webhook_id`` is set, the author is the webhook itself
        (``bot: true``, discriminator ``0000``, no ``member``), and it is no user of the guild.
        """
        if not self._sessions:
            raise RuntimeError("the bot is not connected (no gateway session); await fake.wait_ready() first")
        webhook = FakeUser(self._snowflake(), name, bot=True)  # not in self.users: webhooks are not users
        msg = self._new_message(channel, webhook, {"content": content}, [])
        msg["author"]["discriminator"] = "0000"
        msg["webhook_id"] = str(webhook.id)
        self._store_message(msg, channel)
        dispatched = Dispatched("MESSAGE_CREATE", msg, time.monotonic())
        self.dispatched.append(dispatched)
        await self._dispatch_message_event("MESSAGE_CREATE", msg, channel)
        return dispatched
