"""`glossary-bot` (also `python -m bot`): build, look up, ask, evaluate, run.

Every failure a user can cause or fix (missing file, bad index, model that
cannot load) ends as one line on stderr and a non-zero exit code, never a
traceback.

Each command imports the parts it uses itself, not this module: `run` starts
loading the model before anything else of ours is imported (see cmd_run).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import logging
import os
import random
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .config import DAYS_MAX, ConfigError, Settings, dotenv_warnings
from .glossary.errors import EvalFileError, GlossaryFormatError, IndexError_, ModelLoadError
from .state import StateError

if TYPE_CHECKING:
    from .glossary.model import ModelLoader
    from .glossary.service import Glossary

EXIT_USAGE, EXIT_FAILURE = 2, 1
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG; the bot's exit code for problems restarting cannot fix
USER_ERRORS = (ConfigError, GlossaryFormatError, IndexError_, ModelLoadError, EvalFileError, StateError, OSError,
               sqlite3.DatabaseError)


def _text_arg(text: str | list[str]) -> str:
    """A command-line argument (or its words) as valid Unicode: bytes that were not UTF-8 reach
    Python as lone surrogates, which nothing downstream can encode; make them U+FFFD."""
    if isinstance(text, list):
        text = " ".join(text)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # other lone surrogates: only possible when main() is called in-process
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _error_line(exc: BaseException) -> str:
    """One line for stderr, whatever the exception's message looks like."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError):  # a damage quick_check missed, found mid-query
        text = f"the index could not be read ({text}): run `glossary-bot build --force` to rebuild it"
    return f"glossary-bot: {text}"


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def cmd_build(glossary: Glossary, args) -> int:
    report = glossary.build(force=args.force, allow_shrink=args.allow_shrink)
    if args.json:
        _print_json({
            "entries": report.entries, "multiline": report.multiline, "warnings": report.warnings,
            "embedded": report.embedded, "reused": report.reused, "removed": report.removed,
            "up_to_date": report.up_to_date, "seconds": round(report.seconds, 3),
        })
    else:
        print(report.summary())
        if not report.up_to_date:  # an unchanged index's warnings were shown when it was built
            for warning in report.warnings:
                print(f"  warning: {warning}")
    return 0


