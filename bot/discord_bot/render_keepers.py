"""What the glossary's keepers and a server's moderators read: the gaps report, usage
stats, server aliases, notes and their change log. Pure functions within Discord's limits."""

from __future__ import annotations

import discord

from ..glossary.gaps import Gap
from ..state.additions import Change
from ..state.feedback import UsageStats
from . import render

GAPS_SHOWN = 10


def _md(text: str, limit: int) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(render.clip(" ".join(text.split()), limit)))


def gaps_embed(gaps: list[Gap], days: int) -> discord.Embed:
    blocks = []
    for number, gap in enumerate(gaps[:GAPS_SHOWN], start=1):
        others = [q for q in gap.examples if q != gap.label][:2]
        lines = [f"**{number}. {_md(gap.label, 150)}** — {gap.askers} "
                 f"{'person' if gap.askers == 1 else 'people'}, asked {gap.asked}×"]
        lines += [f"  · {_md(q, 120)}" for q in others]
        lines.append(f"  nearest entries: {_md(', '.join(gap.nearest), 150)}" if gap.nearest
                     else "  no entry near it")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) or "Nothing unanswered: every question was answered and nobody voted 👎."
    embed = discord.Embed(title=f"Glossary gaps · last {days} days", colour=render.COLOUR,
                          description=render.clip(text, render.DESCRIPTION_MAX))
    more = f" · {len(gaps) - GAPS_SHOWN} more topics: glossary-bot gaps" if len(gaps) > GAPS_SHOWN else ""
    embed.set_footer(text=f"Questions refused, hedged or voted 👎, grouped by meaning{more}")
    return embed


def usage_embed(stats: UsageStats, days: int) -> discord.Embed:
    def share(n: int) -> str:
        return f"{n} ({n / stats.questions:.0%})" if stats.questions else "0"

    embed = discord.Embed(title=f"Glossary use · last {days} days", colour=render.COLOUR)
    embed.add_field(name="Questions and lookups", value=str(stats.questions))
    embed.add_field(name="Answered", value=share(stats.answered))
    embed.add_field(name="Hedged (did you mean)", value=share(stats.hedged))
    embed.add_field(name="Refused (not covered)", value=share(stats.refused))
    votes = stats.up + stats.down
    share = f" ({stats.up / votes:.0%} 👍)" if votes else ""
    embed.add_field(name="👍 / 👎", value=f"{stats.up} / {stats.down}{share}")
    top = "\n".join(f"{_md(term, 80)} — {count}" for term, count in stats.top_terms) or "none yet"
    embed.add_field(name="Most looked-up terms", value=render.clip(top, render.FIELD_VALUE_MAX), inline=False)
    return embed


def aliases_text(aliases: list[tuple[str, str]]) -> str:
    lines = [f"• {_md(alias, 60)} → {_md(term, 100)}" for alias, term in aliases]
    return render.clip("**This server's aliases**\n" + ("\n".join(lines) or "none yet"), render.CONTENT_MAX)


def notes_text(notes: list[tuple[str, str]]) -> str:
    lines = [f"• **{_md(term, 100)}**: {_md(note, 150)}" for term, note in notes]
    return render.clip("**This server's notes**\n" + ("\n".join(lines) or "none yet"), render.CONTENT_MAX)


def changes_text(changes: list[Change]) -> str:
    lines = [f"• {c.changed_at:%Y-%m-%d %H:%M} {_md(c.by_name, 40)}: {c.action} — {_md(c.detail, 120)}"
             for c in changes]
    return render.clip("**Recent changes to aliases and notes**\n" + ("\n".join(lines) or "none yet"),
                       render.CONTENT_MAX)
