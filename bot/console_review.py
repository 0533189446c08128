"""/review in the local console: the Discord cog's spaced review (bot/discord_bot/cogs/review.py)
for the one local user, as text, in the same state database the bot uses.

`/review` shows the most overdue card's term; the next line (Enter, or a guess) shows its
definition and asks for a rating; the line after rates it ("good" or "3") and shows the next
card. A line that is not a rating leaves the card unrated and is handled as usual, after a
line saying the review is paused (console.handle_line), as an unanswered /quiz question is. The state database is opened at the first /review, so a
console that never reviews never creates one; if it cannot be opened, /review says why and
the rest of the console works as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .glossary.search import Searcher
from .present import entry_text
from .state import StateError, StateStore
from .state.study import DeckStats
from .study import anki, review
from .study.deck import card_named

USER_ID = GUILD_ID = 0  # the console's one user, in no server
FRONT, BACK = "front", "back"
RATING_NAMES = tuple(review.RATINGS)  # again, hard, good, easy: 1–4
USAGE = ("Usage: /review | /review add <term> | /review remove <term> | /review stats | /review export [file]  "
         "(type /help for all commands)")
EMPTY_DECK = "Your review deck is empty. Add a term with /review add <term> (e.g. /review add attention), then /review."


def utc_now() -> datetime:
    return datetime.now(UTC)


def machine_zone() -> tzinfo:
    """This machine's time zone with its rules (TZ, else /etc/localtime's name), so that midnight on
    a day the clocks change is where it is; else the offset it has now."""
    for name in (os.environ.get("TZ", "").lstrip(":"), _linked_zone("/etc/localtime")):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return datetime.now().astimezone().tzinfo or UTC


def _linked_zone(path: str) -> str:
    target = os.path.realpath(path)
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""


@dataclass
class Pending:
    card: review.Card
    stage: str  # FRONT: the term is shown; BACK: the definition is shown, a rating is expected


@dataclass
class ConsoleReview:
    """One console session's review: the state database (opened on first use) and the card on screen."""

    path: Path | str | None  # the SQLite file or the PostgreSQL URL
    now: Callable[[], datetime] = utc_now
    pending: Pending | None = None
    _store: StateStore | None = None
    _error: str | None = None

    # -- the database ------------------------------------------------------------------------

    def store(self) -> StateStore | None:
        """The open state store, or None (and `unavailable()` says why)."""
        if self._store is None and self._error is None:
            if self.path is None:
                self._error = "no state database is configured for this console"
            else:
                try:
                    self._store = StateStore(self.path)
                except StateError as exc:
                    self._error = " ".join(str(exc).split())
        return self._store

    def unavailable(self) -> str:
        return f"/review is unavailable: {self._error}"

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- commands ------------------------------------------------------------------------------

    def command(self, searcher: Searcher, argument: str) -> str:
        """The answer to `/review <argument>`."""
        self.pending = None
        action, _, rest = argument.partition(" ")
        action, rest = action.lower(), rest.strip()
        store = self.store()
        if store is None:
            return self.unavailable()
        if action in ("", "start"):
            return self._next_card(searcher, store)
        if action == "add":
            return self._add(searcher, store, rest) if rest else "Usage: /review add <term>"
        if action == "remove":
            return self._remove(searcher, store, rest) if rest else "Usage: /review remove <term>"
        if action == "export":
            return self._export(searcher, store, rest or anki.FILENAME)
        if action == "stats":
            now = self.now()
            stranded = settle(searcher, store)
            # "due today" ends at this machine's midnight: the console's user is at it
            return stats_text(store.study.deck_stats(USER_ID, now, frozenset(stranded), zone=machine_zone()),
                              now, stranded)
        return USAGE

    def _export(self, searcher: Searcher, store: StateStore, where: str) -> str:
        """The deck as a file Anki imports (as /review export on Discord), written to `where` (a folder:
        the usual file name in it); a file there is replaced only if it is an earlier export (anything
        else may be someone's work, an Anki export of their own notes too)."""
        stranded = settle(searcher, store)
        entries = anki.exportable(store.study.deck_terms(USER_ID), stranded, searcher.entry_now_named)
        if not entries:
            return export_nothing(len(stranded))
        where = where.strip()
        if len(where) >= 2 and where[0] == where[-1] and where[0] in "\"'":
            where = where[1:-1]  # "my deck.txt", as a shell would take it
        path = Path(where).expanduser()
        try:
            if path.is_dir():
                path = path / anki.FILENAME
            if path.exists() and not path.is_file():
                return f"Not written: {path} is not a regular file. Name a file: /review export <file>"
            if path.exists() and not anki.is_earlier_export(path):
                return (f"Not written: {path} already exists and is not an earlier export. "
                        "Name another file: /review export <file>")
            anki.write_export(path, anki.anki_notes(entries))
        except OSError as exc:
            return f"Could not write {path}: {exc.strerror or exc} (nothing was changed)"
        return (f"Wrote {len(entries)} card{'s' if len(entries) != 1 else ''} to {path.resolve()}: in Anki, File → "
                f"Import and pick it (the cards go to a deck named “{anki.DECK_NAME}”; schedules are not copied; "
                "in an Anki not in English, set the note type to Basic's own name in the import window)."
                + export_set_aside(len(stranded)))

    def _add(self, searcher: Searcher, store: StateStore, term: str) -> str:
        entry, suggestions = searcher.confident_entry(term)
        if entry is None:
            hint = f" Did you mean: {'; '.join(e.term for e in suggestions)}?" if suggestions else ""
            return f"The glossary has no entry “{_shown(term)}”.{hint}"
        settle(searcher, store)  # a card kept under the entry's old name is this one (as on Discord)
        if not store.study.add_card(USER_ID, entry.term, self.now()):
            return f"{entry.term} is already in your review deck."
        return f"Added {entry.term} to your review deck. /review shows your cards when they are due."

    def _remove(self, searcher: Searcher, store: StateStore, term: str) -> str:
        """As on Discord (cogs/review.py): the card's own name first, matched as loosely as a lookup
        matches an entry's (a card set aside has no entry to be found by), else the entry the text names."""
        settle(searcher, store)
        deck = store.study.deck_terms(USER_ID)
        card = card_named(deck, term)
        if card is None:
            entry, _ = searcher.confident_entry(term)
            card = card_named(deck, entry.term) if entry is not None else None
        if card is not None and store.study.remove_card(USER_ID, card):
            return f"Removed {card} from your review deck."
        return f"“{_shown(term)}” is not in your review deck."

    def _next_card(self, searcher: Searcher, store: StateStore, rated: review.Card | None = None) -> str:
        """The next due card's front (and it becomes pending), or "All done". The deck is settled
        first, as on Discord (settle): a renamed term follows its entry, and a card whose term left
        the glossary is set aside, not deleted, and named here and in /review stats."""
        study, now = store.study, self.now()
        lines = []
        if rated is not None:
            lines.append(f"{rated.term} comes back {review.describe_wait(rated.due - now)}.")
        stranded = settle(searcher, store)
        card = study.next_due(USER_ID, now, frozenset(stranded))
        stats = study.deck_stats(USER_ID, now, frozenset(stranded))
        if card is not None:
            self.pending = Pending(card, FRONT)
            if lines:
                lines.append("")
            lines += [card.term, "=" * min(len(card.term), 88),
                      "What does it mean? Recall it, then press Enter to see the definition.",
                      f"({stats.due_now} card{'s' if stats.due_now != 1 else ''} due · spaced review)"]
        elif not stats.cards and not stranded:
            lines.append(EMPTY_DECK)
        else:
            done = "All done: no cards due right now."
            if stats.next_due is not None:
                done += f" Next card due {review.describe_wait(stats.next_due - now)}."
            lines.append(done)
            lines += stranded_lines(stranded)
        return "\n".join(lines)

    # -- the line after a card -----------------------------------------------------------------

    def answer(self, searcher: Searcher, line: str) -> str | None:
        """The reply if `line` continues the pending card; None (and the card left unrated) if
        it does not, so the line is handled as usual."""
        pending = self.pending
        if pending is None:
            return None
        store = self.store()
        if store is None:
            self.pending = None
            return None
        if pending.stage == FRONT:
            if line.startswith("/"):  # a command, not a guess: the card stays due, unrated
                self.pending = None
                return None
            return self._back(searcher, store, pending.card)
        if not line:  # a stray Enter: the rating is still expected
            return ""
        rating = parse_rating(line)
        if rating is None and line.strip().rstrip(".!)").isdigit():
            # "9": meant as a rating, not a question; the card stays on screen
            return f"Rate it with 1–{len(RATING_NAMES)}: " + " / ".join(RATING_NAMES) + "."
        self.pending = None
        if rating is None:
            return None
        rated = store.study.rate(pending.card.card_id, USER_ID, pending.card.reviews, rating, self.now(), GUILD_ID)
        if rated is None:
            return "That card was already rated (in another session?). /review shows your next card."
        return self._next_card(searcher, store, rated)

    def _back(self, searcher: Searcher, store: StateStore, card: review.Card) -> str:
        entry = searcher.entry_now_named(card.term)
        if entry is None:  # left the glossary since the front was shown
            self.pending = None
            return self._next_card(searcher, store)
        self.pending = Pending(card, BACK)
        now = self.now()
        waits = [f"{n} {name}: {review.describe_wait(review.rate(card, name, now).due - now).removeprefix('in ')}"
                 for n, name in enumerate(RATING_NAMES, start=1)]
        return "\n".join([entry_text(entry, None, []), "",
                          "How well did you remember it? again / hard / good / easy (1-4)",
                          "  " + " · ".join(waits)])


