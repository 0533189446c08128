"""What the glossary's keepers and a server's moderators read: the gaps report, usage
stats, server aliases, notes and their change log. Pure functions within Discord's limits."""

from __future__ import annotations

from datetime import UTC

import discord

from ..glossary.gaps import Gap
from ..glossary.normalize import storable
from ..state.additions import Change, alias_key
from ..state.feedback import UsageStats
from . import render

GAPS_SHOWN = 10
LIST_PREFIX = "gloss:keep:"  # a page button of a server's list of aliases or notes (the admin cog's)
LISTS = ("aliases", "notes")
KIND_COMMAND = {"aliases": "alias add", "notes": "note set"}
LINES_PER_PAGE = 50  # a page read at a glance; 200 short aliases take four
NOTE_PREVIEW = 150  # of a note's 500 characters: its gist, the whole shows under the entry


def _md(text: str, limit: int) -> str:
    # (storable: rows kept before such characters were dropped on the way in)
    return discord.utils.escape_mentions(discord.utils.escape_markdown(
        render.clip(" ".join(storable(text).split()), limit)))


def _gap_block(number: int, gap: Gap, examples: int) -> str:
    others = [q for q in gap.examples if q != gap.label][:examples]
    lines = [f"**{number}. {_md(gap.label, 150)}** — {gap.askers} "
             f"{'person' if gap.askers == 1 else 'people'}, asked {gap.asked}×"]
    lines += [f"  · {_md(q, 120)}" for q in others]
    lines.append(f"  nearest entries: {_md(', '.join(gap.nearest), 150)}" if gap.nearest else "  no entry near it")
    return "\n".join(lines)


def period(days: int, kept: int | None = None) -> str:
    """"last 30 days"; a span longer than the log keeps is said as what it covers."""
    if kept is not None and days > kept:
        return f"last {kept} days (all the log keeps)"
    return f"last {days} day{'s' if days != 1 else ''}"


def gaps_embed(gaps: list[Gap], days: int, kept: int | None = None) -> discord.Embed:
    """The top topics, each whole: escaped text can be twice as long as typed, so long pasted
    questions fit fewer; a topic's other wordings go before the topic does, and the footer counts
    every topic not shown."""
    blocks: list[str] = []
    room = render.DESCRIPTION_MAX
    for number, gap in enumerate(gaps[:GAPS_SHOWN], start=1):
        block = next((b for b in (_gap_block(number, gap, n) for n in (2, 0)) if len(b) + 2 <= room), None)
        if block is None:
            break
        blocks.append(block)
        room -= len(block) + 2
    text = "\n\n".join(blocks) or "Nothing unanswered: every question was answered and nobody voted 👎."
    embed = discord.Embed(title=f"Glossary gaps · {period(days, kept)}", colour=render.COLOUR, description=text)
    left = len(gaps) - len(blocks)
    more = f" · {left} more topic{'s' if left != 1 else ''}: glossary-bot gaps" if left else ""
    embed.set_footer(text=f"Questions refused, hedged or voted 👎, grouped by meaning{more}")
    return embed


def usage_embed(stats: UsageStats, days: int, kept: int | None = None) -> discord.Embed:
    def share(n: int) -> str:
        return f"{n} ({n / stats.questions:.0%})" if stats.questions else "0"

    embed = discord.Embed(title=f"Glossary use · {period(days, kept)}", colour=render.COLOUR)
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


def list_custom_id(kind: str, page: int) -> str:
    """A page button of /glossary alias list or note list: the list is read afresh on each click,
    so the id needs only which list and which page (and works after a restart)."""
    return f"{LIST_PREFIX}{kind}:{page}"


def parse_list_custom_id(custom_id: str) -> tuple[str, int] | None:
    """("aliases" or "notes", page) of a list's page button; None for ids that are not one."""
    kind, _, page = custom_id.removeprefix(LIST_PREFIX).partition(":")
    if custom_id.startswith(LIST_PREFIX) and kind in LISTS and page.isascii() and page.isdigit():
        return kind, int(page)
    return None


def _pages(lines: list[str], limit: int) -> list[range]:
    """The lines of each page: whole lines, at most LINES_PER_PAGE, joined within `limit` characters."""
    pages, start, used = [], 0, -1
    for number, line in enumerate(lines):
        if number > start and (number - start >= LINES_PER_PAGE or used + 1 + len(line) > limit):
            pages.append(range(start, number))
            start, used = number, -1
        used += 1 + len(line)
    pages.append(range(start, len(lines)))
    return pages


def _list_page(kind: str, title: str, lines: list[str], gone: list[bool], fix: str,
               page: int) -> tuple[discord.Embed, discord.ui.View]:
    """One page of a server's list, with ◀ ▶ to the others. The fix for a ⚠ row shows on a page
    that has one; the footer says on which other pages the rest are, so none goes unnoticed."""
    pages = _pages(lines, render.DESCRIPTION_MAX - len(fix) - 2)  # room for the fix on any page
    page = max(0, min(page, len(pages) - 1))
    shown = pages[page]
    text = "\n".join(lines[i] for i in shown) or f"None yet: `/glossary {KIND_COMMAND[kind]}` adds one."
    if any(gone[i] for i in shown):
        text += "\n\n" + fix
    embed = discord.Embed(title=f"{title} ({len(lines)})" if lines else title, colour=render.COLOUR,
                          description=text)
    footer = []
    if len(pages) > 1:
        footer.append(f"Page {page + 1} of {len(pages)} · {kind} {shown.start + 1}–{shown.stop} of {len(lines)}")
    elsewhere = [str(n + 1) for n, rows in enumerate(pages) if n != page and any(gone[i] for i in rows)]
    if elsewhere:
        also = "more " if any(gone[i] for i in shown) else ""
        footer.append(f"{also}⚠ on page{'s' if len(elsewhere) > 1 else ''} {', '.join(elsewhere)}")
    if footer:
        embed.set_footer(text=" · ".join(footer))
    view = discord.ui.View(timeout=None)
    if page > 0:
        view.add_item(discord.ui.Button(label="◀ Previous page", custom_id=list_custom_id(kind, page - 1),
                                        style=discord.ButtonStyle.primary))
    if page < len(pages) - 1:
        view.add_item(discord.ui.Button(label="Next page ▶", custom_id=list_custom_id(kind, page + 1),
                                        style=discord.ButtonStyle.primary))
    return embed, view


