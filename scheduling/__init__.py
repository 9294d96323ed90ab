"""Time-driven work: the exactly-once nudge outbox and the cadence engine."""
