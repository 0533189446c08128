"""Rendering stays within Discord's limits and pings nobody, whatever the input."""

import re

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_bot import render
from bot.glossary.search import NOT_FOUND, Hit, Related, SearchResult
from bot.glossary.store import StoredEntry


def entry(term="Attention", definition="Token mixing.", entry_id=1):
    return StoredEntry(entry_id, term, definition, 1, (term,))


def check_embed(embed):
    assert len(embed.title or "") <= render.TITLE_MAX
    assert len(embed.description or "") <= render.DESCRIPTION_MAX
    assert len(embed.fields) <= 25
    assert all(len(f.value) <= render.FIELD_VALUE_MAX for f in embed.fields)
    assert len(embed) <= render.EMBED_TOTAL_MAX


def check_view(view):
    rows = {}
    for item in view.children:
        assert len(item.label) <= render.LABEL_MAX
        assert len(item.custom_id) <= render.CUSTOM_ID_MAX
        rows.setdefault(item.row, []).append(item)
    assert all(len(r) <= render.BUTTONS_PER_ROW for r in rows.values())


def test_long_definition_is_paged_at_word_boundaries_and_says_so():
    words = ("gradient " * 2000).strip()
    long_entry = entry(definition=words)
    pages = render.split_pages(words)
    assert len(pages) > 1 and "".join(pages).replace(" ", "") == words.replace(" ", "")
    assert all(p.endswith("gradient") for p in pages)
    first = render.entry_embed(long_entry, "exact")
    check_embed(first)
    assert f"page 1/{len(pages)}" in first.footer.text
    view = render.entry_view(long_entry, [], page=0)
    assert [b.label for b in view.children] == ["Next page ▶", render.ADD_TO_REVIEW]
    assert view.children[0].row == view.children[1].row
    assert render.parse_custom_id(view.children[0].custom_id) == ("page", "Attention", 1)


def test_related_buttons_are_capped_and_persistent():
    related = [Related(entry(f"Term {i}" + "x" * 120, entry_id=i), "see also") for i in range(9)]
    view = render.entry_view(entry(), related)
    check_view(view)
    assert len(view.children) == 6 and view.timeout is None
    assert view.children[-1].custom_id == render.REVIEW_ADD_PREFIX + "Attention" and view.children[-1].row == 1
    kind, term, _ = render.parse_custom_id(view.children[0].custom_id)
    assert kind == "show" and related[0].entry.term.startswith(term)


def test_terms_sharing_a_custom_id_get_one_button():
    """Discord refuses a message whose components repeat a custom id."""
    long = "y" * 120
    related = [Related(entry("Same", entry_id=2), "see also"), Related(entry("Same", entry_id=3), "see also"),
               Related(entry(long + "a", entry_id=4), "see also"), Related(entry(long + "b", entry_id=5), "x"),
               Related(entry("Other", entry_id=6), "see also")]
    for view in (render.entry_view(entry(), related), render.suggestions_view([r.entry for r in related])):
        ids = [b.custom_id for b in view.children if not b.custom_id.startswith(render.REVIEW_ADD_PREFIX)]
        assert len(ids) == len(set(ids)) == 3


def test_not_found_message_names_only_the_hints():
    far = SearchResult("x", NOT_FOUND, [Hit(entry(), "semantic", 0.3)])
    assert "Nearest terms" not in render.not_found_text("x", far)
    near = SearchResult("x", NOT_FOUND, [Hit(entry(), "semantic", 0.3)], hints=(Hit(entry(), "semantic", 0.3),))
    assert render.not_found_text("x", near).endswith(f"Nearest terms: {entry().term}.")


def test_not_found_message_escapes_user_text():
    hit = Hit(entry(), "semantic", 0.3)
    result = SearchResult("x", NOT_FOUND, [hit], hints=(hit,))
    text = render.not_found_text("@everyone **bold** <@123>", result)
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "**" not in text
    assert len(text) <= render.CONTENT_MAX
    assert render.NO_MENTIONS.everyone is False and render.NO_MENTIONS.users is False


def test_echoed_text_loses_control_and_bidi_characters():
    text = render.escape_user_text("what\x00is \u202eattention\u202c \x1b[31m\u2067lora\u2069\nnow")
    assert text == "what is attention [31m lora now"
    assert render.escape_user_text("👩\u200d💻 é") == "👩\u200d💻 é"  # joiners and marks are text, kept


