"""Study mode → Discord messages: review cards, /stats, /leaderboard, /forget-me, channel
rounds. Pure functions, within Discord's limits (see render.py); buttons carry their
state in custom ids (`gloss:rev:…`, `gloss:round:…`, `gloss:forget:…`) so they work
after a restart."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

import discord

from ..glossary.quiz import TERM
from ..glossary.store import StoredEntry
from ..state.study import REMINDER_HOURS, BoardRow, DeckStats, Round, UserStats
from ..study import anki, review, scoring
from . import render

REVIEW_PREFIX = "gloss:rev:"
ROUND_PREFIX = "gloss:round:"
FORGET_YES, FORGET_NO = "gloss:forget:yes", "gloss:forget:no"
RATING_STYLES = {"again": discord.ButtonStyle.danger, "hard": discord.ButtonStyle.secondary,
                 "good": discord.ButtonStyle.success, "easy": discord.ButtonStyle.primary}


# -- review ------------------------------------------------------------------------------------

def parse_review_id(custom_id: str) -> tuple[str, list[str]] | None:
    """("add", [term]) / ("show", [card, reviews]) / ("rate", [card, reviews, rating]), or None."""
    if not custom_id.startswith(REVIEW_PREFIX):
        return None
    action, _, rest = custom_id[len(REVIEW_PREFIX):].partition(":")
    if action == "add" and rest:
        return action, [rest]
    parts = rest.split(":")
    if action == "show" and len(parts) == 2 and all(_number(p) is not None for p in parts):
        return action, parts
    if action == "rate" and len(parts) == 3 and all(_number(p) is not None for p in parts[:2]) \
            and parts[2] in review.RATINGS:
        return action, parts
    return None


REMINDERS_REFUSED = ("⚠️ Review reminders were turned off because I couldn't DM you. Open your DMs to me "
                     "(Privacy Settings: allow direct messages from a server we share, and don't block me), "
                     "then run `/review remind on`.")


#: what `/review timezone` takes for "no zone of my own": the server's days again
ZONE_CLEAR_WORDS = frozenset({"server", "default", "none", "off", "reset", "clear", "unset"})
_DAYS = "streaks, the day's scored quiz questions and “due today”"


def _reminder_hours() -> str:
    return f"{REMINDER_HOURS.start:02d}:00 and {REMINDER_HOURS.stop:02d}:00"


def _local_time(zone: tzinfo, now: datetime) -> str:
    return now.astimezone(zone).strftime("%H:%M")


_FIXED = (" It is a fixed offset, which summer time does not move: if your clocks change, pick your city's "
          "zone instead.")


def zone_set(name: str, zone: tzinfo, now: datetime, fixed: bool = False) -> str:
    return (f"Your time zone is now **{name}** (it is {_local_time(zone, now)} there). Your days ({_DAYS}) "
            f"follow it, and review reminders come only between {_reminder_hours()} there."
            + (_FIXED if fixed else ""))


def zone_shown(own: str | None, zone_name: str, zone: tzinfo, now: datetime, in_server: bool) -> str:
    """`/review timezone` without a zone: the user's own, or whose days they follow without one."""
    if own is not None and own == zone_name:
        return (f"Your time zone is **{own}** (it is {_local_time(zone, now)} there): your days ({_DAYS}) "
                f"follow it, and review reminders come only between {_reminder_hours()} there. "
                "`/review timezone zone:server` drops it.")
    if own is not None:  # stored under a tz database this machine lacks: shown as what is used instead
        return (f"Your time zone, **{render.escape_user_text(own, 60)}**, is unknown to this bot's time-zone data, "
                f"so your days follow **{zone_name}** (it is {_local_time(zone, now)} there) until it is "
                "updated. `/review timezone` with a city picks another.")
    follows = (f"this server's time zone, **{zone_name}**" if in_server
               else "UTC here, and each server's own time zone there")
    return (f"You have not set a time zone: your days ({_DAYS}) follow {follows}, and review reminders may "
            "come at any hour. `/review timezone zone:` and a city (start typing: Berlin, New York, Delhi) "
            "sets yours.")


def zone_dropped(zone_name: str, in_server: bool, had: bool = True) -> str:
    follows = f"this server's time zone, **{zone_name}**" if in_server else "each server's time zone (UTC here)"
    first = "Your own time zone is gone" if had else "You have no time zone of your own"
    return f"{first}: your days follow {follows}, and review reminders may come at any hour."


