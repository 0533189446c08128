# Two commands do everything on a fresh machine with Python >= 3.11:
#   make run   - set up, then run the bot (or the local console without DISCORD_TOKEN)
#   make test  - set up, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test setup clean train train-folds train-smoke

# Set-up is quiet: what pip says goes to $(VENV)/install.log, shown only if it fails, so that
# `echo "what is attention" | make run` prints answers and nothing else.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	@echo "setting up $(VENV) (first run only)…" >&2
	@$(PYTHON) -m venv $(VENV)
	@( $(BIN)/python -m pip install --quiet --upgrade pip && $(BIN)/python -m pip install --quiet -e '.[test]' ) \
	  > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log >&2; exit 1; }
	@touch $@

setup: $(VENV)/.installed

# Byte-compile our own code first (the installed packages already are): where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise recompile it at every start.
run: setup
	@$(BIN)/python -m compileall -q bot
	@$(BIN)/glossary-bot run

test: setup
	@./scripts/ensure-postgresql
	$(BIN)/python -m pytest -q

# Retrain the bundled model and the rankers from a clean clone (about 2.5 hours on 2 cores):
# five cross-validation folds, the shipped model, a field model per fold model (so the folds'
# search hedges as the shipped one does), then the rankers on the folds' scores and the field models.
# Needs the `train` extras (torch and friends), in a virtual environment of their own.
TRAIN_VENV ?= .venv-train
TRAIN_RUNS ?= .cache/train/runs
$(TRAIN_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TRAIN_VENV)/bin/python -m pip install --quiet -e '.[train]'
	touch $@

train: train-folds
	$(TRAIN_VENV)/bin/python scripts/finetune_model.py
	$(TRAIN_VENV)/bin/python scripts/train_field.py --folds-dir $(TRAIN_RUNS)
	$(TRAIN_VENV)/bin/python scripts/train_ranker.py --folds-dir $(TRAIN_RUNS)
	$(TRAIN_VENV)/bin/python scripts/train_ranker.py --model bundled-base
	$(TRAIN_VENV)/bin/python scripts/train_field.py
	$(TRAIN_VENV)/bin/python scripts/train_field.py --model bundled-base

# The five fold models alone (about 2 hours on 2 cores), each fine-tuned without one fold's questions.
# Retraining the bundled model's ranker needs them and nothing else that takes long:
#   $(TRAIN_VENV)/bin/python scripts/train_ranker.py --folds-dir $(TRAIN_RUNS)    (a few minutes)
# They are not kept in the repository, so a fresh machine starts here (in the background, first).
# A run cut short resumes: a fold model trained on the same pairs with the same settings is kept.
train-folds: $(TRAIN_VENV)/.installed
	for k in 0 1 2 3 4; do \
	  $(TRAIN_VENV)/bin/python scripts/finetune_model.py --keep-done --hold-out-fold $$k --out $(TRAIN_RUNS)/fold$$k || exit 1; \
	done

# A minute-long run of the whole fine-tuning pipeline on a few pairs (not the shipped model).
train-smoke: $(TRAIN_VENV)/.installed
	$(TRAIN_VENV)/bin/python scripts/finetune_model.py --smoke --out $(TRAIN_RUNS)/smoke

clean:
	rm -rf $(VENV) data/index.db data/cache
