"""Use cases: what a command, a button or a scheduled job does, called by both the Slack
listeners (`handlers/`) and the scheduler (`scheduling/`). Below them: `storage/`, `llm/`,
`prompts/`, `domain/`."""
