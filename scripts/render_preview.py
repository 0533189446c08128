"""Draw the bot's real reply to a command as Discord shows it, for the README.

    pip install pillow
    python scripts/render_preview.py                         # /define attention → docs/images/define-attention.png
    python scripts/render_preview.py --ask "what's the trick where you recompute activations to save memory?" \
        --out docs/images/ask.png
    python scripts/render_preview.py --ask "bf16 vs fp16" --out docs/images/compare.png

The reply is made by the bot's own code (the search, bot.discord_bot.render's embed and
buttons), so the picture changes when the rendering does; only the drawing is here.
Fonts: DejaVu Sans when installed (Debian: fonts-dejavu-core), else Pillow's own.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.discord_bot import render  # noqa: E402
from bot.glossary.search import ANSWER, NOT_FOUND  # noqa: E402
from bot.glossary.service import Glossary  # noqa: E402

WIDTH, MARGIN, EMBED_WIDTH = 900, 20, 760
BACKGROUND, TEXT, MUTED, EMBED_BG = (49, 51, 56), (219, 222, 225), (148, 155, 164), (43, 45, 49)
BUTTON = {"primary": (88, 101, 242), "secondary": (78, 80, 88)}
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return ImageFont.truetype(str(path), size) if path.is_file() else ImageFont.load_default(size)


def reply_for(glossary: Glossary, command: str, text: str):
    """(content, embed, view) exactly as the lookup cog would send them."""
    searcher = glossary.open()
    result = searcher.search(text)
    if result.asked and result.band != NOT_FOUND:
        return None, *render.side_by_side(result)
    if result.band != ANSWER or not result.best:
        entries = [h.entry for h in result.hits[:3]]
        return render.suggest_text(text, entries), None, render.suggestions_view(entries)
    entry = result.best.entry
    others = [h.entry for h in result.others] if command == "ask" else []
    related = [r for r in searcher.related(entry.id) if r.entry not in others]
    return None, render.entry_embed(entry, result.best.match, others=others), \
        render.entry_view(entry, related, others=others)


def embed_lines(data: dict) -> list[tuple[str, ImageFont.FreeTypeFont, tuple, int]]:
    """The embed as (text, font, colour, height) lines, top to bottom."""
    lines = [(data["title"], font(17, bold=True), (255, 255, 255), 30)]
    for paragraph in data.get("description", "").split("\n"):
        lines += [(part, font(15), TEXT, 22) for part in textwrap.wrap(paragraph, 84) or [""]]
    for field in data.get("fields", []):
        lines.append((field["name"], font(15, bold=True), (255, 255, 255), 30))
        for paragraph in field["value"].replace("\\", "").split("\n"):
            lines += [(part, font(15), TEXT, 22) for part in textwrap.wrap(paragraph, 84) or [""]]
    lines.append((data["footer"]["text"], font(12), MUTED, 18))
    return lines


def draw(command: str, text: str, content, embed, view) -> Image.Image:
    canvas = Image.new("RGB", (WIDTH, 2400), BACKGROUND)
    pen = ImageDraw.Draw(canvas)
    x, y = MARGIN + 56, MARGIN
    pen.text((x, y), f"used /{command} {text}", font=font(14), fill=MUTED)
    y += 26
    pen.ellipse((MARGIN, y, MARGIN + 40, y + 40), fill=BUTTON["primary"])
    pen.text((MARGIN + 11, y + 8), "G", font=font(20, bold=True), fill=(255, 255, 255))
    pen.text((x, y), "Glossary Bot", font=font(16, bold=True), fill=(255, 255, 255))
    pen.rounded_rectangle((x + 122, y + 2, x + 160, y + 20), 3, fill=BUTTON["primary"])
    pen.text((x + 127, y + 4), "APP", font=font(11, bold=True), fill=(255, 255, 255))
    y += 28
    for line in (content or "").replace("**", "").split("\n") if content else []:
        for part in textwrap.wrap(line, 95) or [""]:
            pen.text((x, y), part, font=font(15), fill=TEXT)
            y += 22
    if embed is not None:
        lines = embed_lines(embed.to_dict())
        height = 24 + sum(h for *_rest, h in lines)
        pen.rounded_rectangle((x, y, x + EMBED_WIDTH, y + height), 4, fill=EMBED_BG)
        pen.rectangle((x, y, x + 3, y + height), fill=BUTTON["primary"])
        ty = y + 12
        for line, face, colour, step in lines:
            pen.text((x + 16, ty), line, font=face, fill=colour)
            ty += step
        y += height
    y += 8
    rows: dict[int, list] = {}
    for item in view.children:
        rows.setdefault(item.row or 0, []).append(item)
    for row in sorted(rows):
        bx = x
        for button in rows[row]:
            label = button.label or ""
            width = int(pen.textlength(label, font=font(14))) + 28
            if bx > x and bx + width > WIDTH - MARGIN:  # Discord wraps a row that is too wide
                bx, y = x, y + 40
            pen.rounded_rectangle((bx, y, bx + width, y + 32), 4, fill=BUTTON[button.style.name])
            pen.text((bx + 14, y + 7), label, font=font(14), fill=(255, 255, 255))
            bx += width + 8
        y += 40
    return canvas.crop((0, 0, WIDTH, y + MARGIN))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--define", default="attention", help="the term for /define (default: attention)")
    parser.add_argument("--ask", help="draw /ask with this question instead")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "define-attention.png")
    args = parser.parse_args(argv)
    command, text = ("ask", args.ask) if args.ask else ("define", args.define)
    content, embed, view = reply_for(Glossary(Settings.load()), command, text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw(command, text, content, embed, view).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
