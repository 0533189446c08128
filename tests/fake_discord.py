"""An in-process, loopback *fake Discord* for end-to-end tests of a discord.py bot.

Why this exists
---------------
Discord can never be reached from CI, yet the bugs that actually break bots live in
the glue between our code and Discord: a forgotten ``tree.sync()``, a reply that is
longer than 2000 characters, an interaction that is not acknowledged within three
seconds, a button whose ``custom_id`` was renamed, a reconnect that loses state.
Mocking discord.py objects does not catch those. This module instead runs a small
aiohttp server on ``127.0.0.1`` that speaks enough of Discord's REST API (v10) and
gateway protocol (JSON, optional ``zlib-stream``) that the *real, unmodified*
discord.py client logs in, connects, syncs commands and answers interactions
against it, exactly as it would in production.

Typical use (in-process)::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Study Group", channels=["general"])
        with discord_py_pointed_at(fake):
            bot = build_bot()
            runner = asyncio.create_task(bot.start("any-token"))
            await fake.wait_ready()
            await fake.wait_for_command_sync()
            inter = await fake.send_slash_command("ping")
            cb = await fake.wait_for_response(inter)
            assert cb.type == CallbackType.CHANNEL_MESSAGE
            await bot.close()
            await runner

For a bot running in a subprocess, pass ``fake.env()`` (``DISCORD_API_BASE``,
``DISCORD_GATEWAY_URL``, ``DISCORD_TOKEN``) to it instead of patching discord.py.

Realism on purpose (each can be relaxed with a constructor flag):

* interaction callbacks later than ``interaction_ack_timeout`` (3 s) get Discord's
  ``10062 Unknown interaction``; a second acknowledgement gets ``40060``;
* message bodies are validated against Discord's limits (content 2000, embeds, ...)
  and command syncs against naming/description rules, answering ``50035``;
* invoking a command that the bot never synced raises in the test (``strict_commands``);
* without the MESSAGE_CONTENT intent, ``MESSAGE_CREATE`` arrives with empty content
  unless the bot is mentioned or it is a DM (``enforce_message_content_intent``);
* the bot's own messages are echoed back as ``MESSAGE_CREATE`` (``echo_bot_messages``).

Every recorded item carries ``at = time.monotonic()`` of its arrival so tests can
assert on response latency (``callback.at - interaction.sent_at``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import json
import logging
import re
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeAlias, TypeVar

from aiohttp import WSMsgType, web

__all__ = [
    "API_VERSION",
    "CallbackType",
    "ComponentType",
    "Dispatched",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "GatewayEvent",
    "Intents",
    "InteractionType",
    "Permissions",
    "RecordedCallback",
    "RecordedCommandSync",
    "RecordedFollowup",
    "RecordedMessage",
    "RecordedRequest",
    "discord_py_pointed_at",
    "point_discord_py_at",
]

log = logging.getLogger(__name__)

JSON = dict[str, Any]
T = TypeVar("T")

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
#: Discord's default upload limit for non-boosted guilds; discord.py 2.7 requires the key.
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class Op(enum.IntEnum):
    """Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)."""

    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class InteractionType(enum.IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType(enum.IntEnum):
    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9
    LAUNCH_ACTIVITY = 12


class ComponentType(enum.IntEnum):
    ACTION_ROW = 1
    BUTTON = 2
    STRING_SELECT = 3
    TEXT_INPUT = 4
    USER_SELECT = 5
    ROLE_SELECT = 6
    MENTIONABLE_SELECT = 7
    CHANNEL_SELECT = 8
    LABEL = 18


class OptionType(enum.IntEnum):
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4


class Intents(enum.IntFlag):
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15

    @classmethod
    def privileged(cls) -> int:
        return int(cls.GUILD_MEMBERS | cls.GUILD_PRESENCES | cls.MESSAGE_CONTENT)


class Permissions(enum.IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38

    #: every permission bit discord.py 2.7 knows about (``discord.Permissions.all()``)
    ALL = 8866461766385663


#: what a freshly created guild grants ``@everyone`` (roughly Discord's default)
DEFAULT_EVERYONE_PERMISSIONS = int(
    Permissions.CREATE_INSTANT_INVITE
    | Permissions.ADD_REACTIONS
    | Permissions.VIEW_CHANNEL
    | Permissions.SEND_MESSAGES
    | Permissions.EMBED_LINKS
    | Permissions.ATTACH_FILES
    | Permissions.READ_MESSAGE_HISTORY
    | Permissions.USE_EXTERNAL_EMOJIS
    | Permissions.CONNECT
    | Permissions.SPEAK
    | Permissions.CHANGE_NICKNAME
    | Permissions.USE_APPLICATION_COMMANDS
    | Permissions.CREATE_PUBLIC_THREADS
    | Permissions.SEND_MESSAGES_IN_THREADS
)
#: what the bot's managed role gets (what a typical invite link would request)
DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | int(
    Permissions.MANAGE_MESSAGES | Permissions.MANAGE_THREADS | Permissions.MENTION_EVERYONE
)

MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7
MESSAGE_TYPE_DEFAULT = 0
MESSAGE_TYPE_REPLY = 19
MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20

#: application flags: presence/members/message-content intents "limited" (= allowed, <100 guilds)
DEFAULT_APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23)

_COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
_MENTION_RE = re.compile(r"<@!?(\d+)>")


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _sf(value: int | None) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- model


@dataclass(eq=False)
class FakeUser:
    """A Discord user as the fake knows it. ``payload()`` is the wire shape."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class FakeChannel:
    id: int
    name: str
    type: int = ChannelType.GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipients: list[FakeUser] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> JSON:
        if self.type == ChannelType.DM:
            return {
                "id": str(self.id),
                "type": self.type,
                "recipients": [u.payload() for u in self.recipients],
                "last_message_id": _sf(self.last_message_id),
                "flags": 0,
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": _sf(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": _sf(self.parent_id),
            "nsfw": False,
            "flags": 0,
        }
        if self.type == ChannelType.GUILD_TEXT:
            data.update(topic=self.topic, rate_limit_per_user=0, last_message_id=_sf(self.last_message_id))
        elif self.type == ChannelType.GUILD_VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0)
        return data


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_iso_now)

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,  # discord.py 2.7 indexes member['flags'] without .get
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)
    joined_at: str = field(default_factory=_iso_now)

    @property
    def default_role(self) -> FakeRole:
        """``@everyone`` shares the guild's id, as on Discord."""
        return next(r for r in self.roles if r.id == self.id)

    @property
    def text_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels if c.type == ChannelType.GUILD_TEXT]

    def channel(self, name: str) -> FakeChannel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel {name!r}")

    def role(self, name: str) -> FakeRole:
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(f"guild {self.name!r} has no role {name!r}")

    def member(self, user: FakeUser | int) -> FakeMember | None:
        return self.members.get(user if isinstance(user, int) else user.id)

    def permissions_for(self, user: FakeUser | int) -> int:
        """Guild-level permissions (channel overwrites are not modelled)."""
        user_id = user if isinstance(user, int) else user.id
        if user_id == self.owner_id:
            return int(Permissions.ALL)
        member = self.members.get(user_id)
        value = self.default_role.permissions
        if member is not None:
            for role in self.roles:
                if role.id in member.role_ids:
                    value |= role.permissions
        if value & Permissions.ADMINISTRATOR:
            return int(Permissions.ALL)
        return value

    def payload(self) -> JSON:
        """The full ``GUILD_CREATE`` payload.

        ``member_count == len(members)`` makes discord.py consider the guild chunked,
        so no REQUEST_GUILD_MEMBERS round trip is needed (it is answered anyway).
        """
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": _sf(self.text_channels[0].id) if self.text_channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in self.members.values()],
            "channels": [c.payload() for c in self.channels],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


