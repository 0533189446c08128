"""The fake's world and records: enums, constants, users/guilds/channels, recorded traffic."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeAlias, TypeVar

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
    GUILD_ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15


#: channel types whose messages live in a thread of a parent channel
THREAD_TYPES = frozenset({ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD})
#: channel types that hold messages of their own (a forum holds only threads, a category nothing)
MESSAGE_TYPES = frozenset({ChannelType.GUILD_TEXT, ChannelType.DM, ChannelType.GUILD_VOICE,
                           ChannelType.GUILD_ANNOUNCEMENT, *THREAD_TYPES})


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
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38

    #: every permission bit discord.py 2.7 knows about (``discord.Permissions.all()``)
    ALL = 8866461766385663
    #: the bits that mean something in a channel (``discord.Permissions.all_channel()``): what a
    #: member who cannot see a channel loses there
    ALL_CHANNEL = 8555290110197585


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
_ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _sf(value: int | None) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- model


@dataclass(eq=False)
class FakeUser:
    """A Discord user as the fake knows it. ``payload()`` is the wire shape.

    ``accepts_dms=False`` is a user who blocked the bot or turned off DMs from server
    members: the bot can still open the DM channel, but posting in it gets 403 ``50007``.
    """

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    accepts_dms: bool = True

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

    @property
    def rank(self) -> tuple[int, int]:
        """Discord's hierarchy order: higher position wins, then the older (smaller) id."""
        return (self.position, -self.id)

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


@dataclass
class FakeOverwrite:
    """A channel's permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    ROLE: ClassVar[int] = 0
    MEMBER: ClassVar[int] = 1

    def payload(self) -> JSON:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(eq=False)
class FakeChannel:
    """A guild channel, a thread or a DM. ``overwrites`` are the channel's permission
    overwrites (a thread has none: it follows its parent's); ``owner_id`` is a thread's creator."""

    id: int
    name: str
    type: int = ChannelType.GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipients: list[FakeUser] = field(default_factory=list)
    last_message_id: int | None = None
    overwrites: list[FakeOverwrite] = field(default_factory=list)
    owner_id: int | None = None
    created_at: str = field(default_factory=_iso_now)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> JSON:
        if self.type == ChannelType.DM:
            return {
                "id": str(self.id),
                "type": self.type,
                "recipients": [u.payload() for u in self.recipients],
                "last_message_id": _sf(self.last_message_id),
                "flags": 0,
            }
        if self.is_thread:  # no position or overwrites of its own; thread_metadata instead
            return {
                "id": str(self.id),
                "type": self.type,
                "guild_id": _sf(self.guild_id),
                "parent_id": _sf(self.parent_id),
                "owner_id": _sf(self.owner_id),
                "name": self.name,
                "last_message_id": _sf(self.last_message_id),
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "applied_tags": [],
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": self.created_at,
                    "locked": False,
                    "create_timestamp": self.created_at,
                },
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": _sf(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "parent_id": _sf(self.parent_id),
            "nsfw": False,
            "flags": 0,
        }
        if self.type in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            data.update(topic=self.topic, rate_limit_per_user=0, last_message_id=_sf(self.last_message_id))
        elif self.type == ChannelType.GUILD_FORUM:
            data.update(
                topic=self.topic,
                rate_limit_per_user=0,
                last_message_id=_sf(self.last_message_id),  # the newest post (thread)
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_thread_rate_limit_per_user=0,
                default_auto_archive_duration=1440,
            )
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
    threads: list[FakeChannel] = field(default_factory=list)  # active threads (forum posts too)
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

    def member(self, user: FakeUser | int) -> FakeMember | None:
        return self.members.get(user if isinstance(user, int) else user.id)

    def get_role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def top_role(self, user: FakeUser | int) -> FakeRole:
        """The member's highest role (``@everyone`` if none), as role hierarchy checks use it."""
        member = self.member(user)
        held = [r for r in self.roles if member is not None and r.id in member.role_ids]
        return max(held, key=lambda r: r.rank, default=self.default_role)

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        """A channel or an active thread of this guild."""
        return next((c for c in (*self.channels, *self.threads) if c.id == channel_id), None)

    def permissions_for(self, user: FakeUser | int, channel: FakeChannel | None = None) -> int:
        """Guild-level permissions, or with ``channel`` what Discord computes there: the
        @everyone overwrite, then the member's roles' (denies, then allows), then the member's
        own; a thread follows its parent's overwrites. Implicitly, who cannot see a channel has
        no permission in it, and who cannot send there (Send Messages, or in a thread Send
        Messages in Threads) cannot embed links, attach files, mention @everyone or use TTS."""
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
        if channel is None or channel.guild_id != self.id:
            return value
        source = self.get_channel(channel.parent_id) if channel.is_thread and channel.parent_id else channel
        overwrites = {(o.type, o.id): o for o in (source.overwrites if source is not None else [])}
        everyone = overwrites.get((FakeOverwrite.ROLE, self.id))
        if everyone is not None:
            value = (value & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.role_ids if member is not None else []:
            overwrite = overwrites.get((FakeOverwrite.ROLE, role_id))
            if overwrite is not None:
                allow, deny = allow | overwrite.allow, deny | overwrite.deny
        value = (value & ~deny) | allow
        own = overwrites.get((FakeOverwrite.MEMBER, user_id))
        if own is not None:
            value = (value & ~own.deny) | own.allow
        sends = Permissions.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permissions.SEND_MESSAGES
        if not value & sends:
            value &= ~int(Permissions.SEND_TTS_MESSAGES | Permissions.MENTION_EVERYONE | Permissions.EMBED_LINKS
                          | Permissions.ATTACH_FILES)
        if not value & Permissions.VIEW_CHANNEL:
            value &= ~int(Permissions.ALL_CHANNEL)
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
            "threads": [t.payload() for t in self.threads],
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


@dataclass
class _InteractionState:
    interaction: FakeInteraction
    user: FakeUser
    command_name: str | None = None
    acked_type: int | None = None
    original_message_id: int | None = None
