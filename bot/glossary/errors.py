"""What can go wrong that a user can fix: one class per kind, each message says how.

Kept apart from the modules that raise them, which import numpy and the search
stack, so that the CLI can name them before it has imported any of that (it
starts loading the model first, see cli.cmd_run)."""


class GlossaryFormatError(ValueError):
    """The file cannot be read as a glossary at all."""


class GlossaryEmptyError(GlossaryFormatError):
    """The file holds nothing but blank lines (cut to nothing while being saved or copied, say)."""


class IndexError_(RuntimeError):
    """The index database is missing, unreadable or not writable; says how to fix it."""


class GlossaryShrinkError(IndexError_):
    """A rebuild would drop a large share of the index's entries (a cut or damaged glossary
    file, most likely); the previous index stays until `build --allow-shrink` accepts it."""


class ModelLoadError(RuntimeError):
    """The embedding model cannot be loaded; the message says how to fix it."""


class EvalFileError(ValueError):
    """The evaluation file cannot be read or has a malformed line."""