# --------------------------------------------------------------------------- records


@dataclass
class Dispatched:
    """Something the fake sent to the bot over the gateway (a user action)."""

    event: str
    payload: JSON
    sent_at: float

    @property
    def id(self) -> int:
        return int(self.payload["id"])


@dataclass
class FakeInteraction(Dispatched):
    """An ``INTERACTION_CREATE`` the fake dispatched; pass it to the ``wait_for_*`` helpers."""

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def type(self) -> int:
        return int(self.payload["type"])

    @property
    def channel_id(self) -> int | None:
        value = self.payload.get("channel_id")
        return None if value is None else int(value)


@dataclass
class RecordedRequest:
    """Every REST request the bot made, for diagnostics and assertions."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    at: float


@dataclass
class RecordedCallback:
    """``POST /interactions/{id}/{token}/callback``; ``status != 200/204`` means Discord refused it."""

    interaction_id: int
    token: str
    type: int
    data: JSON | None
    at: float
    status: int
    error_code: int | None = None
    message: JSON | None = None
    interaction_sent_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def latency(self) -> float | None:
        """Seconds between dispatching the interaction and this callback arriving."""
        return None if self.interaction_sent_at is None else self.at - self.interaction_sent_at

    @property
    def content(self) -> str | None:
        return None if self.data is None else self.data.get("content")

    @property
    def embeds(self) -> list[JSON]:
        return list((self.data or {}).get("embeds") or [])

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices (callback type 8)."""
        return list((self.data or {}).get("choices") or [])


