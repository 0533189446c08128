"""A glossary that cannot silently shrink, a failed build that leaves nothing behind, one
behaviour for the console and the bot on a damaged index, and `glossary-bot check` (issue 15).

The commands run in a subprocess on the six-entry glossary of test_faults_storage.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.glossary.index_file import KEEP_MOVED_ASIDE, move_aside
from bot.glossary.lint import check_text
from tests.conftest import sha256_of
from tests.test_faults_storage import (  # noqa: F401  (fixtures)
    SMALL_GLOSSARY,
    _garbage,
    assert_one_line_error,
    base,
    bot_cli,
    env_for,
    small,
    work,
)


def entries_in(index: Path) -> int:
    with sqlite3.connect(index) as conn:
        return conn.execute("SELECT count(*) FROM entries").fetchone()[0]


def halve(glossary: Path) -> None:
    lines = glossary.read_text().splitlines()
    glossary.write_text("\n".join(lines[: len(lines) // 2]) + "\n")


def test_a_halved_glossary_is_refused_and_the_old_index_keeps_serving(work):
    index, before = work / "index.db", sha256_of(work / "index.db")
    halve(work / "glossary.txt")
    assert_one_line_error(bot_cli(work, "build"), 1, "has 3 entries, the index 6", "--allow-shrink")
    assert sha256_of(index) == before

    served = bot_cli(work, "define", "QLoRA")  # an entry only the previous index has
    assert served.returncode == 0 and served.stdout.startswith("QLoRA\n"), served.stderr
    assert "--allow-shrink" in served.stderr and "serving the previous index" in served.stderr
    assert sha256_of(index) == before

    accepted = bot_cli(work, "build", "--allow-shrink")
    assert accepted.returncode == 0, accepted.stderr
    assert entries_in(index) == 3


def test_an_index_of_the_previous_schema_keeps_serving_when_its_upgrade_build_is_refused(work):
    # As schema 5 wrote it: no packed bank. The refused build has migrated it by then.
    with sqlite3.connect(work / "index.db") as conn:
        conn.execute("DROP TABLE bank_matrix")
        conn.execute("PRAGMA user_version = 5")
    halve(work / "glossary.txt")
    assert_one_line_error(bot_cli(work, "build"), 1, "has 3 entries, the index 6", "--allow-shrink")

    served = bot_cli(work, "define", "QLoRA")
    assert served.returncode == 0 and served.stdout.startswith("QLoRA\n"), served.stderr
    assert "serving the previous index" in served.stderr


def test_a_glossary_without_entries_is_an_error_that_says_why(work):
    (work / "glossary.txt").write_text("Just one line that is not followed by a definition\n")
    before = sha256_of(work / "index.db")
    assert_one_line_error(bot_cli(work, "build", "--allow-shrink"), 1, "has no entries", "glossary-bot check")
    assert sha256_of(work / "index.db") == before


def test_a_glossary_cut_to_nothing_keeps_the_previous_index_serving(work):
    index, before = work / "index.db", sha256_of(work / "index.db")
    for emptied in ("", "\n\n   \n", "\ufeff"):  # cut short while saving, blank lines, a BOM and nothing
        (work / "glossary.txt").write_text(emptied, encoding="utf-8")
        assert_one_line_error(bot_cli(work, "build"), 1, "has no entries", "the index 6", "index was kept")
        served = bot_cli(work, "define", "QLoRA")
        assert served.returncode == 0 and served.stdout.startswith("QLoRA\n"), served.stderr
        assert "serving the previous index" in served.stderr
        assert sha256_of(index) == before


def test_an_empty_glossary_with_no_index_names_the_file(work):
    (work / "index.db").unlink()
    (work / "glossary.txt").write_text("")
    assert_one_line_error(bot_cli(work, "build"), 1, "glossary.txt has no entries", "glossary-bot check")


def test_a_failed_first_build_leaves_nothing_behind(work):
    (work / "index.db").unlink()
    (work / "glossary.txt").write_text("One line only\n")
    proc = bot_cli(work, "build")
    assert proc.returncode == 1 and "has no entries" in proc.stderr
    assert sorted(p.name for p in work.iterdir()) == ["glossary.txt"]

    (work / "glossary.txt").write_text(SMALL_GLOSSARY)
    empty = work / "no-model"
    empty.mkdir()
    proc = bot_cli(work, "build", env=env_for(work, GLOSSARY_MODEL_DIR=str(empty)))  # the model cannot load
    assert proc.returncode == 1 and "model files missing" in proc.stderr
    assert sorted(p.name for p in work.iterdir()) == ["glossary.txt", "no-model"]


def test_the_console_rebuilds_a_damaged_index_as_the_bot_does(work):
    index = work / "index.db"
    _garbage(index)
    proc = bot_cli(work, "run", input_text="/define attention\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Attention\n")
    assert "moved it to" in proc.stderr and "Traceback" not in proc.stderr
    assert len(list(work.glob("index.db.corrupt-*"))) == 1 and entries_in(index) == 6


def test_only_the_newest_moved_aside_copies_are_kept(tmp_path):
    index = tmp_path / "index.db"
    for n in range(KEEP_MOVED_ASIDE + 3):
        index.write_bytes(f"damaged {n}".encode())
        move_aside(index)
    kept = sorted(tmp_path.glob("index.db.corrupt-*"))
    assert len(kept) == KEEP_MOVED_ASIDE
    assert sorted(p.read_text() for p in kept) == [f"damaged {n}" for n in range(3, KEEP_MOVED_ASIDE + 3)]


SEEDED = """\
Adam
An optimizer with per-parameter step sizes. See AdamW.
Batch
A group of examples processed together (see Minibatch).
Epoch
One full pass over the data.
Epoch
A second entry with the same name.
Zebra
Out of place. Also called dilution.
Dropout
Zeroing random activations while training. Also called dilution.
Cosine
Similarity of directions.
Orphan term
"""


def test_check_reports_each_problem_with_its_line_and_a_fix():
    entries, findings = check_text(SEEDED)
    got = {(f.line, f.severity, f.code) for f in findings}
    assert entries == 7
    assert (1, "warning", "dangling-see") in got  # "See AdamW": no such entry
    assert (3, "warning", "dangling-see") in got  # "(see Minibatch)"
    assert (7, "error", "duplicate-term") in got
    assert (11, "warning", "out-of-order") in got  # Zebra, Dropout, Cosine
    assert (11, "warning", "shared-name") in got  # "dilution" names Zebra and Dropout
    assert (15, "warning", "no-definition") in got
    assert all(f.fix for f in findings)
    assert check_text("Adam\nSee AdamW.\nAdamW\nAdam with decoupled weight decay.\n")[1] == []


def test_check_names_the_lines_of_the_file_even_with_blank_lines_between_entries():
    """QA73: a glossary with blank lines got the line numbers of the file without them."""
    text = ("Batch\nA group of examples.\n\nEpoch\nOne full pass.\n\nGradient\nThe slope.\nExamples\n- one\n"
            "- two\n\nMomentum\nA running average.\n\nZeta\n")
    lines = text.split("\n")
    _, findings = check_text(text)
    for finding in findings:
        named = next((w for w in ("Examples", "Zeta") if w in finding.message), None)
        if named:
            assert lines[finding.line - 1] == named, (finding.line, finding.message)
    assert {lines[f.line - 1] for f in findings} >= {"Examples", "Zeta"}


def test_check_points_at_control_characters_a_terminal_would_act_on():
    """QA73: a NUL and an escape code that clears the screen passed check without a word."""
    _, findings = check_text("Epoch\nOne \x00full pass.\nBat\x1b[2Jch\nA group.\r\nMomentum\nA\trunning mean.\n")
    assert sorted((f.line, f.code) for f in findings if f.code == "control-character") == [(2, "control-character"),
                                                                                          (3, "control-character")]
    # bare CR line ends count as the editor counts them; a one-character CSI (U+009B) is a control too
    _, findings = check_text("Epoch\rOne full pass.\rBat\x9b2Jch\rA group.\r")
    assert [f.line for f in findings if f.code == "control-character"] == [3]


def test_check_exits_non_zero_on_errors_and_prints_json(work):
    clean = bot_cli(work, "check", "--json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["errors"] == 0
    seeded = work / "seeded.txt"
    seeded.write_text(SEEDED)
    proc = bot_cli(work, "check", str(seeded))
    assert proc.returncode == 1
    assert f"{seeded}:7: error: term 'Epoch' repeats line 5" in proc.stdout and "fix:" in proc.stdout
    assert proc.stdout.rstrip().endswith("7 entries, 1 error, 5 warnings")