def zone_unknown(typed: str, near: list[str], offset: bool = False) -> str:
    if offset:
        return (f"“{render.escape_user_text(typed, 60)}” is no UTC offset I can use: write it as UTC+2, UTC-5 "
                "or UTC+5:30 (from UTC-12 to UTC+14), or better, start typing your city, whose zone follows "
                "summer time.")
    text = f"“{render.escape_user_text(typed, 60)}” is not a time zone I know."
    if near:
        return text + " Did you mean " + " or ".join(f"**{z}**" for z in near) + "?"
    return (text + " Start typing your city or country in the `zone` option (Berlin, New York, Delhi) and pick "
            "from the list, or give an offset such as UTC+2.")


def exported(cards: int, stranded: int) -> str:
    """What comes with the Anki file of a deck (`/review export`)."""
    text = (f"Your review deck, {cards} card{'s' if cards != 1 else ''}, as a file Anki imports: in Anki, "
            f"**File → Import** and pick it (the cards go to a deck named “{anki.DECK_NAME}”). In an Anki not in "
            "English, set **Note type** to Basic in its own words (Einfach, Basique, …) in the import window: "
            "the file names it in English. Schedules are not copied: Anki starts them as new, and your deck "
            "here goes on as it was.")
    if stranded:
        text += (f" {_plural(stranded, 'A card', f'{stranded} cards')} whose term left the glossary "
                 f"{_plural(stranded, 'is', 'are')} not in it (`/review stats` names them).")
    return text


def export_empty(stranded: int) -> str:
    """Why `/review export` sends no file: no card, or only cards whose term left the glossary."""
    if stranded:
        return (f"Nothing to export: {_plural(stranded, 'your one card is', f'all {stranded} of your cards are')} "
                "for a term that left the glossary (`/review stats` names them), and the file holds the "
                "glossary's text.")
    return ("Your review deck is empty, so there is nothing to export. Press **📚 Add to my review** under "
            "any definition, or use `/review add`.")


def card_front(card: review.Card, due: int) -> tuple[discord.Embed, discord.ui.View]:
    embed = discord.Embed(title=render.clip(card.term, render.TITLE_MAX), colour=render.COLOUR,
                          description="What does it mean? Recall it, then press **Show definition**.")
    embed.set_footer(text=f"{due} card{'s' if due != 1 else ''} due · spaced review")
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Show definition", style=discord.ButtonStyle.primary,
                                    custom_id=f"{REVIEW_PREFIX}show:{card.card_id}:{card.reviews}"))
    return embed, view


def card_back(card: review.Card, entry: StoredEntry, now: datetime) -> tuple[discord.Embed, discord.ui.View]:
    """The definition, and a button per rating saying when the card would come back."""
    embed = render.entry_embed(entry)
    embed.set_footer(text="How well did you remember it? · from the glossary")
    view = discord.ui.View(timeout=None)
    for name in review.RATINGS:
        wait = review.describe_wait(review.rate(card, name, now).due - now).removeprefix("in ")
        view.add_item(discord.ui.Button(label=f"{name.title()} · {wait}", style=RATING_STYLES[name],
                                        custom_id=f"{REVIEW_PREFIX}rate:{card.card_id}:{card.reviews}:{name}"))
    return embed, view


def term_left_glossary(term: str) -> str:
    """Said to "Show definition" on a card whose term the glossary dropped since its front was shown."""
    return (f"**{discord.utils.escape_markdown(render.clip(term, 100))}** left the glossary, so its card is set "
            "aside: `/review stats` lists such cards, and `/review remove` takes one out. `/review start` shows "
            "your next card.")


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _names(terms: list[str], limit: int = 10) -> str:
    shown = ", ".join(f"**{discord.utils.escape_markdown(render.clip(t, 100))}**" for t in terms[:limit])
    return shown + (f" and {len(terms) - limit} more" if len(terms) > limit else "")


