"""The quality figure for message classifiers (`csobot eval-flags`): precision, recall and F1 per
kind, micro and macro averages over the flag kinds, and a confusion table."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.classify import MessageClassifier
from domain.flags import FLAG_KINDS, FlagKind


class LabelledMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    label: FlagKind


class KindScore(BaseModel):
    kind: FlagKind
    support: int  # messages labelled with this kind
    predicted: int  # messages the classifier gave this kind
    true_positives: int
    precision: float
    recall: float
    f1: float


class Averages(BaseModel):
    precision: float
    recall: float
    f1: float


class Mistake(BaseModel):
    text: str
    expected: FlagKind
    predicted: FlagKind
    reason: str


class EvalReport(BaseModel):
    total: int
    accuracy: float
    per_kind: dict[FlagKind, KindScore]
    micro: Averages  # over the flag kinds: "none" is the negative class
    macro: Averages  # unweighted mean over the flag kinds present in labels or predictions
    confusion: dict[FlagKind, dict[FlagKind, int]]  # expected -> predicted -> count
    mistakes: list[Mistake]
    mean_ms: float  # mean time to classify one message


def load_labelled(path: str | Path) -> list[LabelledMessage]:
    """Read a JSONL file of {"text", "label"}; ValueError naming the line on a bad one."""
    items: list[LabelledMessage] = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(LabelledMessage.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return items


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate(classifier: MessageClassifier, items: Iterable[LabelledMessage]) -> EvalReport:
    kinds = list(FlagKind)
    confusion = {e: dict.fromkeys(kinds, 0) for e in kinds}
    mistakes: list[Mistake] = []
    total = 0
    elapsed = 0.0
    for item in items:
        start = time.perf_counter()
        result = classifier.classify(item.text)
        elapsed += time.perf_counter() - start
        total += 1
        confusion[item.label][result.kind] += 1
        if result.kind is not item.label:
            mistakes.append(
                Mistake(
                    text=item.text,
                    expected=item.label,
                    predicted=result.kind,
                    reason=result.reason,
                )
            )

    per_kind: dict[FlagKind, KindScore] = {}
    for kind in kinds:
        tp = confusion[kind][kind]
        support = sum(confusion[kind].values())
        predicted = sum(confusion[e][kind] for e in kinds)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        per_kind[kind] = KindScore(
            kind=kind,
            support=support,
            predicted=predicted,
            true_positives=tp,
            precision=precision,
            recall=recall,
            f1=_f1(precision, recall),
        )

    flags = [per_kind[k] for k in FLAG_KINDS]
    tp = sum(s.true_positives for s in flags)
    micro_p = _ratio(tp, sum(s.predicted for s in flags))
    micro_r = _ratio(tp, sum(s.support for s in flags))
    present = [s for s in flags if s.support or s.predicted]
    macro_p = _ratio_f(sum(s.precision for s in present), len(present))
    macro_r = _ratio_f(sum(s.recall for s in present), len(present))
    return EvalReport(
        total=total,
        accuracy=_ratio(sum(confusion[k][k] for k in kinds), total),
        per_kind=per_kind,
        micro=Averages(precision=micro_p, recall=micro_r, f1=_f1(micro_p, micro_r)),
        macro=Averages(
            precision=macro_p,
            recall=macro_r,
            f1=_ratio_f(sum(s.f1 for s in present), len(present)),
        ),
        confusion=confusion,
        mistakes=mistakes,
        mean_ms=1000 * elapsed / total if total else 0.0,
    )


def _ratio_f(num: float, den: int) -> float:
    return num / den if den else 0.0