def cmd_check(glossary: Glossary, args) -> int:
    from .glossary.lint import check_file

    report = check_file(Path(args.file) if args.file else glossary.settings.glossary_path)
    if args.json:
        _print_json(report)
    else:
        for f in report["findings"]:
            print(f"{f['file'] or report['file']}:{f['line']}: {f['severity']}: {f['message']}\n    fix: {f['fix']}")
        counts = [(report["entries"], "entry", "entries"), (report["errors"], "error", "errors"),
                  (report["warnings"], "warning", "warnings")]
        print(", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts))
    return EXIT_FAILURE if report["errors"] else 0


def cmd_search(glossary: Glossary, args) -> int:
    from .present import result_json, result_text

    searcher = glossary.open()
    result = searcher.search(_text_arg(args.text))
    if args.json:
        _print_json(result_json(result, searcher))
    else:
        print(result_text(result, searcher, define_hint="glossary-bot define <term>"))
    return 0 if result.band != "not_found" else 3


def cmd_related(glossary: Glossary, args) -> int:
    from .present import related_json, result_json, result_text

    searcher = glossary.open()
    result = searcher.search(_text_arg(args.term))
    if result.band != "answer" or not result.best:
        # as define would reply ("flux capacitor": may not cover it), not Flux's related terms;
        # on stdout, as define and ask print theirs
        if args.json:
            _print_json(result_json(result, searcher))
        else:
            print(result_text(result, searcher, define_hint="glossary-bot define <term>"))
        return 3
    entry = result.best.entry
    related = searcher.related(entry.id)
    if args.json:
        _print_json({"term": entry.term, "related": related_json(related)})
    else:
        print(f"Related to {entry.term}:")
        for r in related:
            print(f"  {r.entry.term} — {r.reason}")
    return 0


def cmd_random(glossary: Glossary, args) -> int:
    from .present import entry_json, entry_text, related_json

    searcher = glossary.open()
    entry = random.choice(list(searcher.index.entries.values()))
    related = searcher.related(entry.id)
    if args.json:
        _print_json({**entry_json(entry), "related": related_json(related)})
    else:
        print(entry_text(entry, None, related))
    return 0


def cmd_eval(glossary: Glossary, args) -> int:
    from .glossary.bank import BANK_FILES
    from .glossary.evaluate import evaluate, format_report, load_cases

    cases = load_cases(Path(args.file))
    searcher = glossary.open()
    # a name no entry has can never be a hit: said, not scored as a confident mistake in silence (QA73)
    unknown = sorted({t for case in cases for t in case.expected if searcher.index.entry_named(t) is None})
    if unknown:
        shown = ", ".join(repr(t) for t in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        print(f"warning: {len(unknown)} expected name{'s' * (len(unknown) != 1)} no entry has exactly: {shown} "
              "(a case expecting one is never a hit)", file=sys.stderr)
    report = evaluate(searcher, cases)
    trained_on = {Path(p).name for p in searcher.ranker.info.get("trained_on", [])}
    report["in_sample"] = Path(args.file).name in trained_on | {p.name for p in BANK_FILES}
    if report["in_sample"]:
        print(f"note: the bundled model and ranker were trained on {Path(args.file).name} and its questions are in "
              "the bank of questions asked before, so these numbers are in-sample; its cross-validated numbers "
              "are in data/eval/cv/", file=sys.stderr)
    if args.json:
        _print_json({k: v for k, v in report.items() if k != "failures"})
    else:
        print(format_report(report))
    return 0


def cmd_bench(glossary: Glossary, args) -> int:
    from .benchmark.run import report_json, report_text, run_bench
    from .benchmark.startup import StartupError

    try:
        bench = run_bench(glossary.settings, quick=args.quick, copies=args.copies, startup=not args.no_startup,
                          progress=lambda msg: print(msg, file=sys.stderr))
    except StartupError as exc:
        print(f"glossary-bot: bench: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        _print_json(report_json(bench))
    else:
        print(report_text(bench))
    return 0 if all(f.ok for f in bench.figures) else EXIT_FAILURE


def cmd_health(glossary: Glossary, args) -> int:
    """For a container's health check: the running bot's /healthz when it serves one
    (DISCORD_TOKEN and GLOSSARY_METRICS_PORT set), else a lookup through the index."""
    settings = glossary.settings

    def said(healthy: bool, checked: str, detail: str) -> int:
        if getattr(args, "json", False):
            print(json.dumps({"healthy": healthy, "checked": checked, "detail": detail}, ensure_ascii=False))
        elif healthy:
            print(detail if checked == "healthz" else f"ok: {detail}")
        else:
            print(f"unhealthy: {detail}", file=sys.stderr)
        return 0 if healthy else EXIT_FAILURE

    if settings.discord_token and settings.metrics_port:  # 0: a port picked at random, unknown here
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{settings.metrics_port}/healthz", timeout=10) as reply:
                return said(True, "healthz", reply.read().decode().strip())
        except (urllib.error.URLError, OSError) as exc:
            return said(False, "healthz", getattr(exc, "read", lambda: b"")().decode().strip() or str(exc))
    # Any glossary's first entry, looked up by name: "attention" is not in everyone's glossary, and a
    # console serving a cooking glossary is healthy all the same.
    searcher = glossary.open()
    first = searcher.index.entries[min(searcher.index.entries)]  # an index always has entries (store.py)
    result = searcher.search(first.term)
    if all(hit.entry.id != first.id for hit in result.hits):
        return said(False, "lookup", f"looking up {first.term!r} did not find it")
    return said(True, "lookup", first.term)


def _no_input(stdin=None) -> bool:
    """Whether standard input can never give a line: /dev/null or closed, as a container or a
    service manager starts the bot (a pipe or a terminal may; it is not read here)."""
    stdin = sys.stdin if stdin is None else stdin
    if stdin is None:
        return True
    try:
        fd = stdin.fileno()
    except io.UnsupportedOperation:  # text in memory (a test's, an embedding program's): it may have lines
        return False
    except (OSError, ValueError, AttributeError):  # closed
        return True
    try:
        here, null = os.fstat(fd), os.stat(os.devnull)
    except OSError:  # a descriptor closed behind the stream
        return True
    return (here.st_dev, here.st_ino) == (null.st_dev, null.st_ino)


def cmd_run(settings: Settings, args) -> int:
    if not settings.discord_token and _no_input():
        # Under Docker or systemd the console would read nothing and exit 0 at once, and a
        # restart policy start it again for ever: it is a missing setting, said once.
        print("glossary-bot: DISCORD_TOKEN is not set, and there is no terminal or input for the local console: "
              "put the bot's token in .env (or the environment) as DISCORD_TOKEN=…", file=sys.stderr)
        return EXIT_CONFIG
    if not settings.discord_token:
        print(
            "No DISCORD_TOKEN set: create a bot at https://discord.com/developers/applications and put its "
            "token in .env as DISCORD_TOKEN=… — starting the local console instead.",
            file=sys.stderr,
        )
        from .console import run_console
        from .glossary.service import Glossary

        return run_console(Glossary(settings))

    from .glossary.model import ModelLoader
    from .state import StateStore
    from .state.feedback import checked_key

    model = ModelLoader.for_settings(settings)
    # Start-up makes about 180,000 objects that live as long as the bot and little
    # garbage: collecting while importing is wasted time (about a tenth of the start).
    # GlossaryBot.setup_hook freezes them and turns the collector back on.
    gc.disable()
    try:
        # The one local check cheaper than the model, before it: an unusable state database (or
        # one used with another key) stops the bot at once instead of after the model has loaded.
        with contextlib.closing(StateStore(settings.state_target)) as state:
            checked_key(state.feedback, state.where, settings.state_path, settings.hash_key)
        # Next the model, so that importing the rest (our search stack, discord.py) and
        # opening the index overlap with onnxruntime building its session.
        model.start_in_background()
        from .discord_bot.launcher import run_bot
        from .glossary.service import Glossary

        code = run_bot(Glossary(settings, model=model), log_level=args.log_level)
    except KeyboardInterrupt:  # during start-up, before the bot's own handler
        code = _interrupted()
    except Exception as exc:
        code = _report(exc, "run")  # first, so the line is out before we wait for the model below
    finally:
        gc.enable()
    _let_the_model_load_end(model)
    return code


def _let_the_model_load_end(model: ModelLoader) -> None:
    """After an early exit (a bad token, say) the model may still be loading; a process
    that exits meanwhile aborts in onnxruntime's threads ("terminate called…"), so wait.
    A Ctrl-C meanwhile exits at once through os._exit, which skips the C++ destructors
    behind that abort: a model still downloading from the hub can take minutes."""
    try:
        model.wait()
    except KeyboardInterrupt:
        _interrupted()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


def _interrupted() -> int:
    print("interrupted", file=sys.stderr)
    return 130


def _report(exc: Exception, command: str) -> int:
    """One line on stderr and the exit code for what a user can fix; anything else is a bug, re-raised."""
    if not isinstance(exc, USER_ERRORS):
        raise exc
    print(_error_line(exc), file=sys.stderr)
    # `run` is what a service manager starts: its own code for "an admin must fix something".
    return EXIT_CONFIG if command == "run" else EXIT_FAILURE


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TEXT_COMMANDS = {"define": "text", "ask": "text", "related": "term"}


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value.upper()


def _text_may_start_with_a_dash(argv: list[str]) -> list[str]:
    """`glossary-bot define -norm` means the term "-norm", not an unknown option: the first
    argument of define/ask/related that is not one of their options is their text."""
    argv = list(argv)
    command = next((i for i, a in enumerate(argv) if a in TEXT_COMMANDS), None)
    if command is None or "--" in argv:
        return argv
    i = command + 1
    while i < len(argv):
        if argv[i] in ("--json", "-h", "--help"):
            i += 1
        elif argv[i] == "--index" or argv[i] == "--log-level":
            i += 2
        elif argv[i].startswith("--index="):
            i += 1
        else:
            if argv[i].startswith("-"):  # to the end, after "--": options after it still count
                argv = [*argv[:i], *argv[i + 1:], "--", argv[i]]
            break
    return argv


def _keepers_days(text: str) -> int:
    """`gaps --days`: a whole number of days, 1 to DAYS_MAX (as /glossary gaps takes)."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 1 <= days <= DAYS_MAX:
        raise argparse.ArgumentTypeError(f"days must be 1 to {DAYS_MAX}, not {days}")
    return days


def _server_id(text: str) -> int:
    """`gaps --guild`: a Discord server id, a positive 64-bit number (a larger one overflowed
    SQLite in a traceback: QA68)."""
    try:
        guild = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a server id: {text[:40]!r}") from None
    if not 0 < guild < 2**63:
        raise argparse.ArgumentTypeError(f"not a server id: {guild} (right-click the server, Copy Server ID)")
    return guild


def _keepers(name: str):
    """A command of cli_keepers, imported when it runs."""
    def command(glossary: Glossary, args) -> int:
        from . import cli_keepers

        return getattr(cli_keepers, name)(glossary, args)

    return command


def version() -> str:
    """The installed package's version; from pyproject.toml when it is run from a checkout that
    was never installed; "unknown" when neither says."""
    from importlib import metadata

    try:
        return metadata.version("glossary-bot")
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    from .config import PROJECT_ROOT

    try:
        with open(PROJECT_ROOT / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return "unknown"


class _Version(argparse.Action):
    """`--version`, read only when asked for: every other command starts without the lookup."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"glossary-bot {version()}")
        parser.exit()


def commands_text(parser: argparse.ArgumentParser) -> str:
    """A short usage and the commands, one a line: for `help`, and for no command at all."""
    lines = [f"usage: {parser.prog} [--log-level LEVEL] COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<10}{p.description}" for name, p in parser.commands.items()]  # type: ignore[attr-defined]
    lines += ["", f"`{parser.prog} help COMMAND` (or `{parser.prog} COMMAND --help`) for a command's options; "
              f"`{parser.prog} --version` for the version."]
    return "\n".join(lines) + "\n"


def cmd_help(parser: argparse.ArgumentParser, args) -> int:
    if args.topic is None:
        sys.stdout.write(commands_text(parser))
        return 0
    commands = parser.commands  # type: ignore[attr-defined]
    if args.topic not in commands:
        print(f"glossary-bot: no command {args.topic!r}", file=sys.stderr)
        sys.stderr.write(commands_text(parser))
        return EXIT_USAGE
    commands[args.topic].print_help()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glossary-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="WARNING", type=_log_level, metavar="LEVEL",
                        help="DEBUG, INFO, WARNING (default) or ERROR")
    parser.add_argument("--version", action=_Version)
    # not required: with no command the commands are listed (main), not one argparse error line
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = sub.choices  # type: ignore[attr-defined]  # name → its parser, for commands_text

    def add(name: str, func, help_text: str, *positional: tuple[str, str]):
        p = sub.add_parser(name, help=help_text, description=help_text)
        for arg, arg_help in positional:
            # several words: `glossary-bot ask what is lora` as well as with quotes
            p.add_argument(arg, help=arg_help, nargs="+" if arg in ("text", "term") else None)
        p.add_argument("--json", action="store_true", help="print JSON (shapes in docs/cli-json.md)")
        p.set_defaults(func=func)
        return p

    build = add("build", cmd_build, "create or update the index")
    build.add_argument("--force", action="store_true",
                       help="rewrite all tables even if nothing changed; a damaged index is moved aside first")
    build.add_argument("--allow-shrink", action="store_true",
                       help="accept a glossary with far fewer entries than the index (entries removed on purpose)")
    add("check", cmd_check, "check a glossary file: each warning with its line and the fix (exit 1 on errors)"
        ).add_argument("file", nargs="?", help="glossary file (default: GLOSSARY_FILE, data/glossary.txt)")
    add("define", cmd_search, "look up a term", ("text", "term, alias or misspelling"))
    add("ask", cmd_search, "ask a free-form question", ("text", "question"))
    add("related", cmd_related, "terms related to a term", ("term", "term"))
    add("random", cmd_random, "a random entry")
    add("eval", cmd_eval, "retrieval quality on a JSONL file", ("file", "eval JSONL file"))
    bench = add("bench", cmd_bench, "speed and memory ratios against the bare model (goals in the README)")
    bench.add_argument("--quick", action="store_true", help="small glossary subset and 10× scale: a smoke run")
    bench.add_argument("--copies", type=int, help="scale test size in copies of the glossary (default 100)")
    bench.add_argument("--no-startup", action="store_true", help="skip the start-up and memory processes")
    feedback = add("feedback", _keepers("cmd_feedback"), "what users said about answers (from the state database)")
    feedback.add_argument("action", choices=["export"], help="export: voted questions in the eval format")
    feedback.add_argument("--out", help="write to this file instead of stdout (JSON lines); a file there is "
                                        "replaced only with --force")
    feedback.add_argument("--force", action="store_true", help="replace the file --out names")
    gaps = add("gaps", _keepers("cmd_gaps"), "questions the glossary could not answer, grouped by meaning")
    gaps.add_argument("--days", type=_keepers_days, default=30, help="how far back (default 30)")
    gaps.add_argument("--guild", type=_server_id, help="one server's questions only (its id)")
    add("health", cmd_health, "exit 0 if the running bot is healthy (its /healthz), for container health checks")
    state = add("state", _keepers("cmd_state"), "move the bot's state database")
    state.add_argument("action", choices=["migrate", "new-key"], help="migrate: copy the SQLite state into "
                       "PostgreSQL (stop the bot first: what it writes later is not moved); new-key: start over with "
                       "the GLOSSARY_HASH_KEY set now when the one the state was used with is lost (deletes the "
                       "logged questions and votes)")
    state.add_argument("--to", help="migrate: an empty PostgreSQL database, postgresql://user:pass@host/db")
    state.add_argument("--yes", action="store_true", help="new-key: go on and delete them")
    add("run", cmd_run, "run the Discord bot (or the local console without DISCORD_TOKEN)")
    about_help = "list the commands, or show one's options"
    sub.add_parser("help", help=about_help, description=about_help).add_argument(
        "topic", nargs="?", metavar="COMMAND", help="the command to show")
    for name in ("build", "define", "ask", "related", "random", "eval", "run"):
        sub.choices[name].add_argument("--index", help="index database path (default: data/index.db)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(_text_may_start_with_a_dash(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # usage error (2), --help or --version (0): returned, so main() never raises
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:  # what a first try looks like: say what there is to run
        sys.stderr.write(commands_text(parser))
        return EXIT_USAGE
    if args.command == "help":
        return cmd_help(parser, args)
    logging.basicConfig(level=getattr(logging, args.log_level))
    try:
        for warning in dotenv_warnings(Path.cwd() / ".env"):
            print(f"glossary-bot: warning: {warning}", file=sys.stderr)
        settings = Settings.load()
        if getattr(args, "index", None):
            settings = settings.with_index(args.index)
        if args.func is cmd_run:  # it opens the glossary itself, after starting the bot's model
            return cmd_run(settings, args)
        from .glossary.service import Glossary

        return args.func(Glossary(settings), args)
    except BrokenPipeError:  # `glossary-bot ask … | head`: the reader left, nothing to report
        sys.stderr = open(os.devnull, "w")
        return 0
    except Exception as exc:
        return _report(exc, args.command)
    except KeyboardInterrupt:
        return _interrupted()


if __name__ == "__main__":
    sys.exit(main())
