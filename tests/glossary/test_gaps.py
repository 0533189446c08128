"""The gaps report groups uncovered questions by meaning with the real model: three
topics × four phrasings (one decorated as Discord users write) come out as three topics,
each labelled by one of its own questions and ranked by distinct askers."""

from __future__ import annotations

import numpy as np

from bot.glossary.gaps import GapQuestion, gaps_report, topics

TOPICS = {
    "docker": ["how do I give a docker container access to my gpu", "nvidia-docker not seeing the gpu",
               "docker run --gpus all fails with could not select device driver",
               "GPU passthrough into a docker container for training"],
    "neurips": ["when is the neurips submission deadline", "neurips 2025 paper deadline?",
                "how long is the review period for neurips submissions", "what's the page limit for a neurips paper"],
    "excel": ["how do I do a vlookup in excel", "excel formula to look up a value in another sheet",
              "vlookup returns #N/A in my spreadsheet", "**how to use xlookup in excel** lol"],
}


def test_three_topics_come_out_as_three_groups(searcher) -> None:
    # docker asked by four people, neurips by two (one asked three times), excel by three
    askers = {"docker": ["a", "b", "c", "d"], "neurips": ["a", "e", "e", "e"], "excel": ["f", "g", "h", "h"]}
    questions = [GapQuestion(q, askers[topic][i]) for topic, qs in TOPICS.items() for i, q in enumerate(qs)]
    # follow-ups name no topic: they are no gap, however many ask them
    questions += [GapQuestion(q, user) for q, user in (("ok but why?", "a"), ("why?", "b"), ("tell me more", "c"),
                                                        ("give me an example pls", "d"),
                                                        ("who are you?", "e"), ("what can you do", "f"))]
    gaps = gaps_report(questions, searcher)
    topic_of = {q: topic for topic, qs in TOPICS.items() for q in qs}
    assert [{topic_of[q] for q in gap.examples} for gap in gaps] == [{"docker"}, {"excel"}, {"neurips"}]
    assert [(gap.askers, gap.asked) for gap in gaps] == [(4, 4), (3, 4), (2, 4)]
    for gap in gaps:
        assert gap.label in gap.examples and len(gap.nearest) <= 3
    assert "CUDA" in gaps[0].nearest  # the nearest entries say what almost covers it
    assert not gaps[1].nearest  # and none is named for a spreadsheet's lookups: nothing near


def test_topics_start_from_the_most_typical_row() -> None:
    vectors = np.array([[1, 0], [0.9, 0.436], [0.95, 0.312], [0, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = topics(vectors, 0.8)
    assert sorted(map(sorted, groups)) == [[0, 1, 2], [3]]
    assert groups[0][0] == 2  # closest to the other two
    assert topics(np.empty((0, 2), dtype=np.float32)) == []


def test_a_zero_or_broken_vector_is_a_group_of_its_own_not_a_hang() -> None:
    vectors = np.array([[1, 0], [0, 0], [0.99, 0.14]], dtype=np.float32)
    assert sorted(map(sorted, topics(vectors, 0.8))) == [[0, 2], [1]]