@dataclass
class RecordedMessage:
    """A message the *bot* created (channel post, interaction response or followup)."""

    message: JSON
    channel_id: int
    at: float
    source: str  # "channel" | "interaction" | "followup"
    interaction_id: int | None = None

    @property
    def id(self) -> int:
        return int(self.message["id"])

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def embeds(self) -> list[JSON]:
        return list(self.message.get("embeds") or [])


@dataclass
class RecordedFollowup:
    """A request on ``/webhooks/{app}/{token}...`` (followups and @original edits)."""

    method: str
    token: str
    interaction_id: int | None
    message_id: str | None  # "@original", a snowflake, or None for POST
    payload: JSON | None
    message: JSON | None
    at: float
    status: int


@dataclass
class RecordedCommandSync:
    guild_id: int | None
    commands: list[JSON]
    at: float


@dataclass
class GatewayEvent:
    """Gateway-level happenings: connect, identify, ready, resume, resumed, close, ..."""

    kind: str
    at: float
    detail: JSON = field(default_factory=dict)


#: anything identifying a message the bot sent: its payload, a record, or its id
MessageRef: TypeAlias = JSON | RecordedMessage | RecordedCallback | int


class FakeDiscordError(Exception):
    """A REST error answered in Discord's JSON error shape."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def _form_error(problems: Sequence[tuple[str, str, str]]) -> FakeDiscordError:
    """Build Discord's nested ``50035 Invalid Form Body`` from ``(path, code, message)``."""
    errors: JSON = {}
    for path, code, message in problems:
        node = errors
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return FakeDiscordError(400, 50035, "Invalid Form Body", errors)


# --------------------------------------------------------------------------- validation


