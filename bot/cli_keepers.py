"""`glossary-bot feedback export` and `glossary-bot gaps`: what the bot learned from its
users, for the glossary's keepers (from the state database the bot writes)."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .glossary.normalize import storable
from .glossary.service import Glossary
from .study.anki import write_export


def _existing_store(glossary: Glossary):
    """The bot's state store, for a report that only reads it: a SQLite file that is not there is a
    mistyped GLOSSARY_STATE_DB, not an empty history (opening it would create an empty database)."""
    from .state import StateStore
    from .state.db import StateError

    target = glossary.settings.state_target
    if isinstance(target, Path) and not target.exists():
        raise StateError(f"no state database at {target}: the bot writes it when it runs; set GLOSSARY_STATE_DB "
                         "(or DATABASE_URL) to the one it uses")
    return StateStore(target, read_only=True)


# Characters many line readers (Python's str.splitlines, editors) take as line breaks: escaped, a
# JSON line holding one stays one line for whatever reads the export.
_LINE_BREAKING = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def _json_line(case: dict) -> str:
    return json.dumps(case, ensure_ascii=False).translate(_LINE_BREAKING) + "\n"


def cmd_feedback(glossary: Glossary, args) -> int:
    """Voted questions in the eval format (JSON lines), for `glossary-bot eval` and training."""
    store = _existing_store(glossary)
    try:
        searcher = glossary.open()
        cases, disagreed = store.feedback.export(lambda term: _name_now(searcher, term))
    finally:
        store.close()
    cases, gone = _named_as_now(cases, searcher)
    lines = "".join(_json_line(case) for case in cases)
    if gone:
        print(f"left out {gone} question{'s' if gone != 1 else ''} about an entry no longer in the glossary",
              file=sys.stderr)
    if disagreed:  # a case either way would teach the ranker what half its voters said was wrong
        print(f"left out {disagreed} question{'s' if disagreed != 1 else ''} its voters disagreed on "
              "(a 👍 and a 👎 that picked another entry, or two different picks)", file=sys.stderr)
    if args.out:
        out = Path(args.out).expanduser()
        # QA73: a keeper's curated file (one already looked through, or a hand-written eval set) was
        # replaced without a word, by nothing when there was nothing to export
        if not cases:
            print(f"nothing to export: {out} left as it is", file=sys.stderr)
            return 0
        # (an earlier export too: the keepers look one through and take out what names who asked, and a
        # new export over it would write those back)
        if out.exists() and not args.force:
            print(f"not written: {out} exists (perhaps an export you looked through): name another file, or add "
                  "--force to replace it", file=sys.stderr)
            return 1
        try:
            write_export(out, lines)  # whole or not at all: a full disk leaves the old file as it was
        except OSError as exc:
            print(f"could not write {out}: {exc.strerror or exc} (nothing was changed)", file=sys.stderr)
            return 1
        print(f"wrote {len(cases)} questions to {out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
        if not cases:  # (stdout stays empty, a valid empty export; QA76: a keeper saw nothing at all)
            print("nothing to export: no voted question yet", file=sys.stderr)
    return 0


def _name_now(searcher, term: str) -> str | None:
    entry = searcher.entry_now_named(term)
    return None if entry is None else entry.term


def _named_as_now(cases: list[dict], searcher) -> tuple[list[dict], int]:
    """The cases with each expected entry under its name in the glossary now (votes keep the name of
    their day: an entry renamed since, its old name kept as an alias, would be a miss in `eval` and
    dropped from the bank), and how many were left out because their entry left the glossary."""
    kept, gone = [], 0
    for case in cases:
        entries = [searcher.entry_now_named(term) for term in case["expected"]]
        if None in entries:
            gone += 1
            continue
        kept.append({**case, "expected": [entry.term for entry in entries]})
    return kept, gone


def cmd_gaps(glossary: Glossary, args) -> int:
    """The uncovered topics of the last `--days` days, most askers first."""
    from .glossary.gaps import GapQuestion, gaps_report

    store = _existing_store(glossary)
    try:
        since = datetime.now(UTC) - timedelta(days=args.days)
        logged = store.feedback.gap_questions(since, args.guild)
    finally:
        store.close()
    gaps = gaps_report([GapQuestion(q.query, q.user_hash) for q in logged], glossary.open())
    if args.json:
        print(json.dumps({"days": args.days, "questions": len(logged), "gaps": [
            {"label": g.label, "askers": g.askers, "asked": g.asked, "examples": list(g.examples),
             "nearest": list(g.nearest)} for g in gaps]}, ensure_ascii=False, indent=2))
        return 0
    if not gaps:
        print(f"No unanswered questions in the last {args.days} days.")
    def one_line(text: str) -> str:  # a forum post's "title\nbody", a pasted block: the list stays a list
        return " ".join(storable(text).split())  # a member's escape codes never reach the keeper's terminal

    for number, gap in enumerate(gaps, start=1):
        print(f"{number}. {one_line(gap.label)}  ({gap.askers} {'person' if gap.askers == 1 else 'people'}, "
              f"asked {gap.asked}×)")
        for example in gap.examples:
            if example != gap.label:
                print(f"     · {one_line(example)}")
        print(f"     nearest entries: {', '.join(gap.nearest)}" if gap.nearest else "     no entry near it")
    return 0


def cmd_state(glossary: Glossary, args) -> int:
    """`state migrate --to URL`: the SQLite state into an empty PostgreSQL database; `state new-key`:
    start over with the key set now, the one the state was used with being lost."""
    if args.action == "new-key":
        return _new_key(glossary.settings, args.yes)
    from .state import StateError, StateStore
    from .state.feedback import key_check
    from .state.transfer import copy_state

    if not re.fullmatch(r"postgres(?:ql)?://\S+", args.to or ""):
        # anything else would be taken for an SQLite path: "mysql://nope" made a folder "mysql:"
        raise StateError("state migrate --to needs a PostgreSQL URL, e.g. postgresql://bot:secret@db:5432/glossary")
    settings = glossary.settings
    if not settings.state_path.exists():  # opening it would make an empty one, and "copy" nothing
        raise StateError(f"no state database at {settings.state_path}: set GLOSSARY_STATE_DB to the SQLite file "
                         "the bot has been using; nothing was migrated")
    source = StateStore(settings.state_path)
    try:
        used = _key_used(settings, source)
        target = StateStore(args.to)
        try:
            copied = copy_state(source, target)
            if used is not None:  # a source its bot never recorded a key in: the target starts with it
                target.feedback.hold_key(key_check(used))
        finally:
            target.close()
    finally:
        source.close()
    key_file, key = _hash_key_to_set(settings)
    total = sum(copied.values())
    # A state file the bot never used (a copy made before the first start, another folder's) copies
    # "successfully"; the admin would only find out when every member's cards were gone.
    empty = (f"{source.where} holds no rows at all: if the bot has been running, GLOSSARY_STATE_DB "
             "may not name the file it used") if total == 0 else None
    if args.json:
        print(json.dumps({"copied": copied, "to": target.where, "hash_key_file": key_file and str(key_file),
                          **({"warning": empty} if empty else {})}, indent=2))
    else:
        if empty:
            print(f"warning: {empty}", file=sys.stderr)
        # the copy is the state at the moment it began: a bot still running on the SQLite file goes on
        # writing there (ratings, points, votes), and that is lost at the switch
        print(f"copied {total} rows in {len(copied)} tables from {source.where} to {target.where}, the state as "
              f"the copy began (a bot still running on {source.where} should have been stopped first: what it "
              f"writes from then on is not moved); to use it, set DATABASE_URL and {key}, then restart")
    return 0


def _key_used(settings, source) -> str | None:
    """The key the source's users were filed under, as the bots will need it: checked against the
    one it recorded (the source is not written to), and when it recorded none, the one key the
    settings give (GLOSSARY_HASH_KEY or state.db.key), refused when they give two that differ."""
    from .state import StateError
    from .state.feedback import check_key, key_file

    file = key_file(settings.state_path)
    in_file = file.read_text(encoding="ascii").strip() if file.exists() else None
    if settings.hash_key:
        check_key(source.feedback, settings.hash_key, source.where, None, record=False)
    elif in_file:
        check_key(source.feedback, in_file, source.where, file, record=False)
    if source.feedback.recorded_key() is None and settings.hash_key and in_file and settings.hash_key != in_file:
        raise StateError(f"GLOSSARY_HASH_KEY is set and differs from {file}, and {source.where} does not say which "
                         f"its members were filed under: the bot used {file} unless GLOSSARY_HASH_KEY was set for it "
                         "too. Unset GLOSSARY_HASH_KEY to migrate with the file's key, or remove the file if the bot "
                         "had the variable; nothing was migrated")
    return settings.hash_key or in_file


def _new_key(settings, yes: bool) -> int:
    from .state import StateError, StateStore
    from .state.feedback import hash_key, key_check

    if not settings.database_url and not settings.state_path.exists():  # opening it would make an empty one
        raise StateError(f"no state database at {settings.state_path}: set GLOSSARY_STATE_DB to the SQLite file "
                         "the bot has been using; nothing was changed")
    check = key_check(hash_key(settings.state_path, settings.hash_key))
    store = StateStore(settings.state_target)
    try:
        if store.feedback.hold_key(check):
            print(f"{store.where} already uses the key set now: nothing changed")
            return 0
        if not yes:
            questions, votes = (store.db.query(f"SELECT count(*) FROM {t}")[0][0] for t in ("questions", "votes"))
            raise StateError(f"this deletes the {questions} questions and {votes} votes logged in {store.where} under "
                             "the old key (nobody could be matched to them again, nor /forget-me reach them); "
                             "members' study records and server settings stay. Run it again with --yes to go on")
        changed = store.feedback.new_key(check)
        print(f"{store.where} now uses the key set now ({changed} logged questions, votes and change-log names "
              "under the old key removed)")
        return 0
    finally:
        store.close()


def _hash_key_to_set(settings) -> tuple[Path | None, str]:
    """The GLOSSARY_HASH_KEY the migrated state needs: the key its user hashes were made with (a new
    one would orphan every logged question and vote, which /forget-me then no longer finds). The
    key file is named, not printed: the secret stays out of terminals and logs."""
    if settings.hash_key:
        return None, "keep GLOSSARY_HASH_KEY as it is set now (the users' hashes were made with it)"
    key_file = Path(f"{settings.state_path}.key")
    if key_file.exists():
        return key_file, (f"GLOSSARY_HASH_KEY to the contents of {key_file} (so that logged questions and votes "
                          "keep their owners)")
    return None, (f"GLOSSARY_HASH_KEY to the key the bot was given so far, if any (there is no {key_file}), "
                  "else to a long random string, the same in every bot process")
