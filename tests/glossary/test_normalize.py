"""Text as people type it on Discord (bot/glossary/normalize.py): decoration and chatter go,
the question stays, and a decorated query gets the answer its clean form gets."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.glossary.normalize import (MAX_QUERY_CHARS, american, asked_about, discord_query, earlier_framed_subjects,
                                    framed_subject, place_moved_last, plain_text, small_talk, strip_chatter)
from bot.config import DEFAULT_DATA_DIR
from bot.glossary.parse import parse_file
from tests.conftest import GLOSSARY

# -- the pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "plain"), [
    ("**LoRA**", "LoRA"),
    ("*LoRA*", "LoRA"),
    ("_LoRA_", "LoRA"),
    ("__LoRA__", "LoRA"),
    ("***LoRA***", "LoRA"),
    ("~~LoRA~~", "LoRA"),
    ("||LoRA||", "LoRA"),
    ("||**LoRA**||", "LoRA"),
    ("`LoRA`", "LoRA"),
    ("explain LoRA pls :pray:", "explain LoRA pls"),
    (":+1: thanks", "thanks"),
    ("```\nLoRA\n```", "LoRA"),
    ("```py\nmodel.half()\n``` why nan", "model.half() why nan"),
    ("> what is LoRA?", "what is LoRA?"),
    (">>> what is LoRA?", "what is LoRA?"),
    ("# LoRA", "LoRA"),
    ("-# LoRA", "LoRA"),
    ("[LoRA](https://example.com/lora) paper", "LoRA paper"),
    ("see https://arxiv.org/abs/2106.09685 LoRA", "see LoRA"),
    ("<@123456789012345678> LoRA", "LoRA"),
    ("<@!123456789012345678> <@&42> <#77> LoRA", "LoRA"),
    ("@everyone LoRA", "LoRA"),
    ("@here LoRA", "LoRA"),
    ("</define:123456789> LoRA", "LoRA"),
    ("<:thinking:123456789012345678> LoRA <a:party:1>", "LoRA"),
    ("🤔 LoRA 🙏🏽", "LoRA"),
    ("Lo\u200bRA", "LoRA"),
    ("\u202eLoRA\u202c", "LoRA"),
    ("\u2066LoRA\u2069\u200f", "LoRA"),
    ("\ufeffLoRA\u2060", "LoRA"),
    ("Lo\u00adRA", "LoRA"),
    ("LoRA\ufe0f", "LoRA"),
])
def test_decoration_comes_off(typed, plain):
    assert plain_text(typed) == plain


@pytest.mark.parametrize("kept", [
    "what does motion_bucket_id do",
    "x*y and a*b",
    "is --enable-chunked-prefill faster",
    "β-VAE",
    "what is 2*3",
    "email me at someone@example.com",
    "Adam vs AdamW",
])
def test_what_is_not_decoration_stays(kept):
    assert plain_text(kept) == kept


@pytest.mark.parametrize(("typed", "core"), [
    ("yo what's lora lol", "what's lora"),
    ("hey guys quick q: what is lora? thanks!!", "what is lora?"),
    ("what is lora? thx in advance", "what is lora?"),
    ("ok so um what is attention", "what is attention"),
    ("pls explain attention", "explain attention"),
    ("quick sanity check pls: perplexity is just exp(loss) right? 🙏", "perplexity is just exp(loss) right?"),
    ("lol", ""),  # nothing but chatter or punctuation is no question ("Type a term or a question")
    ("thanks!!", ""),
    ("?", ""),
])
def test_chatter_around_the_question_goes(typed, core):
    assert discord_query(typed) == core


@pytest.mark.parametrize("typed", ["ok thanks that helped a lot 🙏", "nvm figured it out", "never mind",
                                   "ty that fixed it", "+1 same issue here", "anyone here?", "bump"])
def test_a_nod_after_an_answer_is_no_question(typed):
    assert discord_query(typed) == ""


@pytest.mark.parametrize("asked", ["why the +1?", "which sim config do I need to bump?", "bump mapping",
                                   "what is a sanity check"])
def test_what_only_opens_an_issue_comment_is_kept_elsewhere(asked):
    assert discord_query(asked) == asked


def test_a_nod_that_is_part_of_the_question_stays():
    asked = "Can you tell me how you got it?"  # "got it" ends a question here, so it is no nod
    assert discord_query(asked) == asked


def test_chatter_inside_a_question_stays():
    assert strip_chatter("why does thanks-giving data break my loss") == "why does thanks-giving data break my loss"


@pytest.mark.parametrize(("text", "subject"), [
    ("what is LoRA?", "LoRA"),
    ("so I read the paper but what's LoRA?", "LoRA"),
    ("can someone explain what BigGAN is?", "BigGAN"),
    ("define kv cache pls", "kv cache"),
    ("what does CFG stand for", "CFG"),
    ("what is attention in transformers?", "attention"),
    ("tell me about the KV cache", "KV cache"),
    ("what does LoRA mean exactly?", "LoRA"),
    ("what does LoRA even mean", "LoRA"),
    ("what does RLHF stand for in ml?", "RLHF"),
    ("why is my loss nan", None),
    ("what is torch.compile?", "torch.compile"),  # a full stop inside a name does not end it
    ("what is LoRA. I keep hearing about it", "LoRA"),
    ("what is LoRA...and why does it work", "LoRA"),
    ("what is a VAE.what about the KL term?", "VAE"),  # a new question after a full stop, no space
    ("what is nn.Module.thanks", "nn.Module"),
    ("what's the intuition behind attention in simple words", "attention"),  # the last framing wins
    ("intuition behind the kv cache", "kv cache"),
    ("what is calibration for", "calibration"),  # what it is for is what it is
    ("how does classifier-free guidance work at sampling time", "classifier-free guidance"),
    ("what even is perplexity", "perplexity"),
    ("tldr on ControlNet?", "ControlNet"),
    ("does anyone know what rlhf means", "rlhf"),
    ("u guys know flow matching? i dont", "flow matching"),
    ("i know lora", None),
    ("i know what lora is but how does qlora save memory", None),
    ("my jupyter kernel keeps dying, what even is the kernel", None),  # only opening the message
    ("what's prefill during llm inference", "prefill"),
    ("what is lora used for?", "lora"),
])
def test_framing_is_found_anywhere(text, subject):
    assert framed_subject(text) == subject


def test_a_whole_sentence_subject_keeps_the_names_own_and():
    assert framed_subject("what is Precision and recall?") == "Precision"
    assert framed_subject("what is Precision and recall?", whole_sentence=True) == "Precision and recall"


def test_a_framed_name_starting_with_a_chatter_word_is_an_exact_answer(searcher):
    result = searcher.search("> what is all to all token routing?")
    assert result.band == "answer" and result.best.entry.term == "All-to-all token routing"


def test_a_framed_name_holding_and_is_an_exact_answer(searcher):
    result = searcher.search("@everyone what is Precision and recall")
    assert result.band == "answer" and result.best.entry.term == "Precision and recall"


# -- the property: decoration never changes the answer ---------------------------------------------

DECORATIONS = [
    "@everyone what is {t}", "@here {t}", "<@123456789012345678> {t}", "<@!1234567> what's {t}?",
    "**{t}**", "*{t}*", "__{t}__", "||{t}||", "`{t}`", "```\n{t}\n```", "> what is {t}?", ">>> {t}",
    "# {t}", "yo what's {t} lol", "hey guys quick q: what is {t}? thanks!!", "🤔 {t} 🙏",
    "<:thinking:123456789012345678> {t}", "\u200b{t}\u200b", "\u202a{t}\u202c", "\u2067{t}\u2069",
    "{t}\ufe0f", "can someone explain what {t} is?", "what does {t} mean?? 😅", "[{t}](https://x.org) ?",
]
# Names whose own characters are Discord markup (or mentions) would change under it; none is one today.
_MARKUP = set("*_~|`>#<@[]")
NAMES = sorted({alias for e in parse_file(GLOSSARY).entries
                for alias in (e.term,) if not _MARKUP & set(alias)})
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _same(searcher, clean: str, decorated: str) -> None:
    want, got = searcher.search(clean), searcher.search(decorated)
    assert (got.best.entry.term if got.best else None) == (want.best.entry.term if want.best else None), decorated
    assert got.band == want.band, decorated


@PROPERTY
@given(name=st.sampled_from(NAMES), decoration=st.sampled_from(DECORATIONS))
def test_a_decorated_term_gets_the_clean_terms_answer(searcher, name, decoration):
    _same(searcher, name, decoration.format(t=name))


def _slip(name: str) -> str:
    """The name with two different neighbouring letters of its longest word swapped."""
    longest = max(name.split(), key=len)
    at = next(i for i in range(len(longest) // 2, len(longest)) if longest[i] != longest[i - 1])
    return name.replace(longest, longest[: at - 1] + longest[at] + longest[at - 1] + longest[at + 1:], 1)


@PROPERTY
@given(name=st.sampled_from([n for n in NAMES if max(len(w) for w in n.split()) >= 6
                             and len(set(max(n.split(), key=len)[3:])) > 1]),
       decoration=st.sampled_from(DECORATIONS))
def test_a_decorated_misspelt_term_gets_the_clean_misspellings_answer(searcher, name, decoration):
    # A spelling match looks at what the framing asks about, however long the sentence around it.
    _same(searcher, _slip(name), decoration.format(t=_slip(name)))


@pytest.mark.parametrize("question", [
    "what's the trick where you recompute activations to save memory?",
    "how do I tell Stable Diffusion to avoid watermarks",
    "why does my loss go nan in fp16",
])
@pytest.mark.parametrize("decoration", ["**{t}**", "> {t}", "<@123456789012345678> {t}", "yo {t} lol",
                                        "{t} 🙏", "||{t}||", "hey guys quick q: {t} thanks!!"])
def test_a_decorated_question_gets_the_clean_questions_answer(searcher, question, decoration):
    _same(searcher, question, decoration.format(t=question))


def test_full_width_and_mathematical_letters_read_as_plain_letters():
    assert discord_query("Ｗｈａｔ ｉｓ ＬｏＲＡ？") == "What is LoRA?"
    assert discord_query("𝐋𝐨𝐑𝐀") == "LoRA"


@pytest.mark.parametrize(("typed", "subject"), [
    ("/define lora", "lora"),
    ("what is lora in simple terms", "lora"),
    ("explain attention like I'm 5", "attention"),
    ("what is rope for beginners?", "rope"),
    ("define: KV-Cache", "KV-Cache"),
    ("wht is rlhf", "rlhf"),
    ("waht's lora", "lora"),
    ("wut is grpo", "grpo"),
])
def test_framing_typed_as_a_command_or_asking_for_plain_words(typed, subject):
    assert framed_subject(typed, whole_sentence=True) == subject


@pytest.mark.parametrize("text", ["somewhat is odd", "whatsoever lora", "the waht-is trick"])
def test_words_that_only_contain_a_framing_frame_nothing(text):
    assert framed_subject(text) is None


@pytest.mark.parametrize(("text", "subject"), [
    ("how does LoRA work?", "LoRA"),
    ("explain how the KV cache works", "KV cache"),
    ("how does flash attention actually work", "flash attention"),
    ("how does lora reduce memory", None),
    ("hw does lora work", "lora"),  # typed in a hurry
    ("hw is due friday", None),
])
def test_how_a_name_works_is_a_framing_too(text, subject):
    assert framed_subject(text) == subject


def test_chinese_and_japanese_words_do_not_hide_a_latin_name():
    assert plain_text("什么是LoRA微调") == "什么是 LoRA 微调"


@pytest.mark.parametrize(("text", "moved"), [
    ("in lora, what does the rank mean", "what does the rank mean in lora"),
    ("in QLoRA what is NF4?", "what is NF4 in QLoRA?"),
    ("in a vae what's the reparameterization trick", "what's the reparameterization trick in a vae"),
    ("in my experience what is lora", None),  # no place, a way of speaking
    ("in the FID formula there's a Σ. what is it", None),  # more than a place before the question
    ("inference: what is it", None),
    ("what is lora", None),
])
def test_a_place_said_before_the_question_is_moved_after_it(text, moved):
    assert place_moved_last(text) == moved


@pytest.mark.parametrize(("text", "subject"), [
    ("what about temperature then", "temperature"),
    ("and what about top-k?", "top-k"),
    ("how about the KV cache now?", "KV cache"),
    ("what about temperature in celsius", "temperature in celsius"),
    ("what is temperature", None),
    ("I read about it, what about lora", None),  # only a whole message asks about a name this way
])
def test_what_about_a_name_asks_about_that_name(text, subject):
    assert asked_about(text) == subject


@pytest.mark.parametrize(("text", "subject"), [
    ("is lora worth it", "lora"),
    ("is the KV cache still used these days?", "KV cache"),
    ("should i even use flash attention", "flash attention"),
    ("why use rag", "rag"),
    ("when should I use PCA", "PCA"),
    ("does gradient checkpointing actually help?", "gradient checkpointing"),
    ("whats the point of using a kv cache", "kv cache"),
    ("qlora worth it??", "qlora"),
    ("quantization explained?", "quantization"),
    ("rlhf eli5", "rlhf"),
    ("attention explained like im 5", "attention"),
    ("lora - how does it work?", "lora"),
    ("KV cache: what is it?", "KV cache"),
    ("rlhf? how does it work", "rlhf"),
    ("is lora worth it for a 3b model", None),  # a place for the ranker to read, not a bare judgement
    ("is it worth it if the loss is flat", None),
])
def test_asking_whether_a_name_is_any_good_asks_about_that_name(text, subject):
    assert asked_about(text) == subject


def test_an_earlier_framed_subject_ends_before_its_comma():
    assert earlier_framed_subjects("what does the discriminator do, and what does the generator do?") == [
        "discriminator"]


@pytest.mark.parametrize(("typed", "spelled"), [
    ("Adam optimiser", "Adam optimizer"), ("NORMALISATION", "NORMALIZATION"), ("vae's", "vae"),
    ("what are logit’s", "what are logit"),
    ("noise", "noise"), ("a precise answer", "a precise answer"),  # no -ise word of the list
])
def test_a_name_is_read_as_the_glossary_spells_it(typed, spelled):
    assert american(typed) == spelled


# -- small talk ---------------------------------------------------------------------------------

# What a study channel says besides questions, most of it ending in "?" (QA57), and what /ask is sent
# by someone trying the bot out.
SMALL_TALK = [
    "anyone here?", "is the lab open today?", "lunch anyone?", "hi", "thanks", "hello?", "ok thanks!",
    "thank you so much", "👍", "🙏🙏", "hey everyone, how's it going?", "how are you?", "what's up?", "sup?",
    "anyone around?", "is anyone online?", "is anybody there?", "you there?", "are you alive?",
    "good morning everyone!", "who's coming to the meetup tonight?", "is class cancelled today?",
    "what time is the meeting?", "where is everyone?", "are we meeting tomorrow?", "coffee anyone?",
    "who wants pizza?", "anyone up for lunch?", "is the room free?", "did anyone do the homework?",
    "when is the exam?", "is the library open on sunday?", "anyone going to the talk later?",
    "how was your weekend?", "lol what?", "wait what?", "really?", "is it just me?", "who's free tonight?",
    "what's everyone up to this weekend?", "any plans for the weekend?", "is office hours still on?",
    "how's everyone doing?", "good night all", "gm", "brb?", "does anyone have the slides?", "hahaha ok",
    "is the lab open at 3pm?", "<@123> you there?",
]


@pytest.mark.parametrize("text", SMALL_TALK)
def test_small_talk_is_read_as_such(text):
    assert small_talk(text)


@pytest.mark.parametrize("text", [
    "what is an epoch", "how do I install pytorch", "why are flamingos pink", "what is a class?",
    "define session", "is the gpu free?", "is it open source?", "where do I start?",
    "anyone know how to fix CUDA out of memory?", "who is yann lecun?", "what's a good learning rate?",
    "is colab free?", "how long should I train?", "是什么LoRA微调",
])
def test_a_question_about_anything_is_no_small_talk(text):
    assert not small_talk(text)


def test_no_off_glossary_question_of_the_eval_set_is_small_talk():
    """data/eval/off_glossary.jsonl: real questions the glossary lacks, on machine learning or not, which
    the keepers want in the gaps report."""
    cases = [json.loads(line) for line in (DEFAULT_DATA_DIR / "eval" / "off_glossary.jsonl").read_text().splitlines()]
    assert len(cases) > 300
    assert [c["query"] for c in cases if small_talk(c["query"])] == []


def test_storable_text_drops_what_reorders_hides_or_controls_and_keeps_what_joins() -> None:
    from bot.glossary.normalize import storable

    # a terminal's escapes and NUL become spaces; bidi overrides and isolates, zero-width spaces go
    assert storable("knit \x1b[2Jred\x00 \u202escarf\u2066 x\u200by\ufeff") == "knit  [2Jred  scarf xy"
    # emoji sequences and scripts keep their joiners and selectors: 👩‍💻, ❤️, 1️⃣, Persian's ZWNJ
    for kept in ("👩\u200d💻", "❤\ufe0f", "1\ufe0f\u20e3", "می\u200cخواهم", "line one\nline two"):
        assert storable(kept) == kept
    assert storable("lone \ud800 surrogate") == "lone \ufffd surrogate"


def test_a_long_message_keeps_its_last_question_and_a_question_before_a_paste_keeps_its_head():
    """QA74: a message longer than the search reads is cut around its last question, which learners
    put after their context; a question followed by a long paste (a traceback) keeps its head."""
    context = "The DPO paper folds the reward model into the policy objective, and I follow most of it. " * 12
    read = plain_text(context + "Unrelated, but what is PPO? thanks")
    assert read.endswith("what is PPO?") and len(read) <= MAX_QUERY_CHARS
    assert read.split()[0] in context.split()  # from a word's start
    pasted = plain_text("why does this fail? " + "Traceback (most recent call last): File x.py, line 3 " * 30)
    assert pasted.startswith("why does this fail?") and len(pasted) <= MAX_QUERY_CHARS
    assert plain_text("no question here " * 100) == ("no question here " * 100)[:MAX_QUERY_CHARS].rstrip()
    # review 55: a "?" in pasted code asks nothing, and a message of one long word stays in bounds
    fenced = plain_text("what is gradient checkpointing, and why does this fail?\n```\n"
                        + '  File "train.py", line 3, in <module>\n' * 60
                        + "AttributeError: no such attribute. Did you mean: 'gradient_checkpointing_enable'?\n```")
    assert fenced.startswith("what is gradient checkpointing, and why does this fail?") and "'?" not in fenced
    assert len(plain_text("x" * 1500 + "?")) == MAX_QUERY_CHARS
    compact = plain_text("what is a logit bias, and what does this mean " + '{"a":1,"b":2}' * 100 + "? thanks")
    assert compact.startswith("what is a logit bias") and compact.endswith("?") and len(compact) <= MAX_QUERY_CHARS
    both = plain_text("Have you read the DPO paper? " + context + "Unrelated, but what is PPO? thanks")
    assert both.startswith("Have you read the DPO paper?") and both.endswith("what is PPO?")
