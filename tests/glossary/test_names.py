"""Names as typed (bot/glossary/names.py), through the search on the real glossary."""

from bot.glossary.search import ANSWER, NOT_FOUND, SUGGEST


def test_a_short_acronym_with_a_letter_far_off_the_keyboard_is_another_name(searcher):
    # DoRA, ORPO and LoHa are methods of their own the glossary lacks, once answered as LoRA and GRPO.
    for typed, near in (("dora", "LoRA"), ("what is orpo", "GRPO"), ("loha", "LoRA")):
        result = searcher.search(typed)
        assert result.band == SUGGEST and result.best.entry.term == near, typed


def test_a_short_acronym_with_a_neighbouring_key_is_still_a_slip(searcher):
    for typed, term in (("lpra", "LoRA"), ("kora", "LoRA"), ("what is qlroa", "QLoRA")):
        result = searcher.search(typed)
        assert result.band == ANSWER and result.best.entry.term == term, typed


def test_a_name_practitioners_use_for_something_else_is_offered_not_corrected(searcher):
    # TRPO (listed in On-policy's vocabulary) is one neighbouring key from GRPO; RAdam and NAdam put a
    # letter before Adam; Imagen 2 and DALL-E 2 are other versions. Each was answered as the entry.
    for typed, near in (("what is TRPO", "GRPO"), ("trpo", "GRPO"), ("what is RAdam", "Adam"),
                        ("whats nadam", "Adam"), ("what is Imagen 2", "Imagen 3"), ("what is DALL-E 2", "DALL·E 3")):
        result = searcher.search(typed)
        assert result.band == SUGGEST and near in [h.entry.term for h in result.hits], typed


def test_a_slip_that_stems_like_a_listed_word_or_a_count_before_a_word_is_still_that_name(searcher):
    # "detecter" stems to a word other entries list; "nsamples" is a count of samples, and Sample a word
    # of the trade (in 52 definitions), not a proper name a prefix turns into another
    for typed, term in (("canny edge detecter", "Canny edge detector"), ("overfiting", "Overfitting"),
                        ("what is adam", "Adam"), ("what is imagen 3", "Imagen 3")):
        result = searcher.search(typed)
        assert result.band == ANSWER and result.best.entry.term == term, typed
    assert "Sample" in [h.entry.term for h in searcher.search("what is nsamples").hits[:3]]


def test_a_comparison_with_a_name_of_something_else_answers_the_entry_and_names_the_other(searcher):
    result = searcher.search("whats the difference between ppo and trpo")
    assert result.band == ANSWER and result.best.entry.term == "PPO" and "TRPO" in (result.note or "").upper()


def test_a_misspelt_name_inside_a_longer_message_is_read_as_the_name(searcher):
    # each was refused: the model reads "cashe" or "checkpointng" as noise, and a spelling match is
    # only tried on short texts
    for text, term in (("what is teh kv cashe", "KV cache"),
                       ("cuda oom when finetuning, someone said try gradient checkpointng", "Gradient checkpointing"),
                       ("my prof mentioned speculatve decoding today, how does it work", "Speculative decoding")):
        result = searcher.search(text)
        assert result.band != NOT_FOUND and result.best.entry.term == term, text
        assert result.query == text  # the reply is to what was asked


def test_only_a_slip_that_completes_a_name_is_respelled(searcher):
    assert "sweet" in searcher._english and "cashe" not in searcher._english  # the tokenizer's whole words

    def english():
        return searcher._english

    respelled = searcher.names.respelled
    assert respelled("why does a kernel of sweet corn burn", english) == "why does a kernel of sweet corn burn"
    for text in ("is SMOTE oversampling legit", "django or flask for a blog", "spaCy: can't find model",
                 "a fandom wiki", "step 7,200 volts down"):
        assert respelled(text, english) == text  # slang, other tools, a first letter, a name too short alone
    assert respelled("why is my tokenzier slow", english) == "why is my tokenizer slow"
    assert respelled("why is my tokenzier slow", frozenset) == "why is my tokenzier slow"  # no word list: no guess


def test_an_unknown_coined_name_asked_about_with_its_domain_is_offered_with_a_note(searcher):
    # the domain's words made the ranker sure of the domain (BC), not of the name asked about
    result = searcher.search("what is GAIL imitation learning")
    assert result.band == SUGGEST and "GAIL" in result.note
    # TF32 is in Tensor Core's vocabulary, not in float32's, which the ranker answered
    tf32 = searcher.search("torch.backends.cuda.matmul.allow_tf32 = True made my A100 training 2x faster, "
                           "what is tf32 precision")
    assert tf32.band == SUGGEST and "tf32" in tf32.note
    named = searcher.search("what is NCCL error")  # a name the glossary uses stays answered
    assert named.band == ANSWER and named.best.entry.term == "NCCL"


def test_a_name_beside_a_word_the_glossary_never_uses_is_a_kind_of_it_not_a_slip(searcher):
    # "fp6 quantization" was answered as Quantization by spelling (85.7, over the bar)
    for text in ("what is fp6 quantization", "what is nf4 quantization"):
        result = searcher.search(text)
        assert result.band == SUGGEST and result.best.entry.term == "Quantization", text
