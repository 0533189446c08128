"""NUL in typed text with the state in PostgreSQL, which refuses it in text (SQLite keeps it): a
note, an alias or a question with one is stored without it (QA68: "Something went wrong", and
questions never logged, so no votes)."""

from __future__ import annotations

import pytest

from .command_world import World


@pytest.fixture(scope="module")
def on_postgresql(real_index_path, real_embedder, tmp_path_factory, postgres_server):
    url = postgres_server.create_database("stored_input_nul")
    world = World(real_index_path, real_embedder, tmp_path_factory.mktemp("pg") / "unused.db",
                  database_url=url, hash_key="k" * 64)
    yield world
    world.close()


@pytest.mark.parametrize("command, options", [
    ("glossary note set", {"term": "LoRA", "text": "Lab\x00 4 uses rank 8."}),
    ("glossary alias add", {"alias": "yt\x00dl", "term": "LoRA"}),
])
def test_a_nul_in_a_note_or_alias_is_saved_without_it_on_postgresql(on_postgresql: World, command: str,
                                                                     options: dict) -> None:
    # PostgreSQL refuses NUL in text ("Something went wrong", a traceback, and no retry could work)
    before = len(on_postgresql.errors.records)
    answer = on_postgresql.command(command, options)
    assert "Something went wrong" not in answer.text, answer.text
    assert len(on_postgresql.errors.records) == before, on_postgresql.errors.messages()[before:]


def test_a_nul_in_a_question_is_logged_with_its_votes_on_postgresql(on_postgresql: World) -> None:
    before = len(on_postgresql.errors.records)
    answer = on_postgresql.command("ask", {"question": "what is\x00 attention?"}, user=on_postgresql.user)
    assert "Attention" in answer.text
    buttons = [c.get("custom_id", "") for b in answer.bodies for row in b.get("components") or []
               for c in row["components"]]
    assert len(on_postgresql.errors.records) == before, on_postgresql.errors.messages()[before:][:1]
    assert any(i.startswith("gloss:fb:") for i in buttons), buttons