def parse_rating(line: str) -> str | None:
    """"good", "Good.", "3" → "good"; None if the line is not a rating."""
    text = line.strip().lower().rstrip(".!)")
    if text.isdigit() and 1 <= int(text) <= len(RATING_NAMES):
        return RATING_NAMES[int(text) - 1]
    return text if text in review.RATINGS else None


def settle(searcher: Searcher, store: StateStore) -> dict[str, str | None]:
    """The console user's deck brought up to the glossary (StudyRecords.settle_deck): the stranded cards."""
    def term_now(term: str) -> str | None:
        entry = searcher.entry_now_named(term)
        return None if entry is None else entry.term
    return store.study.settle_deck(USER_ID, term_now)


def stranded_lines(stranded: dict[str, str | None]) -> list[str]:
    """Cards set aside: whose term left the glossary, or old cards of a renamed term also in the deck."""
    gone = sorted(t for t, now in stranded.items() if now is None)
    lines = []
    if gone:
        they = "it" if len(gone) == 1 else "them"
        lines.append(f"Set aside, no longer in the glossary (not shown or counted): {'; '.join(gone)}. "
                     f"/review remove {they}, or keep {they} in case the glossary brings {they} back.")
    lines += [f"Set aside: {old} is now called {now}, which is in your deck too. /review remove {old} drops it."
              for old, now in sorted(stranded.items()) if now is not None]
    return lines