def test_a_link_echoed_back_is_not_unfurled_into_a_preview():
    # "is https://discord.gg/x legit?" refused in public showed the invite's Join card under the bot's reply
    echoed = render.escape_user_text("is https://discord.gg/abc_d legit? or HTTP://evil.example/a?b=c")
    assert echoed == "is <https://discord.gg/abc_d> legit? or <HTTP://evil.example/a?b=c>"
    cut = render.escape_user_text("see https://evil.example/" + "x" * 300, 60)
    assert cut.startswith("see <https://evil.example/") and cut.endswith("…>")


def test_empty_query_gets_a_prompt_not_empty_quotes():
    empty = SearchResult("", NOT_FOUND, [])
    for query in ("", "   ", "\x00\x01", "\u202e\u202c"):
        assert render.not_found_text(query, empty) == render.EMPTY_QUERY_TEXT
        assert "“”" not in render.suggest_text(query)


@settings(max_examples=200, deadline=None)
@given(term=st.text(min_size=1, max_size=400), definition=st.text(min_size=0, max_size=12000),
       query=st.text(max_size=10000))
def test_any_text_renders_within_limits(term, definition, query):
    e = entry(term, definition)
    pages = render.split_pages(definition)
    for page in range(len(pages)):
        check_embed(render.entry_embed(e, "semantic", page))
        check_view(render.entry_view(e, [Related(entry(term, entry_id=2), "see also")], page))
    refusal = render.not_found_text(query, SearchResult(query, NOT_FOUND, []))
    assert len(refusal) <= render.CONTENT_MAX
    assert not re.search(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]|@(everyone|here)", refusal)
    assert len(render.suggest_text(query)) <= render.CONTENT_MAX
    assert len(render.choice_name(e)) <= render.CHOICE_NAME_MAX


def test_other_matches_come_first_as_their_own_row_and_never_repeat_the_answer():
    answer = entry("Attention")
    others = [entry("Attention", entry_id=1), entry("Self-attention", entry_id=2), entry("Cross-attention", entry_id=3)]
    related = [Related(entry("Self-attention", entry_id=2), "see also"), Related(entry("Softmax", entry_id=4), "x")]
    view = render.entry_view(answer, related, others=others)
    check_view(view)
    rows = {}
    for button in view.children[:-1]:
        rows.setdefault(button.row, []).append(render.parse_custom_id(button.custom_id)[1])
    assert rows == {0: ["Self-attention", "Cross-attention"], 1: ["Softmax"]}
    assert view.children[-1].label == render.ADD_TO_REVIEW and view.children[-1].row == 2
    embed = render.entry_embed(answer, "semantic", others=others[1:])
    assert [(f.name, f.value) for f in embed.fields] == [("Other matches", "Self-attention · Cross-attention")]


@settings(max_examples=100, deadline=None)
@given(terms=st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=3),
       definition=st.text(max_size=12000), query=st.text(max_size=10000))
def test_unsure_replies_render_within_limits(terms, definition, query):
    entries = [entry(t, definition, entry_id=i) for i, t in enumerate(terms)]
    check_embed(render.entry_embed(entries[0], "semantic", others=entries[1:]))
    check_view(render.entry_view(entries[0], [], others=entries[1:]))
    text = render.suggest_text(query, entries)
    assert len(text) <= render.CONTENT_MAX
    assert not re.search(r"@(everyone|here)", text.replace("@\u200b", ""))


@settings(max_examples=100, deadline=None)
@given(terms=st.lists(st.text(min_size=1, max_size=400), min_size=2, max_size=6),
       definition=st.text(max_size=12000))
def test_entries_side_by_side_render_within_limits(terms, definition):
    entries = [entry(t, definition, entry_id=i) for i, t in enumerate(terms)]
    check_embed(render.side_by_side_embed(entries[:4], entries[4:]))
    check_view(render.side_by_side_view(entries[:4], entries[4:]))
    check_embed(render.side_by_side_embed(entries[:2], entries[2:3], entries[3:]))
    check_view(render.side_by_side_view(entries[:2], entries[2:3], entries[3:]))


