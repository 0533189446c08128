"""Edited questions, for the study cog: a message edited soon after it was asked is answered
again, as a reader of the channel expects (a typo fixed, a question reworded).

- The bot's reply is edited in place into the answer to the new text, exactly as a new
  message with that text would be answered (embed, buttons); the 👍/👎 buttons then name
  the question logged for the new text, which marks the earlier one replaced (its votes stay
  with the answer they were cast on). New text that is no longer a question for the bot
  (chatter, emptied, the bot's mention taken out) deletes the reply, except that one still
  asked of the bot directly (a DM, an @mention) edited into chatter ("ok thanks") keeps it, and
  so does one someone else already voted on or clicked (`used_by_others`): it stays, with a line
  saying it answers an earlier version, and edits are no longer followed. A message the bot said
  nothing to that is edited into a question is answered like a new one.
- Only a change to the text as the bot reads it counts (`Reading.key`): Discord also sends
  MESSAGE_UPDATE when it adds a link preview, with the content and edit time unchanged.
  And only a change to the reply: an edit whose answer would look the same (`appearance`:
  text, embed, buttons; "what is adamw" → "what is adamw?", an @everyone added) leaves the
  reply and its 👍/👎 as they are, logs nothing and costs nothing.
- Only within `EDIT_WINDOW` of the message's creation.
- Limits: a message that was searched (paid for by its author's cooldown or, in a study
  channel, search allowance: study.py) is answered again without paying anew; its reply
  changes at most `REANSWERS` times, and its edits are searched at most `EDIT_SEARCHES`
  times. Past either, its edits are no longer followed: the last reply stays as it is (a
  good answer is never swapped for a notice, nor deleted) with a line under it saying so,
  once. Anything else (a message that was chatter, or came while its author was on
  cooldown) is a new question, under the cooldown.
- In a channel that is no longer a study channel, an edit changes nothing (the answer given
  there stands), unless the message asked the bot directly (an @mention is answered anywhere).
- A question deleted within `EDIT_WINDOW` takes the bot's reply with it (a reply to nothing,
  in a channel people read), unless someone else already voted on it or clicked it; later,
  the answer stays for whoever read it.
- What was said to which message is kept in memory and in the state database (asked.py), for
  `EDIT_WINDOW`: after a restart, edits and deletions of questions asked before it are handled
  as they were before it. A message it has no record of from before the restart is left alone
  (a reply to it may have gone out unrecorded), so nothing is ever answered twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import discord
from discord.ext import commands

from .. import render

log = logging.getLogger(__name__)
# Typos are fixed within seconds, and a question reworded after reading the answer within a
# minute or two. Later, people below have read and answered the reply: rewriting it then
# would change what their messages refer to (and the message map need keep no more).
EDIT_WINDOW = timedelta(minutes=5)
# Changes to one message's reply by its edits, on top of its first answer. The user's cooldown
# (or search allowance) paid for the message; typo fixes should not wait it out again. An edit
# that leaves the reply as it is (a "?" added, an @everyone) costs nothing; bounded per message,
# as each message needs paying for first, by EDIT_SEARCHES searches however the reply fares.
REANSWERS = 3
EDIT_SEARCHES = 10
# Added under the reply, which stays, when its question's edits stop being followed: the
# answer is still the right one for what was asked before, and readers keep it.
STOPPED_FOLLOWING = ("-# This answers an earlier version of the question: I've stopped following its edits. "
                     "Ask again in a new message.")
CONTENT_MAX = 2000


def appearance(fields: dict[str, Any] | None) -> tuple | None:
    """What a reply with these fields shows, to tell whether an edit changes it: its text, embed
    and buttons, the 👍/👎 aside (they name the logged question, not what is shown)."""
    if fields is None:
        return None
    embed, view = fields.get("embed"), fields.get("view")
    rows = []
    for row in view.to_components() if view is not None else []:
        kept = [c for c in row.get("components", []) if not str(c.get("custom_id", "")).startswith(
            render.FEEDBACK_PREFIX)]
        if kept:
            rows.append(kept)
    return fields.get("content") or "", embed.to_dict() if embed is not None else None, rows


class EditedQuestions:
    """The Study cog's handling of MESSAGE_UPDATE (mixed into it: see study.py)."""

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        # raw: discord.py's on_message_edit comes only for messages in its own cache
        message = payload.message
        try:
            await self.handle_edit(message)
        except Exception:
            log.exception("study edit failed (guild %s, channel %s, message %s)",
                          payload.guild_id, payload.channel_id, payload.message_id)

    async def handle_edit(self, message: discord.Message) -> bool:
        """Answer an edited message again; True if the bot's reply was sent, changed or deleted."""
        if message.edited_at is None:
            return False  # not edited by its author: a link preview added, a pin
        reading = self.read(message)
        if reading is None or self.bot.now() - message.created_at > EDIT_WINDOW:
            return False
        async with self.asked.lock(message.id):  # after the message's own answer, and earlier edits'
            earlier = await self.asked.recall(message.id, message.created_at.timestamp())
            if earlier is None:
                if not reading.asks or not self.asked.may_be_new(message.created_at.timestamp()):
                    return False
            elif earlier.reading == reading.key:
                return False  # the same question as the bot reads it
            elif reading.mentioned and not reading.question:
                # "ok thanks" typed over a question asked directly (Discord's ↑ edits the last message):
                # the answer stays; a hint or a "glad to help" in its place would only lose it.
                return False
            elif earlier.stopped:
                return False
            paid = earlier is not None and earlier.counted
            if paid and earlier.searches >= EDIT_SEARCHES:
                return await self.stop_following(message, earlier)
            outcome = await self.compose(message, reading, earlier,
                                         may_change=not (paid and earlier.reanswers >= REANSWERS))
            if outcome.elsewhere and (earlier is None or not earlier.reading[1]):
                # The channel is no longer a study channel: its answers stand as they were given.
                # (A reply to a direct @mention still goes when the edit takes the mention out.)
                return False
            reply_id = earlier.reply_id if earlier else None
            if outcome.limited and (reply_id is not None or outcome.reply is None):
                return False  # on cooldown: the earlier reply (a notice, say) stays
            look = appearance(outcome.reply)
            if earlier is not None and look == earlier.look:
                # the reply would be the same ("what is adamw" → "what is adamw?"): it stays, for free
                await self.remember(message, reading, outcome, reply_id, earlier, changed=False)
                return False
            if outcome.stopped or (paid and earlier.reanswers >= REANSWERS):
                # past the limit, a good answer is never swapped for a notice, nor deleted
                return await self.stop_following(message, earlier)
            if outcome.reply is None:
                if reply_id is None:  # nothing said before or now
                    await self.remember(message, reading, outcome, None, earlier)
                    return False
                if earlier.used_by_others:
                    # Others voted on it or clicked it: deleting it would pull it from under them (their
                    # vote, a 👎 menu or an answer a button opened for them). It stays, saying why.
                    return await self.stop_following(message, earlier)
                await self.delete_reply(message, reply_id)
                await self.remember(message, reading, outcome, None, earlier)
                return True
            if reply_id is not None:
                reply_id = await self.change_reply(message, reply_id, outcome.reply)
            if reply_id is None:  # none yet, or it was deleted meanwhile
                # an edit that took the cooldown ("@bot hi" edited into a question) gets it back if lost
                took = outcome.counted and not outcome.limited and not (earlier is not None and earlier.counted)
                reply_id = await self.reply(message, took_cooldown=took, **outcome.reply)
            await self.remember(message, reading, outcome, reply_id, earlier)
            return True

    async def stop_following(self, message: discord.Message, earlier) -> bool:
        """Follow the message's edits no more; the reply, if any, stays, with a line saying so
        under it. True if that line was added."""
        earlier.stopped = True
        await self.asked.keep(message.id, earlier)  # stopped for good, after a restart too
        if earlier.reply_id is None or earlier.look is None:
            return False
        content = earlier.look[0]
        content = f"{content}\n{STOPPED_FOLLOWING}" if content else STOPPED_FOLLOWING
        if len(content) > CONTENT_MAX:
            return False  # no room: say nothing rather than cut the reply
        reply = message.channel.get_partial_message(earlier.reply_id)
        try:  # the content only: the embed and buttons stay as they are
            await reply.edit(content=content, allowed_mentions=render.NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not edit reply %s in channel %s: %s", earlier.reply_id, message.channel.id, exc)
            return False
        return True

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A click or a vote on one of our replies by someone other than the asker: the reply is
        theirs too now, and an edit of the question no longer deletes it."""
        reply = interaction.message
        if interaction.type is not discord.InteractionType.component or reply is None or reply.reference is None:
            return  # our replies to questions are Discord replies: their reference names the question
        message_id = reply.reference.message_id
        if message_id is None:
            return
        async with self.asked.lock(message_id):  # not between an edit's reading and its remembering
            asked = await self.asked.recall(message_id, discord.utils.snowflake_time(message_id).timestamp())
            if asked is not None and asked.reply_id == reply.id and interaction.user.id != asked.author_id \
                    and not asked.used_by_others:
                asked.used_by_others = True
                await self.asked.keep(message_id, asked)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._deleted(payload.channel_id, [payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self._deleted(payload.channel_id, sorted(payload.message_ids))

    async def _deleted(self, channel_id: int, message_ids: list[int]) -> None:
        try:
            await self.handle_deleted(channel_id, message_ids)
        except Exception:
            log.exception("study delete failed (channel %s, messages %s)", channel_id, message_ids[:5])

    async def handle_deleted(self, channel_id: int, message_ids: list[int]) -> int:
        """Delete the replies to questions deleted within EDIT_WINDOW of being asked, except those
        someone else already used (their votes and clicks are on it); how many."""
        gone, deleted = set(message_ids), 0
        channel = self.bot.get_partial_messageable(channel_id)
        for message_id in message_ids:
            async with self.asked.lock(message_id):  # after its answer, if that is still being sent
                earlier = await self.asked.recall(message_id, discord.utils.snowflake_time(message_id).timestamp())
                if earlier is None:
                    continue
                await self.asked.drop(message_id)
                recent = self.bot.now().timestamp() - earlier.created <= EDIT_WINDOW.total_seconds()
                if earlier.reply_id is None or earlier.reply_id in gone or not recent or earlier.used_by_others:
                    continue
                try:
                    await channel.get_partial_message(earlier.reply_id).delete()
                    deleted += 1
                except discord.NotFound:
                    pass
                except discord.HTTPException as exc:
                    log.warning("could not delete reply %s in channel %s: %s", earlier.reply_id, channel_id, exc)
        return deleted

    async def change_reply(self, message: discord.Message, reply_id: int, fields: dict) -> int | None:
        """Edit the reply into `fields`, every other field cleared; its id, or None if it is gone."""
        reply = message.channel.get_partial_message(reply_id)
        try:
            await reply.edit(content=fields.get("content"), embed=fields.get("embed"), view=fields.get("view"),
                             allowed_mentions=render.NO_MENTIONS)
        except discord.NotFound:
            return None  # deleted meanwhile (by a moderator, say)
        except discord.HTTPException as exc:
            log.warning("could not edit reply %s in channel %s: %s", reply_id, message.channel.id, exc)
        return reply_id

    async def delete_reply(self, message: discord.Message, reply_id: int) -> None:
        try:
            await message.channel.get_partial_message(reply_id).delete()
        except discord.NotFound:
            pass
        except discord.HTTPException as exc:
            log.warning("could not delete reply %s in channel %s: %s", reply_id, message.channel.id, exc)
