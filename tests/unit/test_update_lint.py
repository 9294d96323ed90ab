"""Client update lint (docs/process.md, "Client updates"): the good examples pass, the bad ones
get warned."""

from __future__ import annotations

import pytest

from domain.update_lint import (
    FRAME_EXAMPLE,
    OUTCOME_EXAMPLE,
    PLAIN_LANGUAGE_EXAMPLE,
    lint_update,
    missing_sections,
    unexplained_jargon,
)

# The process's good exemplar, verbatim.
PROCESS_STATUS_UPDATE = (
    "Status: On track. Risk: Waiting on API keys. Ask: Please ping your IT team today. "
    "Next: We will begin integration tomorrow if keys are received."
)
# The process's bad exemplars.
PROCESS_ACTIVITY_LIST = (
    "This week we closed 15 Linear tickets, had 3 internal meetings, and wrote 500 lines of code."
)
PROCESS_VAGUE = "Everything is going well!"
JARGON_DUMP = (
    "The dbt DAG failed on the incremental model after the schema migration; the PR makes the"
    " job idempotent and we'll backfill tonight."
)


def codes(text: str) -> list[str]:
    return [w.code for w in lint_update(text)]


def test_the_process_status_update_passes_clean() -> None:
    assert lint_update(PROCESS_STATUS_UPDATE) == []


def test_a_slack_formatted_update_with_all_sections_passes_clean() -> None:
    text = (
        "*Status:* on track — the attribution model went live Tuesday, which means paid social"
        " budgets can be set from real returns.\n"
        "*Risks:* none this week.\n"
        "*Asks:* please confirm the Q3 targets by Thursday.\n"
        "*Next steps:* we start the budget pacing view on Monday."
    )
    assert lint_update(text) == []


def test_the_process_outcome_examples_raise_no_content_warnings() -> None:
    # §3 good exemplars: outcome language and a translated technical task. They are single
    # sentences, so only the frame is missing.
    for text in (OUTCOME_EXAMPLE, PLAIN_LANGUAGE_EXAMPLE):
        assert codes(text) == ["missing_section"], text


def test_activity_list_is_warned_with_the_outcome_example() -> None:
    warnings = lint_update(PROCESS_ACTIVITY_LIST)
    activity = [w for w in warnings if w.code == "activity_list"]
    assert len(activity) == 1
    assert "15 Linear tickets" in activity[0].message
    assert "3 internal meetings" in activity[0].message
    assert activity[0].example == OUTCOME_EXAMPLE
    assert "which means your marketing team can now pull reports 2 days faster" in (
        activity[0].example
    )


def test_counts_with_an_outcome_are_not_an_activity_list() -> None:
    text = (
        "Status: we merged 4 PRs and ran 2 workshops so that your analysts can build their own"
        " reports. Risks: none. Asks: none. Next: training on Friday."
    )
    assert "activity_list" not in codes(text)
    assert "activity_list" not in codes("Status: we closed 3 tickets. Risks: none.")


def test_vague_all_clear_is_warned_with_the_frame_example() -> None:
    warnings = lint_update(PROCESS_VAGUE)
    vague = [w for w in warnings if w.code == "vague_all_clear"]
    assert len(vague) == 1
    assert "Everything is going well" in vague[0].message
    assert vague[0].example == FRAME_EXAMPLE
    assert "vague_all_clear" in codes("All good on our side, nothing to report.")


def test_all_clear_with_specifics_is_fine() -> None:
    text = "Everything is going well: the pipeline shipped on Tuesday and reports now load in 2s."
    assert "vague_all_clear" not in codes(text)


def test_jargon_dump_is_warned_with_the_plain_language_example() -> None:
    warnings = [w for w in lint_update(JARGON_DUMP) if w.code == "jargon"]
    assert len(warnings) == 1
    for term in ("dbt", "DAG", "incremental model", "schema migration", "PR", "idempotent"):
        assert f'"{term}"' in warnings[0].message
    assert warnings[0].example == PLAIN_LANGUAGE_EXAMPLE


def test_explained_jargon_is_fine() -> None:
    assert unexplained_jargon(PLAIN_LANGUAGE_EXAMPLE) == []  # "refactoring ... to ensure"
    explained = "We set up a reverse ETL sync, which means scores land in HubSpot."
    assert unexplained_jargon(explained) == []
    glossed = "We set up reverse ETL (a nightly copy of scores into HubSpot) for sales."
    assert unexplained_jargon(glossed) == []
    assert unexplained_jargon("The DAG now runs hourly so that your dashboards stay fresh.") == []
    # "reverse ETL" is reported once, not also as "ETL"; lowercase "pr" is not jargon.
    assert unexplained_jargon("We launched reverse ETL. Our pr team loved it.") == ["reverse ETL"]


def test_missing_sections_are_named() -> None:
    assert missing_sections(PROCESS_STATUS_UPDATE) == []
    assert missing_sections("Status: green. Next steps: demo Friday.") == ["risks", "asks"]
    warnings = lint_update("Status: green. Next: demo Friday.")
    missing = [w for w in warnings if w.code == "missing_section"]
    assert len(missing) == 1
    assert '"Risks:"' in missing[0].message and '"Asks:"' in missing[0].message
    assert '"Status:"' not in missing[0].message
    assert missing[0].example == FRAME_EXAMPLE


@pytest.mark.parametrize("text", ["", "   \n"])
def test_an_empty_draft_is_not_ready(text: str) -> None:
    assert codes(text) == ["missing_section"]


def test_each_warning_carries_code_message_and_example() -> None:
    for warning in lint_update(PROCESS_ACTIVITY_LIST + " " + PROCESS_VAGUE + " " + JARGON_DUMP):
        assert warning.code in {"activity_list", "vague_all_clear", "jargon", "missing_section"}
        assert warning.message and warning.example
