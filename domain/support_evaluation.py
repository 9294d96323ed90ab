"""The quality figure for the support kind (`csobot eval-flags` and `csobot eval-support`):
precision, recall and F1 per severity label (blocker / normal / question, "none" the negative
class), "opens a request at all" as a binary figure, and the product-feedback label
(feature_request / bug)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.support import FeedbackKind, SupportDetector

Label = Literal["blocker", "normal", "question", "none"]
LABELS: tuple[str, ...] = ("blocker", "normal", "question", "none")
FEEDBACK: tuple[str, ...] = tuple(k.value for k in FeedbackKind)


class LabelledSupport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    label: Label
    feedback: FeedbackKind = FeedbackKind.NONE


class Score(BaseModel):
    label: str
    support: int
    predicted: int
    true_positives: int
    precision: float
    recall: float
    f1: float


class SupportEvalReport(BaseModel):
    total: int
    accuracy: float  # exact severity label (none included)
    per_label: dict[str, Score]
    opens: Score  # "a support request" (any severity) vs none
    macro_f1: float  # over blocker, normal, question present in labels or predictions
    feedback: dict[str, Score]  # feature_request, bug
    feedback_accuracy: float
    mistakes: list[tuple[str, str, str]]  # (expected, predicted, text)
    mean_ms: float


def load_support_labelled(path: str | Path) -> list[LabelledSupport]:
    """Read a JSONL file of {"text", "label", "feedback"}; ValueError naming a bad line."""
    items: list[LabelledSupport] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(LabelledSupport.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return items


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _score(label: str, pairs: list[tuple[str, str]]) -> Score:
    tp = sum(1 for e, p in pairs if e == label and p == label)
    support = sum(1 for e, _ in pairs if e == label)
    predicted = sum(1 for _, p in pairs if p == label)
    precision, recall = _ratio(tp, predicted), _ratio(tp, support)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(
        label=label,
        support=support,
        predicted=predicted,
        true_positives=tp,
        precision=precision,
        recall=recall,
        f1=f1,
    )


def evaluate_support(
    detector: SupportDetector, items: Iterable[LabelledSupport]
) -> SupportEvalReport:
    pairs: list[tuple[str, str]] = []
    feedback: list[tuple[str, str]] = []
    mistakes: list[tuple[str, str, str]] = []
    elapsed = 0.0
    for item in items:
        start = time.perf_counter()
        reading = detector.detect(item.text)
        elapsed += time.perf_counter() - start
        pairs.append((item.label, reading.label))
        feedback.append((item.feedback.value, reading.feedback.value))
        if reading.label != item.label or reading.feedback is not item.feedback:
            mistakes.append(
                (
                    f"{item.label}/{item.feedback.value}",
                    f"{reading.label}/{reading.feedback.value}",
                    item.text,
                )
            )
    total = len(pairs)
    per_label = {label: _score(label, pairs) for label in LABELS}
    binary = [("yes" if e != "none" else "no", "yes" if p != "none" else "no") for e, p in pairs]
    present = [per_label[k] for k in LABELS[:3] if per_label[k].support or per_label[k].predicted]
    return SupportEvalReport(
        total=total,
        accuracy=_ratio(sum(1 for e, p in pairs if e == p), total),
        per_label=per_label,
        opens=_score("yes", binary).model_copy(update={"label": "opens a request"}),
        macro_f1=sum(s.f1 for s in present) / len(present) if present else 0.0,
        feedback={k: _score(k, feedback) for k in FEEDBACK if k != "none"},
        feedback_accuracy=_ratio(sum(1 for e, p in feedback if e == p), total),
        mistakes=mistakes,
        mean_ms=1000 * elapsed / total if total else 0.0,
    )
