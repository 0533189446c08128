"""An in-process, loopback *fake Discord* for end-to-end tests of a discord.py bot.

Why this exists
---------------
Discord can never be reached from CI, yet the bugs that actually break bots live in
the glue between our code and Discord: a forgotten ``tree.sync()``, a reply that is
longer than 2000 characters, an interaction that is not acknowledged within three
seconds, a button whose ``custom_id`` was renamed, a reconnect that loses state.
Mocking discord.py objects does not catch those. This package instead runs a small
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
* the bot's own messages are echoed back as ``MESSAGE_CREATE`` (``echo_bot_messages``);
* a user's ``edit_message`` and Discord's link preview (``unfurl``) arrive as ``MESSAGE_UPDATE``
  with the whole message, ``edited_timestamp`` set only by the edit; an edit by the bot that
  would leave a message empty gets ``50006``; a user's ``delete_message`` arrives as
  ``MESSAGE_DELETE`` (ids only);
* a user added with ``accepts_dms=False`` refuses the bot's DMs (403 ``50007``);
* ``Member.add_roles``/``remove_roles`` need MANAGE_ROLES and a role below the bot's top
  role (403 ``50013``); ``add_role`` puts roles at the bottom, below the bot's, like Discord;
* channels carry their permission overwrites (``set_permissions``, CHANNEL_UPDATE), and
  ``app_permissions``, a member's and a resolved channel's permissions are the channel's;
  the bot hears no messages from a channel it cannot see, and posting needs what Discord
  needs (View Channel ``50001``; Send Messages, or Send Messages in Threads, and Embed Links
  for embeds without text ``50013``; Read Message History for a reply ``160002``; a forum
  takes no messages ``50008``); a channel option offers only its ``channel_types``;
* text, announcement, forum and voice channels (``add_channel(type=...)``), threads
  (``add_thread``) and forum posts (``create_forum_post``: a thread whose first message has
  its id) arrive as THREAD_CREATE; ``delete_channel`` sends CHANNEL_DELETE.

Sharding as on Discord (see :mod:`.sharding`): IDENTIFY's ``shard`` decides which guilds a
session hears about (``(guild_id >> 22) % shard_count``; DMs go to shard 0), so an
``AutoShardedClient``, or several processes that split the shards, work against one fake;
``add_guild(shard=k, shard_count=n)`` places guilds, ``identify_violations()`` checks pacing.

Every recorded item carries ``at = time.monotonic()`` of its arrival so tests can
assert on response latency (``callback.at - interaction.sent_at``).

Faults on purpose (for resilience tests):

* ``fail_next(method, path_regex, status, ...)`` answers matching REST requests with a
  429 (``retry_after``, ``X-RateLimit-*`` headers, optionally global), a 5xx, or a
  403/404 with a Discord error code, ``times`` times; see :mod:`.faults`;
* ``drop_next(method, path_regex)`` closes the connection of matching REST requests
  unanswered (discord.py raises aiohttp's ``ServerDisconnectedError``);
* ``force_close(code)``, ``send_invalid_session()``, ``send_reconnect()`` break the
  gateway (RESUME, or a fresh IDENTIFY); ``force_close(4004)`` is "Authentication failed".

Layout: ``models`` (enums, world, records), ``validation`` (Discord's limits),
``core`` (:class:`FakeDiscord`: lifecycle, world building, waiting, inspection),
``gateway``, ``actions`` (what users do), ``messages`` and ``rest`` (the REST API),
``faults`` (injected failures), ``sharding`` (shards, IDENTIFY rate limits),
``wiring`` (pointing discord.py at the fake).
"""

from .core import FakeDiscord
from .faults import Fault
from .models import (
    API_VERSION,
    CallbackType,
    ChannelType,
    ComponentType,
    Dispatched,
    FakeChannel,
    FakeDiscordError,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeOverwrite,
    FakeRole,
    FakeUser,
    GatewayEvent,
    Intents,
    InteractionType,
    MessageRef,
    Op,
    OptionType,
    Permissions,
    RecordedCallback,
    RecordedCommandSync,
    RecordedFollowup,
    RecordedMessage,
    RecordedRequest,
)
from .sharding import IdentifyViolation
from .wiring import discord_py_pointed_at, point_discord_py_at, run_checked

__all__ = [
    "API_VERSION",
    "CallbackType",
    "ChannelType",
    "ComponentType",
    "Dispatched",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeOverwrite",
    "FakeRole",
    "FakeUser",
    "Fault",
    "GatewayEvent",
    "IdentifyViolation",
    "Intents",
    "InteractionType",
    "MessageRef",
    "Op",
    "OptionType",
    "Permissions",
    "RecordedCallback",
    "RecordedCommandSync",
    "RecordedFollowup",
    "RecordedMessage",
    "RecordedRequest",
    "discord_py_pointed_at",
    "point_discord_py_at",
    "run_checked",
]
