"""Domain logic of the CSO process: pure functions over pydantic models.

Nothing in this package imports Slack, the database or the clock: time is always a
parameter (`now`), so every rule is unit-tested directly.
"""
