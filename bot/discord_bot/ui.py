"""Shared Discord plumbing: persistent buttons, timed searches, safe replies.

Buttons carry their whole state in the custom id (`gloss:show:<term>`,
`gloss:page:<n>:<term>`), so they keep working after a restart: a
`DynamicItem` with a regex template catches them, and views we send are made
of such items only, so discord.py stores no per-message state for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from . import render

if TYPE_CHECKING:
    from .bot import GlossaryBot

log = logging.getLogger(__name__)
T = TypeVar("T")
RESPOND_WITHIN = 2.0  # seconds a search may take before we defer (Discord allows 3)


class GlossButton(discord.ui.DynamicItem[discord.ui.Button], template=r"gloss:(?P<kind>show|page):(?P<rest>.*)"):
    """Any of our buttons, on any message, before or after a restart."""

    def __init__(self, custom_id: str, *, label: str | None = None,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary, row: int | None = None) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id, label=label, style=style, row=row))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> GlossButton:
        return cls(item.custom_id or match.group(0), label=item.label, style=item.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        parsed = render.parse_custom_id(self.item.custom_id or "")
        cog = interaction.client.get_cog("Lookup") if isinstance(interaction.client, discord.Client) else None
        if parsed is None or cog is None:
            await safe_reply(interaction, "That button no longer works.", ephemeral=True)
            return
        try:
            await cog.on_button(interaction, *parsed)
        except Exception:
            log.exception("button %r failed (user %s, guild %s)", self.item.custom_id,
                          interaction.user.id, interaction.guild_id)
            await safe_reply(interaction, "Something went wrong.", ephemeral=True)


def dynamic_view(view: discord.ui.View) -> discord.ui.View:
    """The same buttons as `view`, as persistent `GlossButton`s."""
    out = discord.ui.View(timeout=None)
    for child in view.children:
        if isinstance(child, discord.ui.Button) and child.custom_id and render.parse_custom_id(child.custom_id):
            out.add_item(GlossButton(child.custom_id, label=child.label, style=child.style, row=child.row))
    return out


async def run_timed(interaction: discord.Interaction, func: Callable[..., T], *args: Any,
                    limit: float = RESPOND_WITHIN) -> tuple[T, bool]:
    """Run `func` off the loop; defer the interaction if it takes longer than `limit`.

    Returns (result, deferred).
    """
    task = asyncio.ensure_future(asyncio.to_thread(func, *args))
    done, _ = await asyncio.wait({task}, timeout=limit)
    if done:
        return task.result(), False
    await interaction.response.defer(thinking=True, ephemeral=False)
    return await task, True


async def respond(interaction: discord.Interaction, deferred: bool, *, ephemeral: bool = False, **kwargs: Any) -> None:
    """Answer an interaction that may have been deferred; never pings anyone."""
    kwargs.setdefault("allowed_mentions", render.NO_MENTIONS)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if not deferred and not interaction.response.is_done():
        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
        return
    if ephemeral:
        # the public "thinking…" placeholder would otherwise become the answer
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(ephemeral=ephemeral, **kwargs)


async def safe_reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Best-effort short message; swallows Discord errors (used from error paths)."""
    if interaction.type == discord.InteractionType.autocomplete:
        return
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=render.NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=render.NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not send %r: %s", text, exc)


def searcher_of(bot: GlossaryBot):
    if bot.searcher is None:
        raise RuntimeError("the glossary is not loaded yet")
    return bot.searcher
