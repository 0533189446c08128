"""Study records: review cards and their log, quiz answers, active days, reminders, rounds.

All of it belongs to a user (keyed by their Discord id, per server where it is
per server) and `forget_user` deletes every row of it. Times are stored in UTC; a user's
"day" is a date in their time zone (`day_zone`: their own, else their server's, else UTC).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ..glossary.daily import ScheduleError, parse_zone
from ..study import review, scoring
from .db import Database, Transaction, now_text

_CARD_COLUMNS = ("card_id", "user_id", "term", "fsrs_state", "step", "stability", "difficulty", "due",
                 "last_review", "reviews", "lapses")
_SELECT_CARD = f"SELECT {', '.join(_CARD_COLUMNS)} FROM review_cards"
RUNNING, FINISHED, CANCELLED, STOPPED = "running", "finished", "cancelled", "stopped"
REMINDER_LOCK = 0x676C6F_20001  # apart from the IDENTIFY keys (bot.py) and guild ids
#: no reminder until the user has rated or added no card for this long: a card rated "Again" is due a
#: minute later, while its user is still reviewing (or has just stopped), and a card added is due at once
REMINDER_QUIET = timedelta(hours=1)
#: at least this long between two reminders to one user: "once a day" by the clock, not by the date,
#: so none goes at 00:00 after one at 23:59
REMINDER_GAP = timedelta(days=1)
#: the local hours a reminder may go at to a user who set their time zone: none at night (without
#: a zone of their own nobody knows when their night is, and reminders go at any hour)
REMINDER_HOURS = range(8, 22)
#: … and then at most one a local date, none within this long of the last (21:59, then 08:00)
REMINDER_LOCAL_GAP = timedelta(hours=8)
#: tables with a user's rows, and the column that names the user
USER_TABLES = (("review_cards", "user_id"), ("review_log", "user_id"), ("review_reminders", "user_id"),
               ("quiz_answers", "user_id"), ("active_days", "user_id"),
               ("user_zones", "user_id"), ("asked_messages", "author_id"))  # asked.py: what the bot said to their recent questions


@dataclass(frozen=True)
class DeckStats:
    cards: int
    due_now: int
    due_today: int
    learned: int
    reviews_30d: int             # of learned cards (a learning step's rating says nothing of memory yet)
    retention_30d: float | None  # share of them not rated "again"
    next_due: datetime | None


@dataclass(frozen=True)
class UserStats:
    points: int
    month_points: int
    correct: int
    answered: int
    current_streak: int
    best_streak: int
    day_zone: str = "UTC"  # the zone whose dates the streak counts (study.day_zone)


@dataclass(frozen=True)
class BoardRow:
    user_id: int
    points: int
    correct: int
    answered: int


@dataclass(frozen=True)
class RoundQuestion:
    kind: str
    answer: str
    options: tuple[str, ...]

    @property
    def correct(self) -> int:
        return self.options.index(self.answer)


@dataclass(frozen=True)
class Round:
    round_id: int
    guild_id: int
    channel_id: int
    started_by: int
    questions: tuple[RoundQuestion, ...]
    seconds: int
    position: int
    message_id: int | None
    opened_at: datetime | None
    status: str
    stopped_by: int | None = None  # set by a stop while the round still runs: its driver ends it

    @property
    def question(self) -> RoundQuestion:
        return self.questions[self.position]

    def deadline(self) -> datetime | None:
        return None if self.opened_at is None else self.opened_at + timedelta(seconds=self.seconds)


#: what a stored term (a review card's) is called now: itself while an entry has that name, another
#: entry's name when the glossary renamed it (the old name kept as an alias), None when it is gone.
#: The glossary decides (the callers pass it in); this module reads no glossary.
NameNow = Callable[[str], str | None]


def _not_in(column: str, terms: Collection[str]) -> tuple[str, list[str]]:
    """" AND column NOT IN (…)" and its parameters; nothing when `terms` is empty."""
    if not terms:
        return "", []
    return f" AND {column} NOT IN ({', '.join('?' * len(terms))})", sorted(terms)


def _shown_by(when: datetime, table: str = "") -> tuple[str, list]:
    """SQL that is true of a card shown by `when` (a learned one from review.EARLY before it is
    due: review.shown_from), and its parameters."""
    due, state = f"{table}due", f"{table}fsrs_state"
    return (f"({due} <= ? OR ({state} = ? AND {due} <= ?))",
            [now_text(when), review.REVIEW, now_text(when + review.EARLY)])


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _card(row: tuple) -> review.Card:
    values = dict(zip(_CARD_COLUMNS, row, strict=True))
    values["due"], values["last_review"] = _time(values["due"]), _time(values["last_review"])
    return review.Card(**values)


def _round(row: tuple) -> Round:
    questions = tuple(RoundQuestion(kind, answer, tuple(options)) for kind, answer, options in json.loads(row[4]))
    return Round(row[0], row[1], row[2], row[3], questions, row[5], row[6], row[7], _time(row[8]), row[9], row[10])


_SELECT_ROUND = ("SELECT round_id, guild_id, channel_id, started_by, questions, seconds, position, message_id, "
                 "opened_at, status, stopped_by FROM quiz_rounds")


class StudyRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- review cards ----------------------------------------------------------------------

    def add_card(self, user_id: int, term: str, now: datetime) -> bool:
        """Put `term` in the user's deck, due at once; False if it is already there."""
        with self.db.transaction() as conn:
            added = conn.execute(
                "INSERT INTO review_cards (user_id, term, fsrs_state, step, due, added_at) VALUES (?, ?, ?, 0, ?, ?) "
                "ON CONFLICT (user_id, term) DO NOTHING",
                [user_id, term, review.LEARNING, now_text(now), now_text(now)]).rowcount
        return bool(added)

    def remove_card(self, user_id: int, term: str) -> bool:
        with self.db.transaction() as conn:
            return bool(conn.execute("DELETE FROM review_cards WHERE user_id = ? AND term = ?",
                                     [user_id, term]).rowcount)

    def deck_terms(self, user_id: int) -> list[str]:
        return [term for (term,) in self.db.query("SELECT term FROM review_cards WHERE user_id = ? ORDER BY term",
                                                  [user_id])]

    def card(self, card_id: int) -> review.Card | None:
        rows = self.db.query(f"{_SELECT_CARD} WHERE card_id = ?", [card_id])
        return _card(rows[0]) if rows else None

    def next_due(self, user_id: int, now: datetime, skip: Collection[str] = frozenset()) -> review.Card | None:
        """The user's most overdue card at `now`, leaving out terms in `skip` (stranded: see settle_deck)."""
        # only as many rows as it takes: a big backlog of due cards is not read to return its first
        shown, params = _shown_by(now)
        rows = self.db.query(f"{_SELECT_CARD} WHERE user_id = ? AND {shown} ORDER BY due, card_id LIMIT ?",
                             [user_id, *params, len(skip) + 1])
        return next((_card(row) for row in rows if row[2] not in skip), None)

    def settle_deck(self, user_id: int, name_now: NameNow) -> dict[str, str | None]:
        """Bring the user's cards up to the glossary as it is now. A card whose term the glossary
        renamed (`name_now` gives the entry's new name) takes the new name, keeping its schedule
        and history. Returns the cards left *stranded*, term → what it stands for now: None when
        no entry has the name any more (it may come back in a later build), or the entry's name
        when the user already has a card of that name (two cards cannot share one). Stranded cards
        are not deleted, and neither shown nor counted as due (`skip` them); the user is told."""
        stranded: dict[str, str | None] = {}
        for term in self.deck_terms(user_id):
            now_called = name_now(term)
            if now_called == term:
                continue
            if now_called is None or not self._follow(term, now_called, user_id):
                stranded[term] = now_called
        return stranded

    def _follow(self, old: str, new: str, user_id: int | None = None) -> int:
        """Rename cards of `old` to `new` (one user's, or everyone's), except where the user already has
        a card of `new`; how many were renamed. The rating log keeps the name each rating was given under."""
        mine, params = (" AND user_id = ?", [user_id]) if user_id is not None else ("", [])
        with self.db.transaction() as conn:
            return conn.execute(
                f"UPDATE review_cards SET term = ? WHERE term = ?{mine} AND NOT EXISTS "
                "(SELECT 1 FROM review_cards o WHERE o.user_id = review_cards.user_id AND o.term = ?)",
                [new, old, *params, new]).rowcount

    def rate(self, card_id: int, user_id: int, reviews: int, rating: str, now: datetime,
             guild_id: int = 0) -> review.Card | None:
        """Record a rating of the card as it was after `reviews` reviews. None when that card
        is not the user's or was rated since (a second click, an old message): nothing changes."""
        with self.db.transaction() as conn:
            rows = conn.execute(f"{_SELECT_CARD} WHERE card_id = ? AND user_id = ? AND reviews = ?",
                                [card_id, user_id, reviews]).fetchall()
            if not rows:
                return None
            before = _card(rows[0])
            card = review.rate(before, rating, now)
            # PostgreSQL reads without locking: another process's click on the same card may have
            # rated it since the SELECT, and only the guard on `reviews` sees that (SQLite's BEGIN
            # IMMEDIATE already serialises the two, so there it always matches).
            if not conn.execute(
                    "UPDATE review_cards SET fsrs_state = ?, step = ?, stability = ?, difficulty = ?, due = ?, "
                    "last_review = ?, reviews = ?, lapses = ? WHERE card_id = ? AND reviews = ?",
                    [card.fsrs_state, card.step, card.stability, card.difficulty, now_text(card.due),
                     now_text(card.last_review), card.reviews, card.lapses, card_id, reviews]).rowcount:
                return None
            conn.execute("INSERT INTO review_log (user_id, guild_id, term, rating, reviewed_at, learned) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         [user_id, guild_id, card.term, int(review.RATINGS[rating]), now_text(now), int(before.learned)])
            _mark_active(conn, guild_id, user_id, now)
        return card

    def deck_stats(self, user_id: int, now: datetime, skip: Collection[str] = frozenset(), guild_id: int = 0,
                   zone: tzinfo | None = None) -> DeckStats:
        """The deck's counts, leaving out cards whose terms are in `skip` (stranded: see settle_deck);
        "due today" up to the end of the user's day (day_zone, or `zone` where that is known better:
        the console's machine)."""
        end_of_day = _day_bounds(now, zone or self.day_zone(user_id, guild_id)[1])[1]
        left_out, skipped = _not_in("term", skip)
        shown_now, now_params = _shown_by(now)
        shown_today, today_params = _shown_by(end_of_day - timedelta(microseconds=1))
        cards, due_now, due_today, learned, next_learning, next_learned = self.db.query(
            f"SELECT count(*), CAST(coalesce(sum(CASE WHEN {shown_now} THEN 1 ELSE 0 END), 0) AS BIGINT), "
            f"CAST(coalesce(sum(CASE WHEN {shown_today} THEN 1 ELSE 0 END), 0) AS BIGINT), "
            "CAST(coalesce(sum(CASE WHEN fsrs_state = ? THEN 1 ELSE 0 END), 0) AS BIGINT), "
            "min(CASE WHEN fsrs_state <> ? THEN due END), min(CASE WHEN fsrs_state = ? THEN due END) "
            f"FROM review_cards WHERE user_id = ?{left_out}",
            [*now_params, *today_params, review.REVIEW, review.REVIEW, review.REVIEW, user_id, *skipped])[0]
        shown = [t for t in (_time(next_learning),
                             next_learned and review.shown_from(_time(next_learned), review.REVIEW)) if t]
        reviews, remembered = self.db.query(
            "SELECT count(*), CAST(coalesce(sum(CASE WHEN rating > 1 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM review_log "
            "WHERE user_id = ? AND reviewed_at >= ? AND (learned IS NULL OR learned = 1)",  # NULL: logged before V14
            [user_id, now_text(now - timedelta(days=30))])[0]
        return DeckStats(cards, due_now, due_today, learned, reviews,
                         remembered / reviews if reviews else None, min(shown, default=None))

    # -- reminders ----------------------------------------------------------------------------

    def set_reminder(self, user_id: int, enabled: bool) -> bool:
        """Turn the user's reminders on or off; True if a refused DM had turned them off and the user
        had not been told yet (they are now: reminder_refused)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT dm_refused_at FROM review_reminders WHERE user_id = ?", [user_id]).fetchone()
            conn.execute("INSERT INTO review_reminders (user_id, enabled) VALUES (?, ?) ON CONFLICT (user_id) "
                         "DO UPDATE SET enabled = excluded.enabled, dm_refused_at = NULL", [user_id, int(enabled)])
        return row is not None and row[0] is not None

    def reminder_refused(self, user_id: int, now: datetime) -> bool:
        """Discord refused the user's reminder DM for good (their DMs are closed to the bot, or they
        blocked it): turn their reminders off, so that it is not tried, and refused, every day, and
        keep when, for their next /review command to say so (take_refusal). False if they had turned
        reminders off meanwhile."""
        with self.db.transaction() as conn:
            return bool(conn.execute("UPDATE review_reminders SET enabled = 0, dm_refused_at = ? "
                                     "WHERE user_id = ? AND enabled = 1", [now_text(now), user_id]).rowcount)

    def take_refusal(self, user_id: int) -> bool:
        """True, once, when a refused DM turned the user's reminders off (reminder_refused) and they have
        not been told. Read first: most calls find nothing and write nothing."""
        rows = self.db.query("SELECT dm_refused_at FROM review_reminders WHERE user_id = ?", [user_id])
        if not rows or rows[0][0] is None:
            return False
        with self.db.transaction() as conn:  # a second process telling them at the same moment gets 0 rows
            return bool(conn.execute("UPDATE review_reminders SET dm_refused_at = NULL "
                                     "WHERE user_id = ? AND dm_refused_at IS NOT NULL", [user_id]).rowcount)

    def reminder_enabled(self, user_id: int) -> bool:
        rows = self.db.query("SELECT enabled FROM review_reminders WHERE user_id = ?", [user_id])
        return bool(rows and rows[0][0])

    def claim_reminders(self, now: datetime, name_now: NameNow | None = None) -> list[tuple[int, int]]:
        """(user, cards due) for every opted-in user with cards due who has had no reminder for
        REMINDER_GAP and has rated or added no card for REMINDER_QUIET (both read from what is
        stored, so a restart changes nothing), and, for one who set their time zone, whose local
        hour is in REMINDER_HOURS; each is marked sent *before* it is sent, so none
        gets two. With `name_now`, the due cards are settled first (settle_deck, for everyone)
        and stranded ones are not counted, as /review start would not show them."""
        stamp, skip = now_text(now), frozenset()
        if name_now is not None:
            skip = self._settle_due_terms(now, name_now)
        left_out, skipped = _not_in("c.term", skip)
        shown, shown_params = _shown_by(now, "c.")
        with self.db.transaction() as conn:
            conn.lock(REMINDER_LOCK)  # PostgreSQL: one process claims at a time
            rows = conn.execute(
                "SELECT r.user_id, count(c.card_id), z.zone, r.last_sent_at FROM review_reminders r JOIN review_cards c "
                f"ON c.user_id = r.user_id AND {shown}{left_out} LEFT JOIN user_zones z ON z.user_id = r.user_id "
                "WHERE r.enabled = 1 AND (r.last_sent_at IS NULL OR r.last_sent_at <= ?) "
                "AND NOT EXISTS (SELECT 1 FROM review_log l WHERE l.user_id = r.user_id AND l.reviewed_at > ?) "
                "AND NOT EXISTS (SELECT 1 FROM review_cards a WHERE a.user_id = r.user_id AND a.added_at > ?) "
                "GROUP BY r.user_id, z.zone, r.last_sent_at ORDER BY r.user_id",
                [*shown_params, *skipped, now_text(now - REMINDER_LOCAL_GAP),
                 *[now_text(now - REMINDER_QUIET)] * 2]).fetchall()
            rows = [(user_id, due) for user_id, due, zone, last in rows if _reminder_due(now, zone, _time(last))]
            conn.executemany("UPDATE review_reminders SET last_sent_at = ? WHERE user_id = ?",
                             [(stamp, user_id) for user_id, _ in rows])
        return [(user_id, due) for user_id, due in rows]

    def _settle_due_terms(self, now: datetime, name_now: NameNow) -> frozenset[str]:
        """settle_deck for the due cards of everyone a reminder may go to (only their terms are read,
        not every deck): renamed terms followed; the terms still not an entry's name returned."""
        shown, params = _shown_by(now, "c.")
        terms = [term for (term,) in self.db.query(
            "SELECT DISTINCT c.term FROM review_reminders r JOIN review_cards c ON c.user_id = r.user_id "
            f"AND {shown} WHERE r.enabled = 1 AND (r.last_sent_at IS NULL OR r.last_sent_at <= ?)",
            [*params, now_text(now - REMINDER_LOCAL_GAP)])]
        skip = set()
        for term in terms:
            now_called = name_now(term)
            if now_called != term:
                if now_called is not None:
                    self._follow(term, now_called)
                skip.add(term)  # gone, or left behind where the user already has the new name's card
        return frozenset(skip)

    # -- the user's time zone ---------------------------------------------------------------------

    def set_zone(self, user_id: int, zone: str | None) -> None:
        """Keep the user's own time zone (a name as daily.zone_name gives it), or drop it (None): their
        days are then their server's again. Their active days are dated anew in it, so that a streak
        reads alike before and after (moving east, yesterday's date there had no row), and a day
        filled in from a zone far west is gone again when the zone is."""
        with self.db.transaction() as conn:
            conn.lock(user_id)  # PostgreSQL: an answer in flight ends first, and is re-dated here (_mark_active)
            if zone is None:
                conn.execute("DELETE FROM user_zones WHERE user_id = ?", [user_id])
            else:
                conn.execute("INSERT INTO user_zones (user_id, zone) VALUES (?, ?) "
                             "ON CONFLICT (user_id) DO UPDATE SET zone = excluded.zone", [user_id, zone])
            _redate_days(conn, user_id)

    def own_zone(self, user_id: int) -> str | None:
        rows = self.db.query("SELECT zone FROM user_zones WHERE user_id = ?", [user_id])
        return rows[0][0] if rows else None

    def day_zone(self, user_id: int, guild_id: int = 0) -> tuple[str, tzinfo]:
        """The zone whose dates are the user's days, and its name: their own, else the server's (its
        term-of-the-day zone: the server's days), else UTC."""
        return zone_of(self.db.query(_ZONES_SQL, [user_id, guild_id])[0])

    # -- quiz points and streaks ------------------------------------------------------------------

    def record_answer(self, guild_id: int, user_id: int, ref: str, correct: bool, points: int,
                      now: datetime) -> bool:
        """Score one answer to the question named `ref`; False (and nothing stored) if this
        user already answered it."""
        with self.db.transaction() as conn:
            added = conn.execute(
                "INSERT INTO quiz_answers (guild_id, user_id, ref, answered_at, correct, points) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, ref) DO NOTHING",
                [guild_id, user_id, ref, _answer_time(now), int(correct), points]).rowcount
            if not added:
                return False
            _mark_active(conn, guild_id, user_id, now)
        return True

    def answer_to(self, guild_id: int, user_id: int, ref: str) -> tuple[bool, int] | None:
        rows = self.db.query("SELECT correct, points FROM quiz_answers WHERE guild_id = ? AND user_id = ? AND ref = ?",
                             [guild_id, user_id, ref])
        return (bool(rows[0][0]), rows[0][1]) if rows else None

    def solo_answers_today(self, guild_id: int, user_id: int, now: datetime) -> int:
        """The user's private quiz answers in this server during their day (day_zone)."""
        start, end = _day_bounds(now, self.day_zone(user_id, guild_id)[1])
        return self.db.query(
            "SELECT count(*) FROM quiz_answers WHERE guild_id = ? AND user_id = ? AND ref LIKE 'solo:%' "
            "AND answered_at >= ? AND answered_at < ?", [guild_id, user_id, _answer_time(start), _answer_time(end)])[0][0]

    def may_score_solo(self, guild_id: int, user_id: int, now: datetime) -> bool:
        """Whether a private answer now still scores: fewer than SOLO_SCORED_PER_DAY in the user's
        day, and fewer than twice that scored in the last 24 hours. A new zone's day starts a count of
        its own, so without the second bound a zone changed every hour scored 20 answers an hour. It
        counts answers that scored: an evening's practice past the day's 20 filled it, and the next
        day scored nothing until the evening (QA72)."""
        if self.solo_answers_today(guild_id, user_id, now) >= scoring.SOLO_SCORED_PER_DAY:
            return False
        recent = self.db.query(
            "SELECT count(*) FROM quiz_answers WHERE guild_id = ? AND user_id = ? AND ref LIKE 'solo:%' "
            "AND points > 0 AND answered_at >= ?", [guild_id, user_id, _answer_time(now - timedelta(days=1))])[0][0]
        return recent < 2 * scoring.SOLO_SCORED_PER_DAY

    def server_zone(self, guild_id: int) -> tzinfo:
        """The zone of a server's days and months: its term-of-the-day zone (UTC where it has none)."""
        return zone_of(self.db.query(_ZONES_SQL, [None, guild_id])[0])[1]

    def month_now(self, guild_id: int, now: datetime) -> str:
        """The server's month at `now` ("2026-10"), in its zone: the board's, "this month"'s and the
        champion's month. In UTC's, a New York server's October board turned to November at 20:00 on
        the 31st, and an evening's points crowned the wrong member (QA72)."""
        return scoring.month_key(now.astimezone(self.server_zone(guild_id)))

    def stats(self, guild_id: int, user_id: int, now: datetime) -> UserStats:
        zone = self.server_zone(guild_id)
        month_start, _ = _month_bounds(scoring.month_key(now.astimezone(zone)), zone)
        points, month_points, correct, answered = self.db.query(
            "SELECT CAST(coalesce(sum(points), 0) AS BIGINT), "
            "CAST(coalesce(sum(CASE WHEN answered_at >= ? THEN points END), 0) AS BIGINT), "
            "CAST(coalesce(sum(correct), 0) AS BIGINT), count(*) FROM quiz_answers WHERE guild_id = ? AND user_id = ?",
            [month_start, guild_id, user_id])[0]
        days = [date.fromisoformat(d) for (d,) in self.db.query(
            "SELECT day FROM active_days WHERE guild_id = ? AND user_id = ?", [guild_id, user_id])]
        name, zone = self.day_zone(user_id, guild_id)
        current, best = scoring.streaks(days, now.astimezone(zone).date())
        return UserStats(points, month_points, correct, answered, current, best, name)

    def leaderboard(self, guild_id: int, month: str | None, limit: int = 10) -> list[BoardRow]:
        """The server's top scorers, of one month ("2026-11", in the server's zone: month_now) or of all
        time (None)."""
        where, params = "guild_id = ?", [guild_id]
        if month is not None:
            where += " AND answered_at >= ? AND answered_at < ?"
            params += _month_bounds(month, self.server_zone(guild_id))
        rows = self.db.query(
            f"SELECT user_id, CAST(sum(points) AS BIGINT) AS total, CAST(sum(correct) AS BIGINT), count(*) "
            f"FROM quiz_answers WHERE {where} "
            "GROUP BY user_id HAVING sum(points) > 0 ORDER BY total DESC, min(answered_at) LIMIT ?", [*params, limit])
        return [BoardRow(*row) for row in rows]

    # -- channel rounds -------------------------------------------------------------------------

    def start_round(self, guild_id: int, channel_id: int, user_id: int, questions: list[RoundQuestion],
                    seconds: int, now: datetime) -> Round | None:
        """A new round, or None if one is already running in that channel."""
        data = json.dumps([[q.kind, q.answer, list(q.options)] for q in questions])
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO quiz_rounds (guild_id, channel_id, started_by, questions, seconds, status, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id) WHERE status = 'running' DO NOTHING "
                "RETURNING round_id",
                [guild_id, channel_id, user_id, data, seconds, RUNNING, now_text(now)]).fetchone()
        return None if row is None else self.round(row[0])

    def round(self, round_id: int) -> Round | None:
        rows = self.db.query(f"{_SELECT_ROUND} WHERE round_id = ?", [round_id])
        return _round(rows[0]) if rows else None

    def running_rounds(self) -> list[Round]:
        return [_round(row) for row in self.db.query(f"{_SELECT_ROUND} WHERE status = ? ORDER BY round_id", [RUNNING])]

    def running_round_in(self, channel_id: int) -> Round | None:
        rows = self.db.query(f"{_SELECT_ROUND} WHERE channel_id = ? AND status = ?", [channel_id, RUNNING])
        return _round(rows[0]) if rows else None

    def stop_round(self, round_id: int, user_id: int) -> bool:
        """Mark a running round stopped by `user_id`; False if it is not running or already
        stopped. Its driver then closes the open question and posts the summary."""
        with self.db.transaction() as conn:
            return bool(conn.execute("UPDATE quiz_rounds SET stopped_by = ? WHERE round_id = ? AND status = ? "
                                     "AND stopped_by IS NULL", [user_id, round_id, RUNNING]).rowcount)

    def open_question(self, round_id: int, position: int, message_id: int, now: datetime) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE quiz_rounds SET position = ?, message_id = ?, opened_at = ? WHERE round_id = ?",
                         [position, message_id, now.isoformat(timespec="milliseconds"), round_id])

    def next_question(self, round_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE quiz_rounds SET position = position + 1, message_id = NULL, opened_at = NULL "
                         "WHERE round_id = ?", [round_id])

    def end_round(self, round_id: int, status: str = FINISHED) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE quiz_rounds SET status = ? WHERE round_id = ?", [status, round_id])

    def round_scores(self, quiz_round: Round) -> list[BoardRow]:
        rows = self.db.query(
            "SELECT user_id, CAST(sum(points) AS BIGINT) AS total, CAST(sum(correct) AS BIGINT), count(*) "
            "FROM quiz_answers WHERE guild_id = ? AND ref LIKE ? GROUP BY user_id "
            "ORDER BY total DESC, min(answered_at)",
            [quiz_round.guild_id, f"round:{quiz_round.round_id}:%"])
        return [BoardRow(*row) for row in rows]

    def question_results(self, quiz_round: Round, position: int) -> list[tuple[int, bool, int]]:
        """(user, right, points) for one question of a round, fastest first."""
        rows = self.db.query(
            "SELECT user_id, correct, points FROM quiz_answers WHERE guild_id = ? AND ref = ? ORDER BY answered_at",
            [quiz_round.guild_id, round_ref(quiz_round.round_id, position)])
        return [(user_id, bool(correct), points) for user_id, correct, points in rows]

    # -- a user's data ----------------------------------------------------------------------------

    def forget_user(self, user_id: int) -> int:
        """Delete everything stored about the user, in every server; returns how many rows went."""
        with self.db.transaction() as conn:
            removed = sum(conn.execute(f"DELETE FROM {table} WHERE {column} = ?", [user_id]).rowcount
                          for table, column in USER_TABLES)
            # who started or stopped a round, who is champion: kept as facts about a server, without the user
            conn.execute("UPDATE quiz_rounds SET started_by = 0 WHERE started_by = ?", [user_id])
            conn.execute("UPDATE quiz_rounds SET stopped_by = 0 WHERE stopped_by = ?", [user_id])
            conn.execute("UPDATE guild_config SET champion_user_id = NULL WHERE champion_user_id = ?", [user_id])
        return removed


