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


def _now_called(term: str, now: str | None) -> str:
    """What became of the entry a stored name stands for, after a rebuild renamed or dropped it."""
    if now is None:
        return " ⚠"
    return "" if now == term else f" (now **{_md(now, 100)}**)"


def _listed(title: str, lines: list[str], gone: bool, fix: str) -> str:
    text = title + "\n" + ("\n".join(lines) or "none yet")
    if gone:  # the fix goes last, where a list cut short to fit still shows it
        return render.clip(text, render.CONTENT_MAX - len(fix) - 1) + "\n" + fix
    return render.clip(text, render.CONTENT_MAX)


def aliases_text(aliases: list[tuple[str, str, str | None]]) -> str:
    """(alias, the entry's name when it was made, the entry's name now or None) per alias."""
    lines = [f"• {_md(alias, 60)} → {_md(term, 100)}{_now_called(term, now)}" for alias, term, now in aliases]
    return _listed("**This server's aliases**", lines, any(now is None for *_, now in aliases),
                   "⚠ No glossary entry has that name now, so the alias finds nothing: `/glossary alias remove` "
                   "it, or add it again for the entry it should find.")


def notes_text(notes: list[tuple[str, str, str | None]]) -> str:
    """(the entry's name when the note was set, note, the entry's name now or None) per note. An entry
    shows one note: the one under its own name, else the first under an earlier name of it."""
    shown = {now: term for term, _, now in notes if now == term}
    for term, _, now in notes:
        if now is not None:
            shown.setdefault(now, term)
    lines = []
    for term, note, now in notes:
        mark = _now_called(term, now)
        if now is not None and shown[now] != term:
            mark = f" (now **{_md(now, 100)}**, which shows another of the notes)"
        lines.append(f"• **{_md(term, 100)}**{mark}: {_md(note, 150)}")
    return _listed("**This server's notes**", lines, any(now is None for *_, now in notes),
                   "⚠ No glossary entry has that name now, so the note shows nowhere: `/glossary note remove` it, "
                   "or set it again on the entry it belongs to.")


def changes_text(changes: list[Change]) -> str:
    lines = [f"• {c.changed_at:%Y-%m-%d %H:%M} {_md(c.by_name, 40)}: {c.action} — {_md(c.detail, 120)}"
             for c in changes]
    return render.clip("**Recent changes to aliases and notes**\n" + ("\n".join(lines) or "none yet"),
                       render.CONTENT_MAX)
