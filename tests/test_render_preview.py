"""scripts/render_preview.py draws the bot's real replies for the README from the same
render code the bot sends (issue 15): it must keep working as that code changes."""

from __future__ import annotations

import pytest

pytest.importorskip("PIL")

from PIL import Image  # noqa: E402

from scripts import render_preview  # noqa: E402


@pytest.mark.parametrize("argv", [[], ["--ask", "what's the trick where you recompute activations to save memory?"],
                                  ["--ask", "how do I make my model less wrong"], ["--ask", "bf16 vs fp16"]])
def test_the_preview_is_drawn_from_the_bots_own_reply(argv, real_index_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    monkeypatch.chdir(tmp_path)  # no .env here
    out = tmp_path / "reply.png"
    assert render_preview.main([*argv, "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width == render_preview.WIDTH and image.height > 150


def test_a_define_preview_shows_the_entry_and_its_related_buttons(real_index_path, monkeypatch, tmp_path):
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    monkeypatch.chdir(tmp_path)
    from bot.config import Settings
    from bot.glossary.service import Glossary

    content, embed, view = render_preview.reply_for(Glossary(Settings.load()), "define", "attention")
    assert content is None and embed.title == "Attention"
    assert view.children and all(button.label for button in view.children)
