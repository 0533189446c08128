"""The benchmark's machinery: the synthetic glossary and a quick run of every figure.

Whether the goals are met is the benchmark's job (`glossary-bot bench`), not a
test's: timings on a shared CI machine would make such a test flaky. These
tests check that every figure is measured and reported in the documented shape.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bot.benchmark.run import report_json, report_text, run_bench
from bot.benchmark.synthetic import ScaleEmbedder, codename, write_synthetic_glossary
from bot.cli import main
from bot.config import DEFAULT_DATA_DIR, Settings
from bot.glossary.index import build_index, content_hash
from bot.glossary.parse import parse_file

GLOSSARY = DEFAULT_DATA_DIR / "glossary.txt"
EXPECTED_FIGURES = {
    "define_vs_embedding", "ask_median_vs_embedding", "ask_p99_vs_embedding", "build_vs_raw_embedding",
    "unchanged_rebuild_vs_full", "ask_at_scale_vs_real", "startup_vs_model_load", "memory_vs_model",
    "quiz_vs_embedding", "review_vs_embedding",
}


def test_codenames_are_distinct_words() -> None:
    names = [codename(k) for k in range(1, 2000)]
    assert len(set(names)) == len(names)
    assert all(n.isalpha() and n[0].isupper() for n in names)


def test_synthetic_glossary_parses_to_copies_times_the_entries(tmp_path) -> None:
    real = parse_file(GLOSSARY)
    count = write_synthetic_glossary(GLOSSARY, tmp_path / "g.txt", copies=3)
    parsed = parse_file(tmp_path / "g.txt")
    assert count == len(parsed.entries) == 3 * len(real.entries)
    assert len({e.term for e in parsed.entries}) == count
    assert {e.term for e in real.entries} <= {e.term for e in parsed.entries}  # copy 0 is the real one


def test_scale_embedder_reuses_real_vectors_and_invents_the_rest(real_index_path, real_embedder, tmp_path) -> None:
    stand_in = ScaleEmbedder(real_index_path, real_embedder.model_id, 384)
    real = parse_file(GLOSSARY).entries[0]
    known_text = f"{real.term}: {real.definition}"
    vectors = stand_in.embed_documents([known_text, "made-up text", "made-up text"])
    assert vectors.shape == (3, 384)
    assert np.allclose(vectors[1], vectors[2])  # deterministic
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert content_hash(known_text) in stand_in._known
    assert np.allclose(vectors[0], stand_in._known[content_hash(known_text)])
    # and it builds an index
    write_synthetic_glossary(GLOSSARY, tmp_path / "g.txt", copies=2)
    report = build_index(tmp_path / "index.db", tmp_path / "g.txt", stand_in)
    assert report.entries == 2 * len(parse_file(GLOSSARY).entries)


def test_quick_bench_measures_every_figure(tmp_path) -> None:
    settings = Settings.load(environ={}, dotenv=Path("/nonexistent"))
    # Start-up included: two real processes (the bot through the fake Discord), once each in --quick.
    bench = run_bench(settings, quick=True, copies=3, progress=lambda _msg: None)
    report = report_json(bench)
    assert set(report["ratios"]) == EXPECTED_FIGURES
    for name, figure in report["ratios"].items():
        assert math.isfinite(figure["ratio"]) and figure["ratio"] >= 0, name
        assert figure["goal"] > 0 and isinstance(figure["ok"], bool) and figure["what"]
    assert report["all_ok"] == all(f["ok"] for f in report["ratios"].values())
    assert report["ratios"]["ask_at_scale_vs_real"]["entries"] == 3 * 40
    assert set(report["info"]["vector_search_at_scale"]) == {"float32 (BLAS)", "float16", "int8→int32"}
    assert report["info"]["nearest_at_scale"]["exact_top5_kept"] == 1.0  # 120 entries: exact search
    json.dumps(report)  # serialisable as printed by --json
    text = report_text(bench)
    assert all(name in text for name in EXPECTED_FIGURES)
    assert not bench.workdir.exists()  # temporary files are cleaned up


def test_bench_cli_rejects_bad_arguments(capsys) -> None:
    assert main(["bench", "--copies", "many"]) == 2
    assert "invalid int value" in capsys.readouterr().err
