# Two commands do everything on a fresh machine with Python >= 3.11:
#   make run   - set up, then run the bot (or the local console without DISCORD_TOKEN)
#   make test  - set up, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test setup clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Byte-compile our own code first (the installed packages already are): where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise recompile it at every start.
run: setup
	$(BIN)/python -m compileall -q bot
	$(BIN)/glossary-bot run

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) data/index.db data/cache