def stranded_lines(stranded: Mapping[str, str | None], *, brief: bool = False) -> list[str]:
    """What to tell a user about their stranded cards (StudyRecords.settle_deck): those whose term left
    the glossary, and old cards of a renamed term they also have a card of. `brief`: a line each
    pointing to /review stats, which names them."""
    gone = sorted(t for t, now in stranded.items() if now is None)
    doubled = sorted((t, now) for t, now in stranded.items() if now is not None)
    lines = []
    if gone and brief:
        what = _plural(len(gone), "card whose term left the glossary is", "cards whose terms left the glossary are")
        lines.append(f"{len(gone)} {what} set aside, not shown or counted: `/review stats` says which.")
    elif gone:
        n = len(gone)
        lines.append(f"{n} {_plural(n, 'card whose term', 'cards whose terms')} left the glossary: {_names(gone)}. "
                     f"{_plural(n, 'It is', 'They are')} not shown or counted as due; `/review remove` "
                     f"{_plural(n, 'it', 'them')}, or keep {_plural(n, 'it', 'them')} in case the glossary "
                     f"brings {_plural(n, 'it', 'them')} back.")
    if doubled and brief:
        what = _plural(len(doubled), "old card of a renamed term is", "old cards of renamed terms are")
        lines.append(f"{len(doubled)} {what} set aside, as you have the new name's card too: "
                     "`/review stats` says which.")
    elif doubled:
        for old, new in doubled[:10]:
            old_name = discord.utils.escape_markdown(render.clip(old, 100))
            lines.append(f"**{old_name}** is now called **{discord.utils.escape_markdown(render.clip(new, 100))}**, "
                         "which has a card in your deck too: the old card is set aside; `/review remove` it.")
        if len(doubled) > 10:
            lines.append(f"… and {len(doubled) - 10} more old cards of renamed terms.")
    return lines


def all_done(stats: DeckStats, now: datetime, rated: review.Card | None = None,
             stranded: Mapping[str, str | None] | None = None) -> discord.Embed:
    lines = []
    if rated is not None:
        lines.append(f"**{discord.utils.escape_markdown(render.clip(rated.term, 200))}** comes back "
                     f"{review.describe_wait(rated.due - now)}.")
    if not stats.cards and not stranded:
        lines.append("Your review deck is empty. Press **📚 Add to my review** under any definition, "
                     "or use `/review add`.")
    else:
        lines.append("No cards due right now.")
        if stats.next_due is not None:
            lines.append(f"Next card due {review.describe_wait(stats.next_due - now)}.")
        if rated is None:  # opened with nothing due: a day without a rating is no day of the streak (QA72)
            lines.append("In a server, a `/quiz` question there keeps your daily streak going on a day with "
                         "nothing to review.")
        lines += stranded_lines(stranded or {}, brief=True)
    return discord.Embed(title="All done", description="\n".join(lines), colour=render.COLOUR)


def deck_embed(stats: DeckStats, stranded: Mapping[str, str | None] | None = None) -> discord.Embed:
    retention = "no learned card reviewed yet" if stats.retention_30d is None else (
        f"{stats.retention_30d:.0%} of {stats.reviews_30d} review{'s' if stats.reviews_30d != 1 else ''}")
    embed = discord.Embed(title="Your review deck", colour=render.COLOUR)
    if stranded:
        embed.description = render.clip("\n".join(stranded_lines(stranded)), render.DESCRIPTION_MAX)
    embed.add_field(name="Due now", value=str(stats.due_now))
    embed.add_field(name="Due today", value=str(stats.due_today))
    embed.add_field(name="Cards", value=str(stats.cards))
    embed.add_field(name="Learned", value=str(stats.learned))
    embed.add_field(name="Recalled (30 days)", value=retention)
    embed.set_footer(text="Scheduled by FSRS · /review start to review")
    return embed


# -- stats and leaderboard ------------------------------------------------------------------------

def answers_right(row: BoardRow) -> str:
    """Right answers out of the answers given: the one ratio the leaderboard and a round's summary
    show, so a round's lines add up to what the board shows (a round's questions that someone
    did not answer are not in it)."""
    return f"{row.correct} of {row.answered} answer{'s' if row.answered != 1 else ''} right"


def stats_embed(name: str, stats: UserStats, deck: DeckStats | None, own: bool = True) -> discord.Embed:
    # a display name is anyone's text: "**Bob**" or "__x__" would render as markup in the title
    embed = discord.Embed(title=render.clip(f"Study stats: {discord.utils.escape_markdown(name)}", render.TITLE_MAX),
                          colour=render.COLOUR)
    embed.add_field(name="Points", value=f"{stats.points} ({stats.month_points} this month)")
    accuracy = f" ({stats.correct / stats.answered:.0%})" if stats.answered else ""
    embed.add_field(name="Right answers", value=f"{stats.correct} of {stats.answered}{accuracy}")
    embed.add_field(name="Daily streak", value=f"{stats.current_streak} (best {stats.best_streak})")
    if deck is not None:
        embed.add_field(name="Review deck", value=f"{deck.cards} cards, {deck.due_now} due, {deck.learned} learned")
    # whose day it is, for the stats' owner only: another member's zone says where they live
    zone = f" ({stats.day_zone})" if own else ""
    embed.set_footer(text=f"A day{zone} counts when you answer a quiz or review a card in this server"
                          + (" · /review timezone" if own else ""))
    return embed


