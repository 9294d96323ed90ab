"""The rule classifier, `is_question`, the flag vocabulary and the quality figure."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.classify import RISK, Classification, RuleClassifier, is_question, normalize
from domain.evaluation import LabelledMessage, evaluate, load_labelled
from domain.flags import (
    DEFAULT_REACTIONS,
    FLAG_LABELS,
    FlagKind,
    FlagVocabulary,
    flag_label,
    parse_kind,
)
from prompts.cli_views import flag_report as format_report

DATASET = Path(__file__).resolve().parents[1] / "data" / "flags_dev.jsonl"

# Dataset provenance: lines 1-387 were written before any rule; 388-477 and 478-549 were two
# batches written after the rules existed and scored blind (accuracy 0.58 and 0.68, scope-creep
# recall 0.40 and 0.58) before being folded in and the rules widened by general phrasing. The
# figures asserted below are therefore in-sample; the blind ones are the honest estimate.


@pytest.fixture(scope="module")
def rules() -> RuleClassifier:
    return RuleClassifier()


# -- rules per kind ----------------------------------------------------------------------------
# Sentences below are not in the dataset.
POSITIVES = [
    ("Just one more chart on the funnel page and we're done, promise!", FlagKind.SCOPE_CREEP),
    ("While you're at it, could you add a churn tab?", FlagKind.SCOPE_CREEP),
    ("Could you also build a margin model for the stores team?", FlagKind.SCOPE_CREEP),
    ("I know it's not in the original scope, but can we add Klaviyo?", FlagKind.SCOPE_CREEP),
    ("Heads up: the launch moved up to the 4th, so we need the dashboard by then.", None),
    ("The go-live has been postponed to February.", FlagKind.DEADLINE_CHANGE),
    ("Hard deadline on our side: the 30th, the auditors arrive then.", FlagKind.DEADLINE_CHANGE),
    ("Our readout is now Tuesday, not Thursday.", FlagKind.DEADLINE_CHANGE),
    ("Still waiting on IT for the warehouse credentials.", FlagKind.RISK),
    ("We're blocked until legal approves the DPA.", FlagKind.RISK),
    ("Honestly, I'm frustrated with the number of data errors.", FlagKind.NEGATIVE_SENTIMENT),
    ("The report broke AGAIN.", FlagKind.NEGATIVE_SENTIMENT),
    ("Can you send over a proposal for rolling this out to our UK stores?", None),
    ("We have budget approved for a phase 2 next year.", FlagKind.EXPANSION_SIGNAL),
    ("I'm leaving the company next month; Dana will take over.", FlagKind.STAKEHOLDER_CHANGE),
    ("We have a new CMO starting on Monday.", FlagKind.STAKEHOLDER_CHANGE),
    ("Deloitte pitched us a cheaper version of this.", FlagKind.COMPETITOR_MENTION),
    ("Another agency offered to take this over.", FlagKind.COMPETITOR_MENTION),
]
# (None means: the kind the sentence plainly is, checked by its own test below.)


@pytest.mark.parametrize(("text", "kind"), [p for p in POSITIVES if p[1] is not None])
def test_rules_flag_each_kind(rules: RuleClassifier, text: str, kind: FlagKind) -> None:
    result = rules.classify(text)
    assert result.kind is kind, result.reason
    assert result.source == "rules"
    assert result.flagged
    assert 0 < result.confidence <= 1
    assert result.reason.startswith(("matched", "shouting"))


def test_priority_settles_messages_matching_several_kinds(rules: RuleClassifier) -> None:
    # A moved date plus a need-by: deadline change (also matches nothing more specific).
    moved = "Heads up: the launch moved up to the 4th, so we need the dashboard by then."
    assert rules.classify(moved).kind is FlagKind.DEADLINE_CHANGE
    # Asking for a proposal is paid work (expansion), even though it asks for more.
    paid = "Can you send over a proposal for rolling this out to our UK stores?"
    assert rules.classify(paid).kind is FlagKind.EXPANSION_SIGNAL
    # A champion leaving "for a competitor" is a stakeholder change, not a competitor mention.
    left = "Our sponsor Maria just left for a competitor."
    assert rules.classify(left).kind is FlagKind.STAKEHOLDER_CHANGE
    matched = rules.matches("While you're at it, could you send a proposal for phase 2?")
    assert set(matched) >= {FlagKind.SCOPE_CREEP, FlagKind.EXPANSION_SIGNAL}


HARD_NEGATIVES = [
    "One more thing — thanks for the chart!",
    "No rush on the deadline, whenever works.",
    "Thanks for adding the cohort chart, it's great.",
    "The deadline is still the 20th, right?",
    "Can you add me to the invite for Thursday?",
    "Could you also share the slides from today?",
    "Can we move our weekly sync to Wednesday?",
    "No blockers on our side.",
    "Our competitors ran the same promo, so the dip makes sense.",
    "I'm leaving for lunch, back in an hour.",
    "Not a complaint, just curious why the total changed.",
    "We don't need any more views, this is perfect as is.",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_are_not_flagged(rules: RuleClassifier, text: str) -> None:
    result = rules.classify(text)
    assert result.kind is FlagKind.NONE, result.reason
    assert not result.flagged


VETOED = [
    ("One more thing — thanks for the extra chart you added!", FlagKind.SCOPE_CREEP),
    ("Can you add me to the invite for Thursday?", FlagKind.SCOPE_CREEP),
    ("No more changes from us — no need to add the extra tab after all.", FlagKind.SCOPE_CREEP),
    ("Can we move our weekly sync to Wednesday?", FlagKind.DEADLINE_CHANGE),
    ("No rush at all, we need it by the 30th at the latest.", FlagKind.DEADLINE_CHANGE),
    ("Keep the original date, we still need it ready by Friday.", FlagKind.DEADLINE_CHANGE),
    ("No blockers this week; we're waiting on nothing.", FlagKind.RISK),
    ("Not a complaint, not frustrated, just curious.", FlagKind.NEGATIVE_SENTIMENT),
    ("I'm leaving for lunch, back at 2.", FlagKind.STAKEHOLDER_CHANGE),
]


@pytest.mark.parametrize(("text", "pattern_kind"), VETOED)
def test_hard_negatives_veto_a_matching_pattern(
    rules: RuleClassifier, text: str, pattern_kind: FlagKind
) -> None:
    assert pattern_kind in rules.matches(text)  # the phrase pattern alone would flag it
    result = rules.classify(text)
    assert result.kind is FlagKind.NONE
    assert "vetoed" in result.reason


def test_a_veto_is_reported_in_the_reason(rules: RuleClassifier) -> None:
    result = rules.classify("The deadline hasn't changed, we still need it by Friday.")
    assert result.kind is FlagKind.NONE
    assert "deadline_change" in result.reason and "vetoed" in result.reason


def test_slack_markup_is_normalised(rules: RuleClassifier) -> None:
    text = "<@U123ABC> could you also add a chart for <https://x.io/d|the ROAS page>? :pray:"
    assert normalize(text) == "someone could you also add a chart for the roas page?"
    assert rules.classify(text).kind is FlagKind.SCOPE_CREEP
    curly = "While you’re at it, can you add one more chart?"
    assert rules.classify(curly).kind is FlagKind.SCOPE_CREEP


def test_classification_is_validated() -> None:
    with pytest.raises(ValidationError):
        Classification(kind=FlagKind.RISK, confidence=1.5, reason="x")
    with pytest.raises(ValidationError):
        Classification(kind="blocker", confidence=0.5, reason="x")
    with pytest.raises(ValidationError):
        Classification(kind=FlagKind.RISK, confidence=0.5, reason="x", source="gut")


def test_rule_kinds_must_be_distinct() -> None:
    with pytest.raises(ValueError, match="distinct"):
        RuleClassifier([RISK, RISK])


# -- is_question -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Is the attribution report ready?",
        "What's the ETA on the Zendesk connector? Thanks!",
        "can you resend the dashboard link",
        "Could you check the numbers for March",
        "Hi team, any update on the backfill",
        "Please send the invoice to finance",
        "Hey Sam — would you take a look at the deck",
        "Did the load finish? :eyes:",
        "Let me know when the pipeline is back up",
    ],
)
def test_is_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, looks great!",
        "The dashboard is live.",
        "Can't wait to see it.",
        "We'll send the files tomorrow.",
        "See https://example.com/report?id=3 for details.",
        "",
        "   ",
    ],
)
def test_is_not_question(text: str) -> None:
    assert not is_question(text)


# -- the labelled set and the quality figure -----------------------------------------------------
def test_dataset_is_large_varied_and_valid() -> None:
    items = load_labelled(DATASET)
    counts = Counter(i.label for i in items)
    assert len(items) >= 320
    assert counts[FlagKind.SCOPE_CREEP] >= 50
    assert counts[FlagKind.DEADLINE_CHANGE] >= 40
    assert counts[FlagKind.NONE] >= 80
    assert set(counts) == set(FlagKind)  # every kind is represented
    texts = [i.text for i in items]
    assert len(set(texts)) == len(texts)  # no duplicates
    # Hard negatives from the issue are in the set, labelled "none".
    by_text = {i.text: i.label for i in items}
    assert by_text["One more thing — thanks for the chart! The team loved it."] is FlagKind.NONE
    assert by_text["No rush on the deadline, whenever you get to it is fine."] is FlagKind.NONE


def test_rules_meet_the_targets_on_the_dataset(rules: RuleClassifier) -> None:
    report = evaluate(rules, load_labelled(DATASET))
    scope = report.per_kind[FlagKind.SCOPE_CREEP]
    deadline = report.per_kind[FlagKind.DEADLINE_CHANGE]
    assert scope.precision >= 0.90, format_report(report, mistakes=20)
    assert scope.recall >= 0.75, format_report(report, mistakes=20)
    assert deadline.precision >= 0.90, format_report(report, mistakes=20)
    # The other kinds are not targets, but a collapse would be a regression.
    assert report.macro.f1 >= 0.85
    assert report.per_kind[FlagKind.NONE].recall >= 0.90  # few false alarms to CSOs


# How fast the rules classify a message (well under a millisecond) is measured in
# bench/classify.py: a wall-clock figure, not a test.


class _Fixed:
    def __init__(self, answers: dict[str, FlagKind]) -> None:
        self.answers = answers

    def classify(self, text: str) -> Classification:
        return Classification(kind=self.answers[text], confidence=1.0, reason="fixed")


def test_evaluate_computes_precision_recall_and_confusion() -> None:
    items = load_labelled_from_rows(
        [
            ("a", "scope_creep"),
            ("b", "scope_creep"),
            ("c", "none"),
            ("d", "risk"),
        ]
    )
    clf = _Fixed(
        {
            "a": FlagKind.SCOPE_CREEP,
            "b": FlagKind.NONE,
            "c": FlagKind.SCOPE_CREEP,
            "d": FlagKind.RISK,
        }
    )
    report = evaluate(clf, items)
    scope = report.per_kind[FlagKind.SCOPE_CREEP]
    assert (scope.support, scope.predicted, scope.true_positives) == (2, 2, 1)
    assert scope.precision == pytest.approx(0.5)
    assert scope.recall == pytest.approx(0.5)
    assert scope.f1 == pytest.approx(0.5)
    assert report.per_kind[FlagKind.RISK].f1 == pytest.approx(1.0)
    assert report.confusion[FlagKind.SCOPE_CREEP][FlagKind.NONE] == 1
    assert report.confusion[FlagKind.NONE][FlagKind.SCOPE_CREEP] == 1
    assert report.accuracy == pytest.approx(0.5)
    # micro over flag kinds: tp 2 (a, d), predicted flags 3 (a, c, d), true flags 3 (a, b, d)
    assert report.micro.precision == pytest.approx(2 / 3)
    assert report.micro.recall == pytest.approx(2 / 3)
    # macro over the kinds present: scope (0.5, 0.5) and risk (1, 1)
    assert report.macro.precision == pytest.approx(0.75)
    assert [m.text for m in report.mistakes] == ["b", "c"]

    text = format_report(report, mistakes=5)
    assert "scope_creep" in text and "precision" in text and "confusion" in text
    assert "[scope_creep -> none] b" in text


def load_labelled_from_rows(rows: list[tuple[str, str]]) -> list[LabelledMessage]:
    return [LabelledMessage(text=t, label=FlagKind(k)) for t, k in rows]


def test_load_labelled_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    good = json.dumps({"text": "hello", "label": "none"})
    path.write_text(good + "\n\n" + json.dumps({"text": "x", "label": "scope"}) + "\n")
    with pytest.raises(ValueError, match=r"set\.jsonl:3"):
        load_labelled(path)
    path.write_text(good + "\n{not json\n")
    with pytest.raises(ValueError, match=r":2"):
        load_labelled(path)


# -- flag vocabulary ---------------------------------------------------------------------------
def test_default_vocabulary() -> None:
    vocab = FlagVocabulary()
    assert vocab.reactions == DEFAULT_REACTIONS
    assert vocab.kind_for("triangular_flag_on_post") is FlagKind.SCOPE_CREEP
    assert vocab.kind_for(":warning:") is FlagKind.RISK
    assert vocab.kind_for("date") is FlagKind.DEADLINE_CHANGE
    assert vocab.kind_for("moneybag") is FlagKind.EXPANSION_SIGNAL
    assert vocab.kind_for("thumbsup") is None
    assert vocab.emoji_for(FlagKind.RISK) == ["warning"]
    assert FlagVocabulary.from_mapping(None) == vocab


def test_vocabulary_override_replaces_the_defaults_and_accepts_labels() -> None:
    vocab = FlagVocabulary.from_mapping(
        {
            ":rotating_light:": "risk",
            "handshake": "expansion hook",
            "crown": "Champion change",
            "eyes": "competitor",
            "Wave::skin-tone-3": "stakeholder_change",
        }
    )
    assert vocab.kind_for("rotating_light") is FlagKind.RISK
    assert vocab.kind_for("handshake") is FlagKind.EXPANSION_SIGNAL
    assert vocab.kind_for("crown") is FlagKind.STAKEHOLDER_CHANGE
    assert vocab.kind_for("eyes") is FlagKind.COMPETITOR_MENTION
    assert vocab.kind_for("wave::skin-tone-5") is FlagKind.STAKEHOLDER_CHANGE
    assert vocab.kind_for("warning") is None  # the defaults are replaced, not merged


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"warning": "scoap_creep"}, r"emoji 'warning': unknown flag kind 'scoap_creep'"),
        ({"date": "none"}, r"emoji 'date': 'none' is not a flag kind"),
        ({"not an emoji!": "risk"}, r"emoji 'not an emoji!': not a valid Slack emoji name"),
        ({"warning": "risk", ":warning:": "scope_creep"}, r"emoji ':warning:' is mapped twice"),
        ({"warning": 3}, r"emoji 'warning': flag kind must be a non-empty string"),
        ({}, r"empty"),
    ],
)
def test_vocabulary_override_errors_name_the_bad_entry(
    mapping: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        FlagVocabulary.from_mapping(mapping)


def test_unknown_kind_error_lists_the_allowed_kinds() -> None:
    with pytest.raises(ValueError) as info:
        parse_kind("budget")
    assert "scope_creep" in str(info.value) and "competitor_mention" in str(info.value)


def test_labels() -> None:
    assert flag_label(FlagKind.SCOPE_CREEP) == "scope creep"
    assert flag_label("deadline_change") == "deadline change"
    assert set(FLAG_LABELS) == set(FlagKind)
    assert all(parse_kind(label) is kind for kind, label in FLAG_LABELS.items())
