"""Search results → Discord embeds and button views, always within Discord's limits.

Pure functions of their inputs (no network, no client): every text that
reaches Discord is clipped or split here, user text is escaped, and every
message goes out with `AllowedMentions.none()` so nothing can ping anyone.
"""

from __future__ import annotations

import re

import discord

from ..glossary.normalize import acknowledges, storable
from ..glossary.results import SIDE_BY_SIDE_MAX
from ..glossary.search import Related, SearchResult
from ..glossary.store import StoredEntry
from ..present import MATCH_LABELS

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FIELD_NAME_MAX = 256
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
LABEL_MAX = 80
CUSTOM_ID_MAX = 100
BUTTONS_PER_ROW = 5
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100

SHOW_PREFIX = "gloss:show:"
PAGE_PREFIX = "gloss:page:"
FEEDBACK_PREFIX = "gloss:fb:"  # 👍 / 👎 on an answer, handled by the Feedback cog
SERVER_NOTE = "📝 Note from this server (not from the glossary)"
ANOTHER_SENSE = "Another sense"
NOT_IN_GLOSSARY = "Not in the glossary"
SENSE_MAX = 300  # its note is one sentence; a long line in the senses file must not crowd the embed's 6,000
REVIEW_ADD_PREFIX = "gloss:rev:add:"  # handled by the Review cog (render_study)
ADD_TO_REVIEW = "📚 Add to my review"
NO_MENTIONS = discord.AllowedMentions.none()

# Said to the bot with nothing to look up ("hi", a bare mention, "thanks!"): a hint, or a welcome.
ASK_ME = "Ask me about a term, e.g. “what is attention?”, or use /define."
WELCOME = "Glad to help! Ask me about another term any time."


def to_chatter(text: str) -> str:
    """The reply to a message or an /ask with nothing to look up: never "the glossary doesn't cover
    “thanks!”"."""
    return WELCOME if acknowledges(text) else ASK_ME
COLOUR = discord.Colour.blurple()
EMPTY_QUERY_TEXT = "Type a term or a question, e.g. “attention” or “what does LoRA do?”."
# Echoed user text loses control characters (NUL, escape sequences) and the
# bidirectional embeddings/overrides/isolates, which would otherwise reorder the
# rest of our own message around them.
_UNECHOED = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters at a word boundary, saying so with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


# A link as Discord makes one of bare text; in <…> it is not unfurled into a preview card.
_LINK = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


# What Discord's client shows otherwise than it sends: a mention (<@123>, <@&123>, <#123>), a custom
# emoji (<:blobthink:1122…>) and a code fence, echoed as markup once (QA74).
_DISCORD_MARKUP = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:(\w+):\d+>|```(?:[\w+-]+(?=\n))?")


def _as_typed(match: re.Match) -> str:
    return f":{match.group(1)}:" if match.group(1) else " "


def escape_user_text(text: str, limit: int = 200) -> str:
    """User input echoed back: one line, no control characters, no markdown, no mentions, bounded
    length, and no link previews: a link in a question refused in public was unfurled under the
    bot's own message (an invite as a Join card)."""
    text = " ".join(_UNECHOED.sub(" ", _DISCORD_MARKUP.sub(_as_typed, text)).split())
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return _LINK.sub(lambda m: f"<{m.group(0)}>", clip(text, limit))


# Pairs Discord reads as markup in what the glossary writes as plain text: nn.Module's "__init__"
# came out as an underlined "init". (One character more each: pages keep a margin for them.)
_MARKUP_PAIRS = re.compile(r"__|\*\*|~~|\|\||`")


def glossary_text(text: str) -> str:
    """The glossary's plain text as Discord shows it as written: its markup pairs escaped."""
    return _MARKUP_PAIRS.sub(lambda m: "".join("\\" + c for c in m.group(0)), text)


