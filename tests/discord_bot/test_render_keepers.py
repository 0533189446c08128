"""A server's aliases and notes as moderators read them: every one of the 200 allowed, a page at
a time within Discord's limits, with the fix for a ⚠ row on the page that shows it; and the
autocomplete of `alias remove` / `note remove` offering the server's own."""

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_bot import render, render_keepers
from bot.state.additions import ALIAS_MAX, ALIASES_PER_SERVER, NOTE_MAX, NOTES_PER_SERVER

from .test_render import check_embed, check_view

ALIAS_FIX = "`/glossary alias remove` it"
NOTE_FIX = "`/glossary note remove` it"


def every_page(render_page, rows) -> list[tuple[discord.Embed, discord.ui.View]]:
    """The pages a moderator reaches from the first by pressing Next page ▶, each checked."""
    pages = [render_page(rows)]
    while True:
        embed, view = pages[-1]
        check_embed(embed)
        check_view(view)
        assert len(embed.footer.text or "") <= render.FOOTER_MAX
        ahead = [b.custom_id for b in view.children if b.label == "Next page ▶"]
        if not ahead:
            return pages
        kind, page = render_keepers.parse_list_custom_id(ahead[0])
        assert kind in render_keepers.LISTS and page == len(pages)
        pages.append(render_page(rows, page))


