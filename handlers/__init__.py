"""Slack listeners, one module per feature; each has `register(app)` (listed in bot/features.py)."""
