"""Glossary study bot: answers from one trusted ML glossary, offline."""

import os

# One BLAS thread. Our matrix products are single query vectors against the
# index (memory-bound, a few ms at most), and the ONNX model already keeps
# both cores busy: with OpenBLAS's default thread pool a 1,200×384 product
# took 12 ms on a loaded 2-core machine instead of 0.05 ms. Set before numpy
# is imported anywhere; an explicit setting by the user wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# The bot is offline by design: no usage telemetry from onnxruntime either. (Its
# telemetry also prints a warning in colour codes when HOME is read-only.)
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