def test_entries_side_by_side_each_get_a_field_and_a_button_and_others_a_row_of_their_own():
    lora, qlora = entry("LoRA", "Low-rank adapters.", 1), entry("QLoRA", "LoRA over a 4-bit base. " * 80, 2)
    embed = render.side_by_side_embed([lora, qlora], [entry("Lorax / S-LoRA", entry_id=3)])
    assert embed.title == "LoRA · QLoRA"
    assert [f.name for f in embed.fields] == ["LoRA", "QLoRA", "Other matches"]
    assert embed.fields[0].value == "Low-rank adapters."
    assert embed.fields[1].value.endswith("…") and len(embed.fields[1].value) <= render.FIELD_VALUE_MAX
    view = render.side_by_side_view([lora, qlora], [entry("Lorax / S-LoRA", entry_id=3)])
    assert [(b.row, render.parse_custom_id(b.custom_id)[1]) for b in view.children] == [
        (0, "LoRA"), (0, "QLoRA"), (1, "Lorax / S-LoRA")]


def test_an_unsure_reply_far_from_the_question_says_the_glossary_may_not_cover_it():
    entries = [entry("BM25", entry_id=1), entry("SDF", entry_id=2)]
    assert render.suggest_text("what is tf-idf", entries).startswith("Not sure which entry “what is tf-idf” is about, if any.")
    far = render.suggest_text("what is tf-idf", entries, far=True)
    assert far.startswith("The glossary may not cover “what is tf-idf”. Closest entries:") and "**SDF**" in far


def test_turning_a_page_keeps_everything_but_the_page():
    """Paging used to rebuild the message from the entry alone, dropping its other matches,
    a server's note and 👍/👎."""
    long_entry = entry(definition=("gradient " * 2000).strip())
    others = [entry("Self-attention", entry_id=2)]
    related = [Related(entry("Softmax", entry_id=4), "see also")]
    first = render.entry_embed(long_entry, "semantic", others=others, note="Lab 4.")
    view = render.with_feedback(render.entry_view(long_entry, related, 0, others=others), 42)
    rows = [discord.ActionRow(row) for row in view.to_components()]
    shown = discord.Embed.from_dict(first.to_dict())

    embed, turned = render.turn_page(long_entry, 1, shown, rows)
    check_embed(embed)
    check_view(turned)
    assert embed.description == render.split_pages(long_entry.definition)[1]
    assert [f.name for f in embed.fields] == [f.name for f in first.fields]
    assert embed.footer.text.endswith(f"page 2/{len(render.split_pages(long_entry.definition))}")
    before = [b.custom_id for b in view.children if not b.custom_id.startswith(render.PAGE_PREFIX)]
    after = [b.custom_id for b in turned.children if not b.custom_id.startswith(render.PAGE_PREFIX)]
    assert sorted(after) == sorted(before)  # other matches, related, 📚, 👍/👎 all still there
    assert [render.parse_custom_id(b.custom_id)[2] for b in turned.children
            if b.custom_id.startswith(render.PAGE_PREFIX)] == [0, 2]


def test_settings_warn_that_study_channels_need_the_message_content_intent():
    from bot.state.store import GuildConfig

    with_channel, without = GuildConfig(guild_id=1, study_channels=(5,)), GuildConfig(guild_id=1)
    assert render.NO_MESSAGE_CONTENT in render.config_text(with_channel, reads_messages=False)
    assert render.NO_MESSAGE_CONTENT not in render.config_text(with_channel, reads_messages=True)
    assert render.NO_MESSAGE_CONTENT not in render.config_text(without, reads_messages=False)


def test_entries_asked_about_that_did_not_fit_are_named_with_a_button_each():
    entries = [entry(f"Term {i}", entry_id=i) for i in range(7)]
    other = entry("Other", entry_id=9)
    embed = render.side_by_side_embed(entries[:5], [other], entries[5:])
    assert [f.name for f in embed.fields][5:] == [render.UNSHOWN_FIELD, "Other matches"]
    assert embed.fields[5].value == "Term 5 · Term 6"
    view = render.side_by_side_view(entries[:5], [other], entries[5:])
    assert [(b.row, render.parse_custom_id(b.custom_id)[1]) for b in view.children][5:] == [
        (1, "Term 5"), (1, "Term 6"), (2, "Other")]
    check_embed(embed)
    check_view(view)


def test_a_note_beside_entries_side_by_side_is_escaped_user_text():
    embed = render.side_by_side_embed([entry("A", entry_id=1), entry("B", entry_id=2)], [],
                                      note="The glossary has no entry for “**@everyone**”.")
    assert embed.description.startswith("The glossary has no entry for") and "**" not in embed.description
    check_embed(embed)