def stats_text(stats: DeckStats, now: datetime, stranded: dict[str, str | None] | None = None) -> str:
    retention = "no learned card reviewed yet" if stats.retention_30d is None else (
        f"{stats.retention_30d:.0%} of {stats.reviews_30d} review{'s' if stats.reviews_30d != 1 else ''}")
    lines = ["Your review deck",
             f"  Due now:            {stats.due_now}",
             f"  Due today:          {stats.due_today}",
             f"  Cards:              {stats.cards}",
             f"  Learned:            {stats.learned}",
             f"  Recalled (30 days): {retention}"]
    if not stats.due_now and stats.next_due is not None:
        lines.append(f"Next card due {review.describe_wait(stats.next_due - now)}.")
    lines += stranded_lines(stranded or {})
    lines.append("(scheduled by FSRS · /review to review)")
    return "\n".join(lines)


def _shown(text: str, width: int = 100) -> str:
    """User text echoed on one line, without control characters."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def export_nothing(stranded: int) -> str:
    """Why /review export writes no file: no card, or only cards whose term left the glossary."""
    if stranded:
        return (f"Nothing to export: {'your one card is' if stranded == 1 else f'all {stranded} of your cards are'} "
                "for a term that left the glossary (/review stats names them).")
    return "Your review deck is empty, so there is nothing to export. Add a term with /review add <term>."


def export_set_aside(stranded: int) -> str:
    """What an export leaves out: cards whose term left the glossary."""
    if not stranded:
        return ""
    return (f" {'A card' if stranded == 1 else f'{stranded} cards'} whose term left the glossary "
            f"{'is' if stranded == 1 else 'are'} not in it (/review stats names them).")