def round_ref(round_id: int, position: int) -> str:
    return f"round:{round_id}:{position}"


def _mark_active(conn: Transaction, guild_id: int, user_id: int, now: datetime) -> None:
    """The user's day (day_zone's date) counts toward their streak in this server."""
    # PostgreSQL: a zone change of the server (update_config) or the user's own (set_zone) in another
    # process either ends before the zone is read here, or waits for this answer and re-dates it too;
    # otherwise an answer in flight kept only the old zone's date (QA64). Answers do not wait for each other.
    conn.lock_shared(guild_id)
    conn.lock_shared(user_id)
    zone = zone_of(conn.execute(_ZONES_SQL, [user_id, guild_id]).fetchone())[1]
    conn.execute("INSERT INTO active_days (guild_id, user_id, day) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                 [guild_id, user_id, now.astimezone(zone).date().isoformat()])


def _reminder_due(now: datetime, zone_name: str | None, last: datetime | None) -> bool:
    """Without a zone of the user's own (or with one this machine does not know, whose night nobody
    here can tell): 24 hours after the last reminder. With one: in their daytime
    (REMINDER_HOURS), and not on the local date of the last one: a reminder at 21:59 would
    otherwise allow the next only from 21:59, and on a day 23 hours long, never in daytime."""
    known, zone = zone_of([zone_name])
    if zone_name is None or known != zone_name:  # none, or one this machine's tz database lacks
        return last is None or last <= now - REMINDER_GAP
    local = now.astimezone(zone)
    return local.hour in REMINDER_HOURS and (last is None or last.astimezone(zone).date() < local.date())


def _redate_days(conn: Transaction, user_id: int) -> None:
    """The user's active days made again from the quiz answers and ratings that marked them (all
    kept until /forget-me), each a date in the user's zone now (day_zone): a day filled in from a
    zone far west goes again with the zone, as the user chose both."""
    days = _event_days(conn, "user_id = ?", [user_id])
    conn.execute("DELETE FROM active_days WHERE user_id = ?", [user_id])
    if days:
        conn.executemany("INSERT INTO active_days (guild_id, user_id, day) VALUES (?, ?, ?)", days)


def redate_server_days(conn: Transaction, guild_id: int) -> None:
    """After the server's zone changed: each answer and rating there of its members without a zone of
    their own also counts on its date in the new zone, beside the days kept (as the V16 upgrade did),
    so that no streak is cut by an admin's move: re-dated whole, an answer at 23:30 UTC moved to the
    next day in Berlin and left its day empty (QA64). A streak may count one day more across the move,
    never fewer."""
    days = _event_days(conn, "guild_id = ? AND user_id NOT IN (SELECT user_id FROM user_zones)", [guild_id])
    if days:  # a member's answer in flight may have just marked one of these days: no conflict
        conn.executemany("INSERT INTO active_days (guild_id, user_id, day) VALUES (?, ?, ?) "
                         "ON CONFLICT DO NOTHING", days)


def _event_days(conn: Transaction, which: str, params: list) -> list[tuple[int, int, str]]:
    """(guild, user, date in their zone now) of every answer and rating of the pairs `which` selects."""
    days, zones = set(), {}
    for guild_id, user_id, at in conn.execute(
            f"SELECT guild_id, user_id, answered_at FROM quiz_answers WHERE {which} UNION ALL "
            f"SELECT guild_id, user_id, reviewed_at FROM review_log WHERE {which}", [*params, *params]).fetchall():
        if (guild_id, user_id) not in zones:
            zones[guild_id, user_id] = zone_of(conn.execute(_ZONES_SQL, [user_id, guild_id]).fetchone())[1]
        days.add((guild_id, user_id,
                  datetime.fromisoformat(at).astimezone(zones[guild_id, user_id]).date().isoformat()))
    return sorted(days)


# the user's own zone and their server's setting, in one read (guild 0, a DM, has no row)
_ZONES_SQL = ("SELECT (SELECT zone FROM user_zones WHERE user_id = ?), "
              "(SELECT timezone FROM guild_config WHERE guild_id = ?)")


def zone_of(row) -> tuple[str, tzinfo]:
    """The first of (user's zone, server's zone) that names a zone this machine knows, else UTC: a
    stored name the machine's tz database lacks (an older tzdata) falls back rather than failing."""
    for name in row or ():
        if name:
            try:
                return name, parse_zone(name)
            except ScheduleError:
                continue
    return "UTC", UTC


def _day_bounds(now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The start of `now`'s day in `zone` and the start of the next, in UTC (a day of 23 or 25
    hours where the clocks change)."""
    day = now.astimezone(zone).date()
    return tuple(datetime.combine(d, time.min, zone).astimezone(UTC) for d in (day, day + timedelta(days=1)))


def _month_bounds(month: str, zone: tzinfo) -> list[str]:
    """The first moment of `month` ("2026-10") in `zone` and of the month after, as stored times."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return [_answer_time(datetime.combine(d, time.min, zone)) for d in (first, after)]


def _answer_time(when: datetime) -> str:
    """A quiz answer's time as stored, so that stored times and a day's bounds compare as text."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")