def test_names_the_glossary_lacks_beside_an_answer_are_labelled_as_such_not_as_a_sense():
    embed = render.entry_embed(entry("RoPE"), "mention", lacking="The glossary has no entry for “**alibi** @here”.")
    field = next(f for f in embed.fields if f.name == render.NOT_IN_GLOSSARY)
    assert "alibi" in field.value and "**" not in field.value and "@here" not in field.value
    assert not any(f.name == render.ANOTHER_SENSE for f in embed.fields)
    check_embed(embed)


def test_five_entries_side_by_side_fit_discord():
    entries = [StoredEntry(i, f"Term {i}", "word " * 1500, i, (f"Term {i}",)) for i in range(5)]
    embed = render.side_by_side_embed(entries, [StoredEntry(9, "Other", "x", 9, ("Other",))])
    assert len(embed.fields) == 6 and len(embed) <= render.EMBED_TOTAL_MAX
    view = render.side_by_side_view(entries, [])
    assert len(view.children) == 5 and {b.row for b in view.children} == {0}


def test_a_note_quoting_the_user_is_escaped_in_a_did_you_mean():
    # "The glossary has no entry for …" quotes a name as typed; a suggestion's note was sent raw
    text = render.suggest_text("q", note="The glossary has no entry for “**X1** @everyone”.")
    assert "**X1**" not in text and "@everyone" not in text


def test_a_did_you_mean_too_long_for_one_message_drops_whole_lines_not_half_a_bold_name():
    # clipped as one string, the last offer could end inside its **name**, leaving stray asterisks
    entries = [entry(f"Term number {i} " + "x" * 80, "A definition. " * 20, entry_id=i) for i in range(3)]
    text = render.suggest_text("q", entries, note="n" * 1500)
    assert len(text) <= render.CONTENT_MAX
    offers = [line for line in text.split("\n") if line.startswith("• ")]
    assert 0 < len(offers) < 3
    roomy = render.suggest_text("q", entries).split("\n")[1:]
    assert offers == roomy[:len(offers)]


def test_settings_name_the_role_that_may_edit_aliases_and_notes():
    """QA53 B6: `/glossary config show` says who may edit the server's aliases and notes."""
    from bot.state.store import GuildConfig

    assert "**Aliases and notes:** edited by Manage Server or <@&77>" in render.config_text(
        GuildConfig(guild_id=1, editor_role_id=77))
    assert "**Aliases and notes:** edited by Manage Server\n" in render.config_text(GuildConfig(guild_id=1)) + "\n"


def test_a_definitions_plain_text_is_not_read_as_discord_markup():
    """nn.Module's "assigned in __init__" came out as an underlined "init"."""
    from bot.glossary.store import StoredEntry

    entry = StoredEntry(1, "nn.Module", "Layers assigned in __init__ are registered; a**b and `x` are text.", 1, ())
    embed = render.entry_embed(entry)
    check_embed(embed)
    assert "\\_\\_init\\_\\_" in embed.description and "a\\*\\*b" in embed.description and "\\`x\\`" in embed.description
    assert render.glossary_text("snake_case and x_t stay as they are") == "snake_case and x_t stay as they are"


def test_echoed_text_shows_mentions_emoji_and_code_fences_as_nobody_typed_them_raw():
    """QA74: a hedge quoted "<@&987654321098765432>", "<:blobthink:112233445566778899>" and "```"
    back at the asker: what Discord sends for what its client shows otherwise."""
    echoed = render.escape_user_text("hey <@&987654321098765432> <#55> <@!12> explain `softmax` pls "
                                     "<:blobthink:112233445566778899> <a:party:1>")
    assert echoed == "hey explain \\`softmax\\` pls :blobthink: :party:"
    assert render.escape_user_text("```python\nTraceback (most recent call last):\n```why?") == \
        "Traceback (most recent call last): why?"


def test_a_note_that_the_glossary_has_no_entry_is_not_followed_by_may_not_cover():
    """QA74: "The glossary has no entry named “k-fold cross validation”." then "The glossary may not
    cover it.": the same thing twice."""
    note = "The glossary has no entry named “k-fold cross validation”."
    text = render.suggest_text("what is k-fold cross validation", [entry()], far=True, note=note, lacking=True)
    assert text.startswith(note) and "may not cover" not in text and "Closest entries:" in text
    assert "may not cover" in render.suggest_text("q", [entry()], far=True, note="Another note.")