def board_ranks(rows: list[BoardRow]) -> list[int]:
    """Each row's rank, best first: equal points share one, and the ranks after them are skipped
    (1, 2, 2, 4), so a tie does not read as one member beating another."""
    ranks: list[int] = []
    for i, row in enumerate(rows):
        ranks.append(ranks[-1] if i and row.points == rows[i - 1].points else i + 1)
    return ranks


def ranked_lines(rows: list[BoardRow]) -> list[tuple[int, str]]:
    """Each row's rank and its line after the rank: who, points (saying when they are tied) and
    answers right."""
    ranks = board_ranks(rows)
    tied = {rank for rank in ranks if ranks.count(rank) > 1}
    return [(rank, f"<@{row.user_id}> — **{row.points}** points{', tied' if rank in tied else ''} "
                   f"({answers_right(row)})") for rank, row in zip(ranks, rows)]


def board_embed(rows: list[BoardRow], month: str | None) -> discord.Embed:
    title = f"Leaderboard · {scoring.month_name(month)}" if month else "Leaderboard · all time"
    medals = ["🥇", "🥈", "🥉"]
    lines = [f"{medals[rank - 1] if rank <= 3 else f'{rank}.'} {line}" for rank, line in ranked_lines(rows)]
    text = "\n".join(lines) or "No points yet. Answer a `/quiz` to get on the board."
    return discord.Embed(title=title, description=render.clip(text, render.DESCRIPTION_MAX), colour=render.COLOUR)


# -- /forget-me ---------------------------------------------------------------------------------------

FORGET_TEXT = ("This deletes everything the bot stores about you, in every server: your review deck and "
               "its history, quiz points, streaks, reminder setting and time zone, and the questions you asked and "
               "your 👍/👎 votes. It cannot be undone.")


def forget_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Delete my data", style=discord.ButtonStyle.danger, custom_id=FORGET_YES))
    view.add_item(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=FORGET_NO))
    return view


# -- channel rounds ---------------------------------------------------------------------------------

def round_custom_id(round_id: int, position: int, pick: int) -> str:
    return f"{ROUND_PREFIX}{round_id}:{position}:{pick}"


def round_stop_id(round_id: int) -> str:
    return f"{ROUND_PREFIX}{round_id}:stop"


STOP_ASK, STOP_YES, STOP_NO = "stop", "stop-yes", "stop-no"


def round_stop_confirm_id(round_id: int, answer: str) -> str:
    """The confirmation's buttons: `answer` is STOP_YES or STOP_NO."""
    return f"{ROUND_PREFIX}{round_id}:{answer}"


def parse_round_stop_id(custom_id: str) -> tuple[int, str] | None:
    """(the round, STOP_ASK / STOP_YES / STOP_NO) for the Stop button and its confirmation's
    buttons, or None for any other custom id."""
    if not custom_id.startswith(ROUND_PREFIX):
        return None
    number, _, step = custom_id.removeprefix(ROUND_PREFIX).partition(":")
    round_id = _number(number)
    return (round_id, step) if round_id is not None and step in (STOP_ASK, STOP_YES, STOP_NO) else None