def split_pages(text: str, limit: int = DESCRIPTION_MAX - 100) -> list[str]:
    """Split a definition into pages at paragraph, then word boundaries; each page as Discord shows
    the glossary's text (`glossary_text`)."""
    pages: list[str] = []
    current = ""
    for paragraph in text.split("\n"):
        candidate = f"{current}\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pages.append(current)
        while len(paragraph) > limit:
            cut = paragraph.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pages.append(paragraph[:cut].rstrip())
            paragraph = paragraph[cut:].lstrip()
        current = paragraph
    if current or not pages:
        pages.append(current)
    return [glossary_text(page) for page in pages]


def show_custom_id(term: str) -> str:
    return (SHOW_PREFIX + term)[:CUSTOM_ID_MAX]


def page_custom_id(term: str, page: int) -> str:
    prefix = f"{PAGE_PREFIX}{page}:"
    return (prefix + term)[:CUSTOM_ID_MAX]


def parse_custom_id(custom_id: str) -> tuple[str, str, int] | None:
    """("show", term, 0) or ("page", term, n); None for ids that are not ours."""
    if custom_id.startswith(SHOW_PREFIX):
        return "show", custom_id[len(SHOW_PREFIX):], 0
    if custom_id.startswith(PAGE_PREFIX):
        page, _, term = custom_id[len(PAGE_PREFIX):].partition(":")
        if page.isascii() and page.isdigit():  # ("²".isdigit() is true, and int() refuses it)
            return "page", term, int(page)
    return None


def entry_embed(entry: StoredEntry, how: str | None = None, page: int = 0,
                others: list[StoredEntry] | None = None, note: str | None = None,
                sense: str = "", lacking: str = "") -> discord.Embed:
    pages = split_pages(entry.definition)
    page = max(0, min(page, len(pages) - 1))
    embed = discord.Embed(title=clip(entry.term, TITLE_MAX), description=pages[page], colour=COLOUR)
    if sense:  # the glossary's sense of the name typed is not the usual one (senses.py)
        text = discord.utils.escape_mentions(discord.utils.escape_markdown(sense))
        embed.add_field(name=ANOTHER_SENSE, value=clip(text, SENSE_MAX), inline=False)
    if lacking:  # "The glossary has no entry for “alibi”.": the rest of what the message asked about
        text = discord.utils.escape_mentions(discord.utils.escape_markdown(lacking))
        embed.add_field(name=NOT_IN_GLOSSARY, value=clip(text, FIELD_VALUE_MAX), inline=False)
    if others:
        names = " · ".join(discord.utils.escape_markdown(clip(e.term, 100)) for e in others)
        embed.add_field(name="Other matches", value=clip(names, FIELD_VALUE_MAX), inline=False)
    if note:  # the server's, never the glossary's: labelled as such
        embed.add_field(name=SERVER_NOTE, value=clip(discord.utils.escape_mentions(storable(note)), FIELD_VALUE_MAX),
                        inline=False)
    footer = "From the glossary"
    if how:
        footer = f"Matched by {MATCH_LABELS.get(how, how)} · from the glossary"
    if len(pages) > 1:
        footer += f" · page {page + 1}/{len(pages)}"
    embed.set_footer(text=clip(footer, FOOTER_MAX))
    return embed