def aliases_page(aliases: list[tuple[str, str, str | None]], page: int = 0,
                 shadowed: dict[str, str] | None = None) -> tuple[discord.Embed, discord.ui.View]:
    """(alias, the entry's name when it was made, the entry's name now or None) per alias; `shadowed`:
    the aliases that the glossary itself has since given to an entry (alias → that entry's name)."""
    shadowed = shadowed or {}
    lines = [f"• {_md(alias, 60)} → {_md(term, 100)}{_now_called(term, now)}"
             + (f" ⚠ the glossary's own **{_md(shadowed[alias], 100)}** has this name now"
                if alias in shadowed and now is not None else "") for alias, term, now in aliases]
    gone = any(now is None for *_, now in aliases)
    taken = any(alias in shadowed and now is not None for alias, _, now in aliases)
    fix = ("⚠ No glossary entry has that name now, so the alias finds nothing: `/glossary alias remove` it, or "
           "add it again for the entry it should find." if not taken else
           "⚠ The glossary has since given the alias's name to an entry of its own, which the name finds "
           "instead: `/glossary alias remove` it." if not gone else
           "⚠ The alias finds nothing now: no glossary entry has that name any more, or the glossary gave the "
           "alias's name to an entry of its own, which it finds instead. `/glossary alias remove` it, or add "
           "it again for the entry it should find.")
    return _list_page("aliases", "This server's aliases", lines,
                      [now is None or alias in shadowed for alias, _, now in aliases], fix, page)


def notes_page(notes: list[tuple[str, str, str | None]], page: int = 0) -> tuple[discord.Embed, discord.ui.View]:
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
        lines.append(f"• **{_md(term, 100)}**{mark}: {_md(note, NOTE_PREVIEW)}")
    return _list_page("notes", "This server's notes", lines, [now is None for *_, now in notes],
                      "⚠ No glossary entry has that name now, so the note shows nowhere: `/glossary note remove` it, "
                      "or set it again on the entry it belongs to.", page)


def _matching(names: list[tuple[str, ...]], typed: str) -> list[int]:
    """Which rows have a name holding what is typed (as a lookup compares names): those whose first
    name is what is typed first, then those it starts, then the rest."""
    key = alias_key(typed)
    keys = [[alias_key(name) for name in row] for row in names]
    found = [i for i, row in enumerate(keys) if any(key in k for k in row)]
    return sorted(found, key=lambda i: (keys[i][0] != key, not keys[i][0].startswith(key)))


def _choice(name: str, value: str) -> discord.app_commands.Choice[str]:
    # plain text, a choice shows no markdown; no control or bidi characters to reorder it
    name = " ".join("".join(c if c.isprintable() else " " for c in name).split())
    return discord.app_commands.Choice(name=render.clip(name, render.CHOICE_NAME_MAX), value=render.clip(value, 100))


def alias_choices(aliases: list[tuple[str, str]], typed: str, term_now) -> list[discord.app_commands.Choice[str]]:
    """`/glossary alias remove`'s autocomplete: the server's aliases matching what is typed, in the
    alias or in the entry it finds, each with that entry's name now (term_now, ⚠ for none)."""
    found = _matching(aliases, typed)
    choices = []
    for alias, term in (aliases[i] for i in found[:render.CHOICES_MAX]):
        now = term_now(term)
        choices.append(_choice(f"{alias} → {now or term}{'' if now else ' ⚠'}", alias))
    return choices


def note_choices(notes: list[tuple[str, str]], typed: str, term_now) -> list[discord.app_commands.Choice[str]]:
    """`/glossary note remove`'s autocomplete: the server's notes whose entry's name (as stored, or
    now: term_now) holds what is typed, each with the start of its note."""
    nows = [term_now(term) for term, _ in notes]
    found = _matching([(term, now or "") for (term, _), now in zip(notes, nows)], typed)
    choices = []
    for i in found[:render.CHOICES_MAX]:
        (term, note), now = notes[i], nows[i]
        called = term if now == term else f"{term} ⚠" if now is None else f"{term} (now {now})"
        choices.append(_choice(f"{called}: {note}", term))
    return choices


def changes_text(changes: list[Change]) -> str:
    """The change log, its times as Discord timestamps (each reader sees their own time zone), as many
    whole lines as fit."""
    text = "**Recent changes to aliases and notes**"
    for c in changes:
        at = c.changed_at if c.changed_at.tzinfo else c.changed_at.replace(tzinfo=UTC)
        line = f"\n• <t:{int(at.timestamp())}:f> {_md(c.by_name, 40)}: {c.action} — {_md(c.detail, 120)}"
        if len(text) + len(line) > render.CONTENT_MAX:
            break
        text += line
    return text if changes else text + "\nnone yet"
