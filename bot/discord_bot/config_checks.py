"""What an admin's choices need from Discord, said in words an admin can act on: the bot's
permissions in a study channel (a forum's posts, a channel's threads) and in the daily channel,
channels and roles that no longer exist, and a role the bot may not give. Pure reads of
discord.py's cache, shared by `/glossary config` (cogs/admin.py) and its `show`."""

from __future__ import annotations

import discord

from ..state import GuildConfig


# What the bot needs in a study channel to answer (a reply is a message that quotes the question:
# Read Message History) and in the daily channel to post; discord.py's attribute, Discord's name.
VIEW = ("view_channel", "View Channel")
STUDY_NEEDS = (VIEW, ("send_messages", "Send Messages"), ("embed_links", "Embed Links"),
               ("read_message_history", "Read Message History"))
IN_THREADS = ("send_messages_in_threads", "Send Messages in Threads")
FORUM_NEEDS = (VIEW, IN_THREADS, ("embed_links", "Embed Links"), ("read_message_history", "Read Message History"))
DAILY_NEEDS = (VIEW, ("send_messages", "Send Messages"), ("embed_links", "Embed Links"))


def missing_permissions(channel, needs) -> list[str]:
    """The permissions in `needs` the bot lacks in `channel` (overwrites included), by their names
    in Discord's settings; [] when it has them all or the client cannot tell (not cached)."""
    me = channel.guild.me if channel.guild is not None else None
    if me is None:
        return []
    perms = channel.permissions_for(me)
    if VIEW in needs and not perms.view_channel:
        return [VIEW[1]]  # nothing else counts (or can be told) in a channel the bot cannot see
    return [name for attribute, name in needs if not getattr(perms, attribute)]


def named_together(names: list[str]) -> str:
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def study_problem(channel) -> str | None:
    """What keeps the bot from answering in study channel `channel`, in words an admin can act on."""
    if isinstance(channel, discord.ForumChannel):
        missing = missing_permissions(channel, FORUM_NEEDS)
        where = f"the posts of {channel.mention}"
    else:
        missing = missing_permissions(channel, STUDY_NEEDS)
        where = channel.mention
        if not missing and (threads := missing_permissions(channel, (IN_THREADS,))):
            return (f"⚠️ I can't answer in threads of {channel.mention}: I need {named_together(threads)} there "
                    "(channel settings → Permissions → my role).")
    if not missing:
        return None
    return (f"⚠️ I can't answer in {where} yet: I need {named_together(missing)} there (channel settings → "
            "Permissions → my role). Until then questions there get no answer.")


def daily_problem(channel) -> str | None:
    """What keeps the bot from posting the term of the day in `channel`."""
    missing = missing_permissions(channel, DAILY_NEEDS)
    if not missing:
        return None
    return (f"⚠️ I can't post in {channel.mention} yet: I need {named_together(missing)} there "
            "(channel settings → Permissions → my role), or the term of the day fails.")


def daily_channel_problem(guild: discord.Guild | None, channel_id: int) -> str | None:
    """`daily_problem` for the daily channel by id; a channel that no longer exists says so."""
    if guild is None:
        return None  # cannot tell from here
    channel = guild.get_channel(channel_id)
    if channel is None:
        return (f"⚠️ The daily channel <#{channel_id}> no longer exists: choose another with "
                "`/glossary config daily-channel`.")
    return daily_problem(channel)


def configured_channel_problems(guild: discord.Guild | None, config: GuildConfig) -> list[str]:
    """`study_problem` and `daily_problem` for the channels a server's settings name now."""
    if guild is None:
        return []
    problems = []
    for channel_id in config.study_channels:
        channel = guild.get_channel(channel_id)
        if channel is None:
            problems.append(f"⚠️ Study channel <#{channel_id}> no longer exists.")
        elif problem := study_problem(channel):
            problems.append(problem)
    if config.daily_enabled and config.daily_channel_id:
        if problem := daily_channel_problem(guild, config.daily_channel_id):
            problems.append(problem)
    return problems


def configured_role_problems(guild: discord.Guild, config: GuildConfig) -> list[str]:
    """The roles a server's settings name that no longer exist: Discord shows such a mention as
    "@deleted-role", which says neither what it was for nor what to do."""
    roles = ((config.quiz_role_id, "quiz role", "quiz-role", "only Manage Messages and Manage Server may start "
              "quiz rounds"),
             (config.champion_role_id, "champion role", "champion-role", "nobody gets it"),
             (config.editor_role_id, "editor role", "editor-role", "only Manage Server may edit aliases and notes"))
    return [f"⚠️ The {name} <@&{role_id}> no longer exists, so {meaning}: choose another with "
            f"`/glossary config {command}`." for role_id, name, command, meaning in roles
            if role_id and guild.get_role(role_id) is None]


def champion_role_problem(guild: discord.Guild | None, role: discord.Role) -> str | None:
    """Why the bot could not give `role`, in words an admin can act on; None if it can."""
    me = guild.me if guild is not None else None
    if me is None:
        return None  # cannot tell from here; a failure later is shown in /glossary config show
    if role.is_default():
        return "@everyone is every member's role: it cannot be given to one."
    if role.managed:
        return f"{role.mention} is managed by Discord or an integration, so nobody can give it."
    if not (me.guild_permissions.manage_roles or me.guild_permissions.administrator):
        return f"I need the **Manage Roles** permission to give {role.mention}."
    if role >= me.top_role:
        return f"my own role must be above {role.mention} in the server's role list (Server Settings → Roles)."
    return None
