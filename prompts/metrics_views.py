"""Leadership metrics as a leader reads them: grouped by heading, each figure with its target,
"no data" where nothing was recorded (never 0 % or 100 %). One rendering for the terminal
(`csobot metrics`), Slack (`/metrics`) and the digest's monthly section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.metric import Metric, Period
from prompts import blocks as bk
from prompts.render import escape_mrkdwn
from prompts.tables import wrap

NO_DATA = "no data"


def value_text(metric: Metric) -> str:
    v = metric.value
    if v is None:
        return NO_DATA
    if metric.unit == "ratio":
        return f"{v * 100:.1f} %"
    if metric.unit == "currency":
        return f"{v:,.0f}"
    if metric.unit == "days":
        return f"{v:g} day{'s' * (v != 1)}"
    if metric.unit == "hours":
        return f"{v:g} h"
    return f"{v:g}"


def verdict(metric: Metric) -> str:
    if metric.on_target is None:
        return ""
    return "on target" if metric.on_target else "off target"


def grouped(metrics: Sequence[Metric]) -> list[tuple[str, list[Metric]]]:
    """The metrics under their headings, headings in first-seen order."""
    out: dict[str, list[Metric]] = {}
    for metric in metrics:
        out.setdefault(metric.group, []).append(metric)
    return list(out.items())


def line(metric: Metric, *, esc: bool = False) -> str:
    label = escape_mrkdwn(metric.label) if esc else metric.label
    target = f" (target {metric.target}" + (f": {verdict(metric)})" if verdict(metric) else ")")
    return f"{label}: {value_text(metric)}" + (target if metric.target else "")


def metrics_table(period: Period, metrics: Sequence[Metric]) -> str:
    """`csobot metrics`: every figure under its heading, with its formula below it."""
    lines = [f"Leadership metrics {period.label} ({period.start} – {period.end})"]
    if not metrics:
        lines.append("  No metric sources are configured.")
    for group, items in grouped(metrics):
        lines.append(f"\n{group}")
        for metric in items:
            lines.append(wrap(f"  {line(metric)}", hang=4))
            if metric.formula:
                lines.append(wrap(f"      = {metric.formula}", hang=2))
    return "\n".join(lines)


def metrics_json(period: Period, metrics: Sequence[Metric]) -> dict[str, Any]:
    return {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "metrics": {
            metric.key: {
                "label": metric.label,
                "group": metric.group,
                "value": metric.value,
                "unit": metric.unit,
                "shown": value_text(metric),
                "target": metric.target,
                "on_target": metric.on_target,
                "formula": metric.formula,
                "evidence": list(metric.evidence),
            }
            for metric in metrics
        },
    }


def group_text(group: str, items: Sequence[Metric]) -> str:
    body = "\n".join(f"• {line(metric, esc=True)}" for metric in items)
    return f"*{escape_mrkdwn(group)}*\n{body}"


def metrics_blocks(period: Period, metrics: Sequence[Metric]) -> list[bk.Block]:
    """`/metrics`: a header, then one section per heading (each within Slack's limits)."""
    blocks: list[bk.Block] = [
        bk.header(f"Leadership metrics — {period.label}"),
        bk.context(f"{period.start.isoformat()} – {period.end.isoformat()}"),
    ]
    if not metrics:
        blocks.append(bk.section("No metric sources are configured."))
    for group, items in grouped(metrics):
        blocks.extend(_sections(group, items))
    blocks.append(bk.context("Formulas: `csobot metrics --help`; the records: `--json`."))
    return bk.fit(blocks)


def _sections(group: str, items: Sequence[Metric]) -> list[bk.Block]:
    """A heading's figures as one section, or several when they don't fit one."""
    text = group_text(group, items)
    if len(text) <= bk.MAX_SECTION_TEXT or len(items) == 1:
        return [bk.section(text)]
    half = len(items) // 2
    return _sections(group, items[:half]) + _sections(group, items[half:])


def metrics_fallback(period: Period, metrics: Sequence[Metric]) -> str:
    return bk.fallback(
        f"Leadership metrics {period.label}: "
        + "; ".join(f"{m.label} {value_text(m)}" for m in metrics)
    )