def escaped(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def test_two_hundred_of_the_longest_aliases_all_appear_within_discords_limits():
    # as long as allowed, markdown doubling them when escaped, each renamed since: the longest lines
    aliases = [(f"{n:03d}" + "_*" * (ALIAS_MAX // 2 - 2) + "x", f"Old name {n} " + "y" * 80, f"New name {n} " + "z" * 80)
               for n in range(ALIASES_PER_SERVER)]
    pages = every_page(render_keepers.aliases_page, aliases)
    assert len(pages) > 1
    text = "\n".join(embed.description for embed, _ in pages)
    for alias, *_ in aliases:
        assert text.count(f"• {escaped(alias)} →") == 1, alias
    assert all(embed.title == "This server's aliases (200)" for embed, _ in pages)
    assert pages[1][0].footer.text.startswith(f"Page 2 of {len(pages)} · aliases ")
    assert [b.label for b in pages[1][1].children] == ["◀ Previous page", "Next page ▶"]
    assert not any(ALIAS_FIX in embed.description for embed, _ in pages)  # nothing is ⚠


def test_two_hundred_long_notes_all_appear_clipped_to_a_preview():
    notes = [(f"Entry {n:03d}", f"Note {n:03d}: " + "word " * (NOTE_MAX // 5 - 3), f"Entry {n:03d}")
             for n in range(NOTES_PER_SERVER)]
    pages = every_page(render_keepers.notes_page, notes)
    lines = [line for embed, _ in pages for line in embed.description.splitlines()]
    assert [line.split("**")[1] for line in lines] == [term for term, *_ in notes]
    assert all(len(line) <= render_keepers.NOTE_PREVIEW + 30 and line.endswith("…") for line in lines)
    last = pages[-1][0].footer.text
    assert last.startswith(f"Page {len(pages)} of {len(pages)} · notes ") and last.endswith("–200 of 200")


def test_the_fix_for_a_row_whose_entry_left_shows_on_its_page_and_the_footer_points_there():
    aliases = [(f"alias{n:03d}", f"Term {n}", None if n in (3, 130) else f"Term {n}") for n in range(150)]
    pages = every_page(render_keepers.aliases_page, aliases)
    assert len(pages) == 3
    first, second, third = (embed for embed, _ in pages)
    assert "• alias003 → Term 3 ⚠" in first.description and first.description.endswith(
        "⚠ No glossary entry has that name now, so the alias finds nothing: `/glossary alias remove` it, "
        "or add it again for the entry it should find.")
    assert ALIAS_FIX not in second.description and "⚠" not in second.description
    assert ALIAS_FIX in third.description
    assert first.footer.text.endswith("· more ⚠ on page 3")
    assert second.footer.text.endswith("· ⚠ on pages 1, 3")


def test_a_short_list_is_one_page_without_buttons_and_an_empty_one_says_how_to_add():
    embed, view = render_keepers.notes_page([("LoRA", "Lab 4 uses rank 8.", "LoRA"), ("Gone", "Lab 1.", None)])
    assert embed.title == "This server's notes (2)" and not view.children and embed.footer.text is None
    assert embed.description.splitlines()[:2] == ["• **LoRA**: Lab 4 uses rank 8.", "• **Gone** ⚠: Lab 1."]
    assert NOTE_FIX in embed.description
    empty, view = render_keepers.aliases_page([])
    assert empty.title == "This server's aliases" and "`/glossary alias add`" in empty.description
    assert not view.children


def test_a_page_past_the_end_shows_the_last_and_other_ids_are_not_a_lists():
    aliases = [(f"alias{n:03d}", "LoRA", "LoRA") for n in range(60)]
    last, _ = render_keepers.aliases_page(aliases, 99)
    assert last.footer.text.startswith("Page 2 of 2")
    assert render_keepers.parse_list_custom_id(render_keepers.list_custom_id("notes", 3)) == ("notes", 3)
    for other in ("gloss:keep:aliases:", "gloss:keep:x:1", "gloss:keep:notes:²", "gloss:page:1:LoRA"):
        assert render_keepers.parse_list_custom_id(other) is None


names = st.text(min_size=1, max_size=ALIAS_MAX)
terms = st.text(min_size=1, max_size=120)


@given(rows=st.lists(st.tuples(names, terms, st.one_of(st.none(), terms)), max_size=ALIASES_PER_SERVER))
@settings(max_examples=40, deadline=None)
def test_any_aliases_render_within_limits_and_each_on_one_page(rows):
    pages = every_page(render_keepers.aliases_page, rows)
    assert sum(len(embed.description.split("\n\n")[0].splitlines()) for embed, _ in pages) == len(rows) or not rows


@given(rows=st.lists(st.tuples(terms, st.text(min_size=1, max_size=NOTE_MAX), st.one_of(st.none(), terms)),
                     max_size=NOTES_PER_SERVER))
@settings(max_examples=40, deadline=None)
def test_any_notes_render_within_limits(rows):
    every_page(render_keepers.notes_page, rows)


def test_alias_remove_offers_the_servers_aliases_matching_what_is_typed():
    aliases = [(f"course{n:02d}x", f"Term {n}") for n in range(150)] + [("lrx", "Low-rank X"), ("phlog", "Phlogiston")]
    now = {"Low-rank X": "LoRA", "Phlogiston": None}.get
    every = render_keepers.alias_choices(aliases, "", lambda term: now(term, term))
    assert len(every) == render.CHOICES_MAX
    offered = render_keepers.alias_choices(aliases, "Course 14-X", lambda term: now(term, term))
    assert [c.value for c in offered] == ["course14x"]
    assert offered[0].name == "course14x → Term 14"
    renamed, gone = (render_keepers.alias_choices(aliases, typed, lambda term: now(term, term))
                     for typed in ("lr", "phl"))
    assert [(c.name, c.value) for c in renamed] == [("lrx → LoRA", "lrx")]
    assert [(c.name, c.value) for c in gone] == [("phlog → Phlogiston ⚠", "phlog")]
    by_entry = render_keepers.alias_choices(aliases, "term 14", lambda term: now(term, term))
    assert [c.value for c in by_entry] == ["course14x", *(f"course{n}x" for n in range(140, 150))]


def test_note_remove_offers_the_servers_notes_by_the_entrys_name_then_or_now():
    notes = [("Attention", "Week 3. " + "x" * 400), ("Low-rank X", "Lab 3 uses rank 8."), ("Phlogiston", "Lab 1.")]
    now = {"Low-rank X": "LoRA", "Phlogiston": None}
    choices = render_keepers.note_choices(notes, "", lambda term: now.get(term, term))
    assert [c.value for c in choices] == ["Attention", "Low-rank X", "Phlogiston"]
    assert all(len(c.name) <= render.CHOICE_NAME_MAX for c in choices) and choices[0].name.endswith("…")
    assert choices[1].name == "Low-rank X (now LoRA): Lab 3 uses rank 8."
    assert choices[2].name == "Phlogiston ⚠: Lab 1."
    assert [c.value for c in render_keepers.note_choices(notes, "lora", lambda term: now.get(term, term))] == \
        ["Low-rank X"]


@given(rows=st.lists(st.tuples(st.text(min_size=1, max_size=ALIAS_MAX), st.text(min_size=1, max_size=300)),
                     max_size=ALIASES_PER_SERVER), typed=st.text(max_size=100))
@settings(max_examples=40, deadline=None)
def test_choices_stay_within_discords_limits(rows, typed):
    for choices in (render_keepers.alias_choices(rows, typed, lambda term: term),
                    render_keepers.note_choices(rows, typed, lambda term: None)):
        assert len(choices) <= render.CHOICES_MAX
        assert all(1 <= len(c.name) <= render.CHOICE_NAME_MAX and 1 <= len(c.value) <= 100 for c in choices)


# -- the gaps report ----------------------------------------------------------------------------

_PASTED = st.text(st.sampled_from("abc _*`|~>#:@\\-"), min_size=0, max_size=200)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_PASTED, st.lists(_PASTED, max_size=4), st.lists(st.text(max_size=60), max_size=3)),
                max_size=14))
def test_every_gap_is_shown_whole_or_counted_in_the_footer(raw) -> None:
    """Long pasted questions, full of characters that escaping doubles: the embed stays within
    Discord's limits, no topic is cut halfway, and shown plus "N more topics" is every topic."""
    import re

    from bot.glossary.gaps import Gap

    gaps = [Gap(label or "?", 3, 5, (label or "?", *examples), tuple(nearest)) for label, examples, nearest in raw]
    embed = render_keepers.gaps_embed(gaps, 30)
    check_embed(embed)
    assert len(embed.footer.text or "") <= render.FOOTER_MAX
    shown = re.findall(r"^\*\*(\d+)\. ", embed.description, re.MULTILINE) if gaps else []
    assert [int(n) for n in shown] == list(range(1, len(shown) + 1))
    whole = embed.description.split("\n\n")
    assert all(block.splitlines()[-1].startswith(("  nearest entries", "  no entry near it"))
               for block in whole) if gaps else True
    more = re.search(r"(\d+) more topics?", embed.footer.text or "")
    assert len(shown) + (int(more.group(1)) if more else 0) == len(gaps)
    assert shown or not gaps  # the first topic always fits


def test_ten_long_pasted_topics_are_not_cut_and_the_footer_counts_what_is_left() -> None:
    from bot.glossary.gaps import Gap

    base = ("RuntimeError: CUDA out of memory while training my_model with batch_size 64 on a single "
            "consumer GPU, what setting should I change to make it fit, please help")
    gaps = [Gap(f"{base} ({i})", 4, 6, (f"{base} ({i})", f"another way of asking {i}: {base}", f"a third {i}: {base}"),
                ("CUDA", "Gradient checkpointing", "Mixed precision")) for i in range(12)]
    embed = render_keepers.gaps_embed(gaps, 30)
    check_embed(embed)
    shown = embed.description.count("\n\n") + 1
    assert shown >= 5 and f"{12 - shown} more topics" in embed.footer.text


def test_the_change_log_shows_times_in_each_readers_zone_and_whole_lines() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.state.additions import Change

    start = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    changes = [Change(start + timedelta(minutes=i), "**mod**_x", "alias add", f"memo trick {i} → " + "x" * 100)
               for i in range(40)]
    text = render_keepers.changes_text(changes)
    assert len(text) <= render.CONTENT_MAX
    lines = text.splitlines()[1:]
    assert lines[0].startswith(f"• <t:{int(start.timestamp())}:f> ")  # Discord shows it in the reader's time zone
    assert all(line.endswith("x" * 100) for line in lines)  # no line cut halfway
    assert "\\*\\*mod\\*\\*" in lines[0]
    assert render_keepers.changes_text([]).endswith("none yet")


def test_a_report_longer_than_the_log_keeps_says_what_it_covers() -> None:
    from bot.state.feedback import UsageStats

    usage = UsageStats(0, 0, 0, 0, [], 0, 0)
    assert render_keepers.usage_embed(usage, 365, 90).title == "Glossary use · last 90 days (all the log keeps)"
    assert render_keepers.usage_embed(usage, 30, 90).title == "Glossary use · last 30 days"
    assert render_keepers.gaps_embed([], 1, 90).title == "Glossary gaps · last 1 day"
