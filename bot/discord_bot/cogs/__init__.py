"""One discord.py extension per feature area: lookup, study, admin, daily."""