def _show_buttons(terms: list[str], row: int | None = None, taken: set[str] | None = None,
                  style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> list[discord.ui.Button]:
    """A button per term, at most one row; Discord refuses a message that repeats a custom
    id, so terms that share one (the same name, or names alike in their first 89 characters,
    or a button already on the message: `taken`) get a single button."""
    buttons: list[discord.ui.Button] = []
    taken = taken if taken is not None else set()
    for term in terms:
        custom_id = show_custom_id(term)
        if custom_id in taken:
            continue
        taken.add(custom_id)
        buttons.append(discord.ui.Button(label=clip(term, LABEL_MAX), custom_id=custom_id, style=style, row=row))
        if len(buttons) == BUTTONS_PER_ROW:
            break
    return buttons


def entry_view(entry: StoredEntry, related: list[Related], page: int = 0,
               others: list[StoredEntry] | None = None) -> discord.ui.View:
    """Other matches (blue, first row) and related terms (grey), at most 5 buttons a row,
    then paging when the definition is long and "📚 Add to my review"."""
    view = discord.ui.View(timeout=None)
    taken = {show_custom_id(entry.term)}
    rows = 0
    for terms, style in (([e.term for e in others or []], discord.ButtonStyle.primary),
                         ([item.entry.term for item in related], discord.ButtonStyle.secondary)):
        buttons = _show_buttons(terms, row=rows, taken=taken, style=style)
        for button in buttons:
            view.add_item(button)
        rows += bool(buttons)
    for button in _page_buttons(entry, page, len(split_pages(entry.definition))):
        button.row = rows
        view.add_item(button)
    view.add_item(discord.ui.Button(label=ADD_TO_REVIEW, custom_id=(REVIEW_ADD_PREFIX + entry.term)[:CUSTOM_ID_MAX],
                                    style=discord.ButtonStyle.secondary, row=rows))
    return view


def _page_buttons(entry: StoredEntry, page: int, pages: int) -> list[discord.ui.Button]:
    """◀ Previous page / Next page ▶, as far as there are pages."""
    buttons = []
    if page > 0:
        buttons.append(discord.ui.Button(label="◀ Previous page", custom_id=page_custom_id(entry.term, page - 1),
                                         style=discord.ButtonStyle.primary))
    if page < pages - 1:
        buttons.append(discord.ui.Button(label="Next page ▶", custom_id=page_custom_id(entry.term, page + 1),
                                         style=discord.ButtonStyle.primary))
    return buttons


def turn_page(entry: StoredEntry, page: int, shown: discord.Embed,
              rows: list[discord.ActionRow]) -> tuple[discord.Embed, discord.ui.View]:
    """The message on screen at another page of its entry: the definition and the page
    buttons change; everything else it carries (other matches, a server's note, related
    terms, 👍/👎, "Add to my review") stays as it was."""
    pages = split_pages(entry.definition)
    page = max(0, min(page, len(pages) - 1))
    embed = shown.copy()
    embed.description = pages[page]
    footer = (shown.footer.text or "From the glossary").split(" · page ")[0]
    embed.set_footer(text=clip(f"{footer} · page {page + 1}/{len(pages)}", FOOTER_MAX))
    paging = _page_buttons(entry, page, len(pages))
    view = discord.ui.View(timeout=None)
    paging_row = None
    for number, row in enumerate(rows):
        kept = []
        for item in row.children:
            custom_id = getattr(item, "custom_id", None)
            if not isinstance(item, discord.Button) or not custom_id:
                continue
            if custom_id.startswith(PAGE_PREFIX):
                paging_row = number
            else:
                kept.append(discord.ui.Button(label=item.label, custom_id=custom_id, style=item.style))
        if paging_row == number:
            kept = paging + kept
        for button in kept:
            button.row = number
            view.add_item(button)
    return embed, view


def with_feedback(view: discord.ui.View, question_id: int | None) -> discord.ui.View:
    """👍 / 👎 for a logged question, on the last row if it has room, else a row of their own."""
    if question_id is None:
        return view
    last = max((child.row or 0 for child in view.children), default=-1)
    on_last = sum(1 for child in view.children if (child.row or 0) == last)
    row = last if last >= 0 and on_last <= BUTTONS_PER_ROW - 2 else last + 1
    for vote, label in (("up", "👍"), ("down", "👎")):
        view.add_item(discord.ui.Button(label=label, custom_id=f"{FEEDBACK_PREFIX}{vote}:{question_id}",
                                        style=discord.ButtonStyle.secondary, row=row))
    return view


def suggestions_view(entries: list[StoredEntry]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in _show_buttons([entry.term for entry in entries]):
        view.add_item(button)
    return view


def _escaped(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def not_found_text(query: str, result: SearchResult) -> str:
    shown = escape_user_text(query, 200)
    if not shown:  # only spaces, control characters or nothing at all
        return EMPTY_QUERY_TEXT
    if result.note:  # nothing to look up in it, for one ("ok but why?")
        return clip(_escaped(result.note), CONTENT_MAX)
    hints = ", ".join(clip(h.entry.term, 80) for h in result.hints)
    text = f"The glossary doesn't cover “{shown}”."
    if hints:
        text += f" Nearest terms: {discord.utils.escape_markdown(hints)}."
    return clip(text, CONTENT_MAX)


def suggest_text(query: str, entries: list[StoredEntry] | None = None, *, far: bool = False,
                 note: str = "", lacking: bool = False) -> str:
    """The "did you mean" message: the candidates with the first line of each, to pick by button;
    `far` (none of them near the question, SearchResult.far) says the glossary may not cover it;
    a search's `note` comes first (a question in another language: the bot reads English)."""
    shown = escape_user_text(query, 200)
    if note:  # the note says what the reply is about; "may not cover" still says how far the offers are
        # (it may quote the user: "The glossary has no entry for “NF4”.")
        # (`lacking`: the note says the glossary has no entry for what was asked, so no "may not cover")
        opener = "Closest entries:" if far and lacking else "The glossary may not cover it. Closest entries:" if far \
            else "Did you mean:"
        text = f"{_escaped(note)}\n{opener}"
    elif far:
        text = (f"The glossary may not cover “{shown}”. Closest entries:" if shown
                else "The glossary may not cover that. Closest entries:")
    else:
        text = f"Not sure which entry “{shown}” is about, if any. Did you mean:" if shown else "Did you mean:"
    for entry in entries or []:
        first = " ".join(entry.definition.split("\n", 1)[0].split())
        term, line = (discord.utils.escape_mentions(discord.utils.escape_markdown(clip(t, n)))
                      for t, n in ((entry.term, 100), (first, 160)))
        item = f"\n• **{term}** — {line}"
        if len(text) + len(item) > CONTENT_MAX:  # a whole line or none: a clip could cut inside **…**
            break
        text += item
    return clip(text, CONTENT_MAX)


SIDE_BY_SIDE_FOOTER = "From the glossary · press a name to read it with its related terms"


UNSHOWN_FIELD = "Also asked (no room here: press one, or ask about it on its own)"


def side_by_side_embed(entries: list[StoredEntry], others: list[StoredEntry] | None = None,
                       unshown: list[StoredEntry] | None = None, note: str = "") -> discord.Embed:
    """The entries a message asks about together ("lora vs qlora"), a field each with its definition
    (clipped at a word when long: its button shows the whole), those asked about that did not fit
    (more than a row of buttons) and any other close entry by name; the definitions share what
    Discord's 6,000 characters leave."""
    unshown = [*entries[SIDE_BY_SIDE_MAX:], *(unshown or [])]
    entries = entries[:SIDE_BY_SIDE_MAX]
    embed = discord.Embed(title=clip(" · ".join(e.term for e in entries), TITLE_MAX), colour=COLOUR,
                          description=escape_user_text(note, SENSE_MAX) if note else None)
    embed.set_footer(text=SIDE_BY_SIDE_FOOTER)
    lists = [(name, clip(" · ".join(discord.utils.escape_markdown(clip(e.term, 100)) for e in listed), FIELD_VALUE_MAX))
             for name, listed in ((UNSHOWN_FIELD, unshown), ("Other matches", others or [])) if listed]
    names = [clip(e.term, FIELD_NAME_MAX) for e in entries]
    room = EMBED_TOTAL_MAX - len(embed) - sum(map(len, names)) - sum(len(n) + len(v) for n, v in lists)
    each = min(FIELD_VALUE_MAX, room // max(1, len(entries)))
    for name, entry in zip(names, entries):
        embed.add_field(name=name, value=clip(glossary_text(entry.definition.strip()), each) or "—", inline=False)
    for name, value in lists:
        embed.add_field(name=name, value=value, inline=False)
    return embed


def side_by_side_view(entries: list[StoredEntry], others: list[StoredEntry] | None = None,
                      unshown: list[StoredEntry] | None = None) -> discord.ui.View:
    """A button per entry set side by side (blue), then one per entry asked about that did not fit
    and per other match (grey), a row each."""
    view = discord.ui.View(timeout=None)
    taken: set[str] = set()
    rows = (([e.term for e in entries[:SIDE_BY_SIDE_MAX]], discord.ButtonStyle.primary),
            ([e.term for e in [*entries[SIDE_BY_SIDE_MAX:], *(unshown or [])]], discord.ButtonStyle.secondary),
            ([e.term for e in others or []], discord.ButtonStyle.secondary))
    row = 0
    for terms, style in rows:
        buttons = _show_buttons(terms, row=row, taken=taken, style=style)
        for button in buttons:
            view.add_item(button)
        row += bool(buttons)
    return view


def side_by_side(result: SearchResult) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons for the entries a result's question asks about together (`asked`)."""
    entries, others = [h.entry for h in result.asked], [h.entry for h in result.beside_asked]
    unshown = list(result.unshown)
    return side_by_side_embed(entries, others, unshown, result.note), side_by_side_view(entries, others, unshown)


def choice_name(entry: StoredEntry) -> str:
    return clip(entry.term, CHOICE_NAME_MAX)


def related_embed(entry: StoredEntry, related: list[Related]) -> discord.Embed:
    """`/related`: the related terms of one entry and why each is related."""
    lines = [f"**{discord.utils.escape_markdown(clip(r.entry.term, 100))}** — {r.reason}" for r in related]
    description = clip("\n".join(lines) or "No related terms found.", DESCRIPTION_MAX)
    embed = discord.Embed(title=clip(f"Related to {entry.term}", TITLE_MAX), description=description, colour=COLOUR)
    embed.set_footer(text="Press a button to read a term")
    return embed


# Without the Message Content intent Discord sends a study channel's messages without their text,
# except those that @mention the bot: an admin who adds a channel must not be left wondering.
NO_MESSAGE_CONTENT = ("⚠️ This bot runs without the Message Content intent, so in study channels it answers only "
                      "messages that @mention it. Its host can turn the intent on (the Developer Portal's switch "
                      "and GLOSSARY_MESSAGE_CONTENT=true; see the README).")


def config_text(config, *, reads_messages: bool = True, problems: list[str] | None = None) -> str:
    """`/glossary config show`: a server's settings as a short message (channel ids as mentions);
    `reads_messages`: whether the bot has the Message Content intent its study channels need;
    `problems`: what the bot lacks in the channels set (their permissions) and roles set that no
    longer exist, one line each."""
    study = ", ".join(f"<#{c}>" for c in config.study_channels) or "none"
    daily = f"<#{config.daily_channel_id}>" if config.daily_channel_id else "not set"
    lines = [
        f"**Study channels:** {study}",
        *([NO_MESSAGE_CONTENT] if config.study_channels and not reads_messages else []),
        f"**Term of the day:** {'on' if config.daily_enabled else 'off'} · channel {daily} · "
        + f"{config.daily_time} {config.timezone}",
    ]
    quiz = [f"quiz of the day {'on' if config.daily_quiz else 'off'}"]
    # (@everyone's id is the server's; its mention would read "@@everyone", QA76)
    quiz.append("rounds started by any member" if config.quiz_role_id == config.guild_id else
                "rounds started by Manage Messages, Manage Server"
                + (f" or <@&{config.quiz_role_id}>" if config.quiz_role_id else ""))
    quiz.append(f"champion role <@&{config.champion_role_id}>" if config.champion_role_id else "no champion role")
    lines.append(f"**Study:** {' · '.join(quiz)}")
    if config.champion_error:
        lines.append(f"**Champion role:** ⚠️ {clip(discord.utils.escape_markdown(config.champion_error), 500)}")
    lines.append("**Aliases and notes:** edited by Manage Server"
                 + (f" or <@&{config.editor_role_id}>" if config.editor_role_id else ""))
    if config.last_error:
        lines.append(f"**Last error:** {clip(discord.utils.escape_markdown(config.last_error), 500)}")
    lines.extend(problems or [])
    return clip("\n".join(lines), CONTENT_MAX)
