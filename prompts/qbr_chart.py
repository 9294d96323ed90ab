"""The health-and-consistency chart of the QBR, EBR and audit HTML
(docs/process.md, "QBR/EBR and the Value Realization Audit"): an inline SVG, one point per
week, a gap where a week has no data (never drawn as 0)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 36


def _path(values: Sequence[float | None], xs: Sequence[float]) -> list[str]:
    """One polyline per run of weeks with data."""
    runs: list[list[str]] = [[]]
    for x, v in zip(xs, values, strict=True):
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        y = HEIGHT - PAD - (max(0.0, min(100.0, v)) / 100.0) * (HEIGHT - 2 * PAD)
        runs[-1].append(f"{x:.1f},{y:.1f}")
    return [" ".join(r) for r in runs if r]


def chart_svg(
    labels: Sequence[str], health: Sequence[float | None], consistency: Sequence[float | None]
) -> str:
    """`health` 0..100 and `consistency` 0..1 per week (None: no data that week)."""
    n = len(labels)
    if n == 0:
        return ""
    step = (WIDTH - 2 * PAD) / max(1, n - 1)
    xs = [PAD + i * step for i in range(n)]
    cons = [None if c is None else c * 100 for c in consistency]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-label="Health score and communication consistency per week">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
        f'<text x="4" y="{PAD + 4}" font-size="10">100</text>',
        f'<text x="14" y="{HEIGHT - PAD + 4}" font-size="10">0</text>',
    ]
    for points in _path(health, xs):
        parts.append(
            f'<polyline class="health" fill="none" stroke="#2a7" stroke-width="2" '
            f'points="{points}"/>'
        )
    for points in _path(cons, xs):
        parts.append(
            f'<polyline class="consistency" fill="none" stroke="#36c" stroke-width="2" '
            f'stroke-dasharray="5,3" points="{points}"/>'
        )
    every = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            parts.append(
                f'<text x="{xs[i]:.1f}" y="{HEIGHT - PAD + 16}" font-size="10" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(
        f'<text x="{WIDTH - PAD}" y="14" font-size="11" text-anchor="end">'
        '<tspan fill="#2a7">— health score</tspan>  '
        '<tspan fill="#36c">- - consistency %</tspan></text>'
    )
    parts.append("</svg>")
    return "".join(parts)