def _validate_message_body(body: Mapping[str, Any], *, has_files: bool = False, partial: bool = False) -> None:
    """Enforce the Discord limits that bots most often trip over (raises 50035/50006)."""
    problems: list[tuple[str, str, str]] = []
    content = body.get("content")
    if content is not None and len(str(content)) > 2000:
        problems.append(("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."))
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."))
    total = 0
    limits = {"title": 256, "description": 4096}
    for i, embed in enumerate(embeds):
        for key, limit in limits.items():
            value = embed.get(key)
            if value is not None:
                total += len(value)
                if len(value) > limit:
                    problems.append(
                        (f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
                    )
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append((f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        for j, fld in enumerate(fields):
            name, value = str(fld.get("name", "")), str(fld.get("value", ""))
            total += len(name) + len(value)
            if not name or len(name) > 256:
                problems.append(
                    (f"embeds.{i}.fields.{j}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 256 in length.")
                )
            if not value or len(value) > 1024:
                problems.append(
                    (f"embeds.{i}.fields.{j}.value", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1024 in length.")
                )
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            total += len(footer)
            if len(footer) > 2048:
                problems.append((f"embeds.{i}.footer.text", "BASE_TYPE_MAX_LENGTH", "Must be 2048 or fewer in length."))
        author = (embed.get("author") or {}).get("name")
        if author:
            total += len(author)
            if len(author) > 256:
                problems.append((f"embeds.{i}.author.name", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."))
    if total > 6000:
        problems.append(("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"))
    components = body.get("components") or []
    flags = int(body.get("flags") or 0)
    if not flags & (1 << 15):  # classic (non components-v2) layout rules
        if len(components) > 5:
            problems.append(("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
        for i, row in enumerate(components):
            children = row.get("components") or []
            if row.get("type") == ComponentType.ACTION_ROW and len(children) > 5:
                problems.append((f"components.{i}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
    for path, comp in _walk_components(components):
        custom_id = comp.get("custom_id")
        if custom_id is not None and not 1 <= len(custom_id) <= 100:
            problems.append(
                (f"components.{path}.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            )
        label = comp.get("label")
        if comp.get("type") == ComponentType.BUTTON and label is not None and len(label) > 80:
            problems.append((f"components.{path}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."))
    if problems:
        raise _form_error(problems)
    if not partial and not (
        content or embeds or components or has_files or body.get("poll") or body.get("attachments")
    ):
        raise FakeDiscordError(400, 50006, "Cannot send an empty message")


def _validate_commands(commands: Sequence[Mapping[str, Any]]) -> None:
    """Reject command payloads the way Discord's bulk-overwrite endpoint would."""
    problems: list[tuple[str, str, str]] = []
    seen: set[tuple[str, int]] = set()
    if len(commands) > 110:
        problems.append(("_root", "BASE_TYPE_MAX_LENGTH", "Must be 110 or fewer in length."))

    def check_options(path: str, options: Sequence[Mapping[str, Any]]) -> None:
        if len(options) > 25:
            problems.append((f"{path}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        optional_seen = False
        for k, opt in enumerate(options):
            opath = f"{path}.options.{k}"
            name = str(opt.get("name", ""))
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                problems.append((f"{opath}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
            if not 1 <= len(str(opt.get("description", ""))) <= 100:
                problems.append(
                    (f"{opath}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                )
            if opt.get("type") in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
                check_options(opath, opt.get("options") or [])
                continue
            if opt.get("required"):
                if optional_seen:
                    problems.append(
                        (
                            opath,
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "Required options must be placed before non-required options",
                        )
                    )
            else:
                optional_seen = True
            if len(opt.get("choices") or []) > 25:
                problems.append((f"{opath}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))

    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        name = str(cmd.get("name", ""))
        if (name, ctype) in seen:
            problems.append(
                (
                    f"{i}.name",
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique ({name})",
                )
            )
        seen.add((name, ctype))
        if ctype == 1:
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                problems.append((f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
            if not 1 <= len(str(cmd.get("description", ""))) <= 100:
                problems.append((f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
            check_options(str(i), cmd.get("options") or [])
        elif not 1 <= len(name) <= 32:
            problems.append((f"{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."))
    if problems:
        raise _form_error(problems)


def _walk_components(
    components: Sequence[Mapping[str, Any]], prefix: str = ""
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield every component (classic rows and components-v2 containers/sections/labels)."""
    for i, comp in enumerate(components):
        path = f"{prefix}{i}"
        yield path, comp
        yield from _walk_components(comp.get("components") or [], f"{path}.components.")
        for key in ("component", "accessory"):
            child = comp.get(key)
            if isinstance(child, Mapping):
                yield from _walk_components([child], f"{path}.{key}.")


# --------------------------------------------------------------------------- gateway plumbing


class _Connection:
    """One accepted gateway websocket. Serialises sends because zlib-stream is stateful."""

    def __init__(self, ws: web.WebSocketResponse, *, path: str, compress: str | None, encoding: str) -> None:
        self.ws = ws
        self.path = path
        self.encoding = encoding
        self.compress = compress
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

    def __init__(self, session_id: str, *, intents: int, shard: tuple[int, int], token: str) -> None:
        self.session_id = session_id
        self.intents = intents
        self.shard = shard
        self.token = token
        self.seq = 0
        self.log: list[JSON] = []  # every dispatched frame, for RESUME replay
        self.conn: _Connection | None = None
        self.lock = asyncio.Lock()

    def wants_guild(self, guild_id: int | None) -> bool:
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % shard_count == shard_id


@dataclass
class _InteractionState:
    interaction: FakeInteraction
    channel_id: int | None
    guild_id: int | None
    user: FakeUser
    command_name: str | None = None
    acked_type: int | None = None
    original_message_id: int | None = None


# --------------------------------------------------------------------------- the fake


class FakeDiscord:
    """Loopback fake of Discord's REST API v10 + gateway for the real discord.py client.

    Use as ``async with FakeDiscord() as fake: ...``. Build the world with the sync
    ``add_*`` methods (ideally before the bot connects), act as users with the async
    ``send_*``/``click_button``/``select``/``submit_modal`` methods, and assert with the
    recorded lists or the ``wait_for_*`` helpers.
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
        """
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_ack_timeout = interaction_ack_timeout
        self.strict_commands = strict_commands
        self.enforce_message_content_intent = enforce_message_content_intent
        self.echo_bot_messages = echo_bot_messages
        self.approved_privileged_intents = approved_privileged_intents
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
        self.presence_updates: list[JSON] = []
        self.errors: list[BaseException] = []  # bugs inside the fake itself

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
            "DISCORD_TOKEN": self.token or "fake-token",
        }

    # ------------------------------------------------------------------ world building

    def _snowflake(self) -> int:
        """Time-based, strictly increasing ids (so discord.py's created_at is sensible)."""
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(value, self._last_snowflake + 1)
        return self._last_snowflake

    def add_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> FakeUser:
        user = FakeUser(self._snowflake(), username, bot=bot, global_name=global_name)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Study Group",
        *,
        owner: FakeUser | None = None,
        channels: Sequence[str] = ("general",),
        members: Sequence[FakeUser] = (),
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> FakeGuild:
        """Create a guild containing the bot (with a managed role), its owner and ``members``.

        Added after the bot connected, it is announced with GUILD_CREATE (a "join").
        """
        owner = owner or self.owner
        guild = FakeGuild(self._snowflake(), name, owner.id)
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

    def add_role(self, guild: FakeGuild, name: str, *, permissions: int = 0) -> FakeRole:
        role = FakeRole(self._snowflake(), name, permissions, len(guild.roles))
        guild.roles.append(role)
        self._dispatch_soon_if_live(
            "GUILD_ROLE_CREATE", guild.id, lambda: {"guild_id": str(guild.id), "role": role.payload()}
        )
        return role

    def add_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        type: int = ChannelType.GUILD_TEXT,
        topic: str | None = None,
        parent: FakeChannel | None = None,
    ) -> FakeChannel:
        channel = FakeChannel(
            self._snowflake(), name, type, guild.id, len(guild.channels), topic, parent.id if parent else None
        )
        guild.channels.append(channel)
        self._dispatch_soon_if_live("CHANNEL_CREATE", guild.id, channel.payload)
        return channel

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self._snowflake(), "", ChannelType.DM, None, recipients=[user])
            self.dm_channels[user.id] = channel
        return channel

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        for guild in self.guilds.values():
            for channel in guild.channels:
                if channel.id == channel_id:
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

    @property
    def connected(self) -> bool:
        return any(c.live and not c.ws.closed for c in self._connections)

    def synced_commands(self, guild: FakeGuild | int | None = None) -> list[JSON]:
        gid = guild.id if isinstance(guild, FakeGuild) else guild
        return list(self.commands.get(gid, {}).values())

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

    async def _record_gateway(self, kind: str, **detail: Any) -> None:
        self.gateway_events.append(GatewayEvent(kind, time.monotonic(), detail))
        await self._notify()

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
            self.presence_updates.append(data or {})
            await self._record_gateway("presence", **(data or {}))
        else:
            await self._record_gateway("op", op=op)

    async def _on_identify(self, conn: _Connection, data: JSON) -> None:
        token = str(data.get("token", ""))
        intents = int(data.get("intents", 0))
        shard_raw = data.get("shard") or [0, 1]
        shard = (int(shard_raw[0]), int(shard_raw[1]))
        await self._record_gateway("identify", intents=intents, shard=list(shard))
        if self.token is not None and token != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        approved = self.approved_privileged_intents
        if approved is not None and intents & Intents.privileged() & ~approved:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        # a fresh IDENTIFY replaces the previous session of that shard
        for sid, old in list(self._sessions.items()):
            if old.shard == shard:
                del self._sessions[sid]
        session = _Session(secrets.token_hex(16), intents=intents, shard=shard, token=token)
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
        await self._record_gateway("ready", session_id=session.session_id, guilds=len(guilds))

    def _guild_create_for(self, session: _Session, guild: FakeGuild) -> JSON:
        """Without GUILD_MEMBERS, Discord only sends the bot's own member in GUILD_CREATE."""
        data = guild.payload()
        if not session.intents & Intents.GUILD_MEMBERS:
            data["members"] = [m for m in data["members"] if int(m["user"]["id"]) == self.bot_user.id]
        return data

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
                member=member.payload(permissions=guild.permissions_for(user)),
                app_permissions=str(guild.permissions_for(self.bot_user)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
            payload["channel"]["permissions"] = str(guild.permissions_for(user))
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
        self._interactions[interaction.id] = _InteractionState(
            interaction, interaction.channel_id, guild.id if guild else None, user, command_name
        )
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
        self, name: str, options: Mapping[str, Any] | None, guild: FakeGuild | None, *, focused: str | None = None
    ) -> JSON:
        parts = name.split()
        command, command_guild = self._find_command(parts[0], guild)
        if command is None and self.strict_commands:
            known = sorted({c["name"] for g in self.commands.values() for c in g.values()})
            raise LookupError(f"/{parts[0]} was never synced by the bot (synced: {known}); Discord would not show it")
        schema: list[JSON] | None = command.get("options") if command is not None else None
        resolved: JSON = {}
        top_options = self._build_options(schema, dict(options or {}), resolved, guild, focused, parts[1:])
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
                sub_schema.get("options") if sub_schema else None, values, resolved, guild, focused, sub_path[1:]
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
                option["value"] = self._option_value(value, resolved, guild)
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

    def _option_value(self, value: Any, resolved: JSON, guild: FakeGuild | None) -> Any:
        if isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            member = guild.member(value) if guild else None
            if member is not None and guild is not None:
                resolved.setdefault("members", {})[str(value.id)] = member.payload(
                    with_user=False, permissions=guild.permissions_for(value)
                )
            return str(value.id)
        if isinstance(value, FakeChannel):
            chan = value.payload()
            chan["permissions"] = str(Permissions.ALL)
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
        data = self._build_command_data(name, options, guild)
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
        data = self._build_command_data(name, options, guild, focused=focused)
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
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        user, guild, channel = self._interaction_context(user, guild, channel)
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
        channel = self.get_channel(state.channel_id) if state.channel_id else None
        guild = self.guilds.get(state.guild_id) if state.guild_id else None
        user, guild, channel = self._interaction_context(user or state.user, guild, channel)

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
    ) -> Dispatched:
        """A user posts a message: dispatches MESSAGE_CREATE (content gated by intents).

        ``<@id>`` mentions in ``content`` are detected automatically; ``attachments`` are
        ``(filename, bytes)`` served back from the fake, so ``Attachment.read()`` works.
        """
        user, _guild, channel = self._interaction_context(author, None, channel)
        if not self._sessions:
            raise RuntimeError("the bot is not connected (no gateway session); await fake.wait_ready() first")
        files = [self._store_file(name, blob, "application/octet-stream") for name, blob in attachments]
        body: JSON = {"content": content}
        msg = self._new_message(channel, user, body, files, extra_mentions=mentions)
        if reply_to is not None:
            ref = self._resolve_message(reply_to)
            msg.update(
                type=MESSAGE_TYPE_REPLY,
                message_reference={
                    "type": 0,
                    "message_id": ref["id"],
                    "channel_id": ref["channel_id"],
                    "guild_id": ref.get("guild_id"),
                },
                referenced_message=copy.deepcopy(ref),
            )
        self._store_message(msg, channel)
        dispatched = Dispatched("MESSAGE_CREATE", msg, time.monotonic())
        self.dispatched.append(dispatched)
        await self._dispatch_message_event("MESSAGE_CREATE", msg, channel)
        return dispatched

    # ------------------------------------------------------------------ messages

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

    def _mentions_for(self, content: str, guild: FakeGuild | None, extra: Sequence[FakeUser]) -> list[FakeUser]:
        found: dict[int, FakeUser] = {u.id: u for u in extra}
        for match in _MENTION_RE.finditer(content):
            user = self.users.get(int(match.group(1)))
            if user is not None:
                found.setdefault(user.id, user)
        return list(found.values())

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
        mentions = self._mentions_for(content, guild, extra_mentions)
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
            "mention_roles": [],
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

    async def _dispatch_message_event(self, event: str, msg: JSON, channel: FakeChannel) -> None:
        if int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL:
            return  # ephemeral messages never reach the gateway
        for session in self._sessions_for(channel.guild_id):
            await self._dispatch_to(session, event, self._gateway_message(msg, session))

    async def _echo(self, event: str, msg: JSON, channel: FakeChannel) -> None:
        if self.echo_bot_messages:
            await self._dispatch_message_event(event, msg, channel)

    def _apply_edit(self, msg: JSON, body: Mapping[str, Any], files: list[JSON]) -> None:
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
            guild = self.guilds.get(int(msg["guild_id"])) if msg.get("guild_id") else None
            msg["mentions"] = [u.payload() for u in self._mentions_for(msg["content"], guild, ())]

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
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
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
            "default_member_permissions": cmd.get("default_member_permissions"),
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
            if state is None or state.interaction.token != token:
                raise FakeDiscordError(404, 10062, "Unknown interaction")
            if (
                self.interaction_ack_timeout is not None
                and now - state.interaction.sent_at > self.interaction_ack_timeout
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
        channel = self.get_channel(state.channel_id) if state.channel_id else None
        if channel is None:
            raise FakeDiscordError(404, 10003, "Unknown Channel")
        if cb_type == CallbackType.CHANNEL_MESSAGE:
            _validate_message_body(data, has_files=bool(files))
            msg_type = (
                MESSAGE_TYPE_CHAT_INPUT_COMMAND
                if state.interaction.type == InteractionType.APPLICATION_COMMAND
                else MESSAGE_TYPE_DEFAULT
            )
            msg = self._new_message(channel, self.bot_user, data, files, msg_type=msg_type, webhook=True)
            self._add_interaction_metadata(msg, state)
            return await self._commit_bot_message(msg, channel, "interaction", state)
        if cb_type == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags = MESSAGE_FLAG_LOADING | (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)
            msg_type = (
                MESSAGE_TYPE_CHAT_INPUT_COMMAND
                if state.interaction.type == InteractionType.APPLICATION_COMMAND
                else MESSAGE_TYPE_DEFAULT
            )
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
            channel = self.get_channel(state.channel_id) if state.channel_id else None
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
        msg = self._new_message(channel, self.bot_user, body, files)
        return await self._commit_bot_message(msg, channel, "channel", None)

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


def _json_response(data: Any, status: int) -> web.Response:
    """JSON with ``Content-Type: application/json`` *exactly* (no charset suffix)."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


# --------------------------------------------------------------------------- discord.py wiring


def point_discord_py_at(fake: FakeDiscord) -> Callable[[], None]:
    """Point the (process-global) discord.py endpoints at ``fake``; returns ``restore()``.

    discord.py 2.7.1 builds REST URLs from ``discord.http.Route.BASE`` (a ``str`` class
    attribute, read when each ``Route`` is created) and connects to
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL``) unless a
    resume URL is known. Webhook/interaction routes reuse ``discord.http.Route``.
    """
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore


@contextlib.contextmanager
def discord_py_pointed_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Context-manager form of :func:`point_discord_py_at` (restores on exit)."""
    restore = point_discord_py_at(fake)
    try:
        yield fake
    finally:
        restore()