def round_stop_confirmation(round_id: int) -> tuple[str, discord.ui.View]:
    """Asked, privately, of whoever presses a question's Stop round: a round ends for everyone,
    and the button sits a row below the answers a hurried thumb is aiming for."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Stop round", style=discord.ButtonStyle.danger,
                                    custom_id=round_stop_confirm_id(round_id, STOP_YES)))
    view.add_item(discord.ui.Button(label="Keep playing", style=discord.ButtonStyle.secondary,
                                    custom_id=round_stop_confirm_id(round_id, STOP_NO)))
    return ("Stop this round for everyone? The open question closes and the summary, with the scores so far, "
            "is posted in the channel."), view


def _number(text: str) -> int | None:
    """A non-negative 64-bit integer written in ASCII digits ('²'.isdigit() is true), else None."""
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None
    return value if value is not None and value < 2**63 else None


def parse_round_id(custom_id: str) -> tuple[int, int, int] | None:
    parts = custom_id.removeprefix(ROUND_PREFIX).split(":")
    numbers = [_number(p) for p in parts]
    if not custom_id.startswith(ROUND_PREFIX) or len(parts) != 3 or None in numbers:
        return None
    return numbers[0], numbers[1], numbers[2]


def round_announcement(count: int, seconds: int) -> str:
    """What `/quiz round` says in the channel as a round starts."""
    if count == 1:
        rules = (f"1 question, open for {seconds} s. Everyone may answer it once; a right answer scores 5 "
                 "points, up to 10 when fast.")
    else:
        rules = (f"{count} questions, {seconds} s each. Everyone may answer each question once; right answers "
                 "score 5 points, up to 10 when fast.")
    return f"🧠 Quiz round: {rules} `/quiz-stop` ends the round early."


def round_question(quiz_round: Round, text: str, labels: list[str],
                   answer: str | None = None) -> tuple[discord.Embed, discord.ui.View]:
    """`text`: the masked definition ("which term?") or the lettered definitions ("what does X mean?");
    `answer`: the answer's name now (the round stored the name of its day, renamed since)."""
    question = quiz_round.question
    number = f"Question {quiz_round.position + 1}/{len(quiz_round.questions)}"
    if question.kind == TERM:
        title = f"{number} · Which term is this?"
    else:
        title = f"{number} · What does “{discord.utils.escape_markdown(answer or question.answer)}” mean?"
    embed = discord.Embed(title=render.clip(title, render.TITLE_MAX), description=render.clip(text, 3500),
                          colour=render.COLOUR)
    embed.set_footer(text=f"Everyone may answer once · {quiz_round.seconds} s · faster right answers score more")
    view = discord.ui.View(timeout=None)
    for pick, label in enumerate(labels):
        view.add_item(discord.ui.Button(label=render.clip(label, render.LABEL_MAX), style=discord.ButtonStyle.secondary,
                                        custom_id=round_custom_id(quiz_round.round_id, quiz_round.position, pick),
                                        row=0))
    # on a row of its own, apart from the answers; only its starter or a moderator may use it
    view.add_item(discord.ui.Button(label="Stop round", style=discord.ButtonStyle.danger,
                                    custom_id=round_stop_id(quiz_round.round_id), row=1))
    return embed, view


def round_closed(quiz_round: Round, results: list[tuple[int, bool, int]], answer: str | None = None) -> discord.Embed:
    """`answer`: the answer's name now, as round_question has it."""
    question = quiz_round.question
    right = [f"<@{user}> +{points}" for user, correct, points in results if correct]
    wrong = sum(1 for _, correct, _ in results if not correct)
    head = f"The answer: **{discord.utils.escape_markdown(render.clip(answer or question.answer, 200))}**"
    tail = f"\nWrong: {wrong}" if wrong else ""
    room = render.DESCRIPTION_MAX - len(head) - len(tail) - len("\nRight: ")
    names = fit(right, room, ", ", lambda more: f" and {more} more") if right else "nobody"
    ended = "round stopped" if quiz_round.stopped_by is not None else "time's up"
    return discord.Embed(title=f"Question {quiz_round.position + 1}/{len(quiz_round.questions)} · {ended}",
                         description=f"{head}\nRight: {names}{tail}", colour=render.COLOUR)


def round_stopped_text(quiz_round: Round) -> str:
    """Who stopped the round and when: `position` is how many questions it went through."""
    who = f" by <@{quiz_round.stopped_by}>" if quiz_round.stopped_by else ""  # 0: the stopper ran /forget-me
    when = (f"after question {quiz_round.position} of {len(quiz_round.questions)}" if quiz_round.position
            else "before its first question")
    return f"Stopped{who} {when}. The answers given still count."


def round_summary(rows: list[BoardRow], quiz_round: Round) -> discord.Embed:
    """The scores of a round that ended, or was stopped (`quiz_round.stopped_by`): so far. A
    round too big for one embed shows its best players and says how many more there were."""
    head = f"{round_stopped_text(quiz_round)}\n\n" if quiz_round.stopped_by is not None else ""
    lines = [f"{rank}. {line}" for rank, line in ranked_lines(rows)]
    text = fit(lines, render.DESCRIPTION_MAX - len(head), "\n",
               lambda more: f"\n…and {more} more player{'s' if more != 1 else ''}.") or "Nobody answered."
    title = "Round stopped" if quiz_round.stopped_by is not None else "Round over"
    embed = discord.Embed(title=title, description=head + text, colour=render.COLOUR)
    embed.set_footer(text="Every answer counts on /leaderboard and /stats")
    return embed


def fit(items: list[str], limit: int, sep: str, more) -> str:
    """`items` joined with `sep` within `limit` characters: all of them, or as many whole ones
    as fit followed by `more(the number left out)`."""
    text = sep.join(items)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for item in items:
        cost = len(item) + (len(sep) if kept else 0)
        if used + cost + len(more(len(items) - len(kept) - 1)) > limit:
            break
        kept.append(item)
        used += cost
    left_out = more(len(items) - len(kept))
    return sep.join(kept) + left_out if kept else left_out.lstrip()
