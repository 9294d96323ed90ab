"""The cost curves' arithmetic: the fitted log-log slope and the statement verdict."""

from __future__ import annotations

import math

from bench.curves import SIZES, Point, depth_for, growth, predicted, slope


def _points(seconds: list[float | None], statements: list[int]) -> list[Point]:
    return [
        Point("SQLite", "kpi", clients, s, n)
        for clients, s, n in zip(SIZES, seconds, statements, strict=True)
    ]


def test_linear_time_fits_a_slope_of_one() -> None:
    points = _points([0.01, 0.1, 1.0, 10.0], [11] * 4)
    assert math.isclose(slope(points) or 0, 1.0, rel_tol=1e-9)
    assert growth(points) == ("1.00 (≤ linear)", "constant (11)")


def test_quadratic_time_and_growing_statements_are_flagged() -> None:
    points = _points([0.001, 0.1, 10.0, None], [11, 12, 21, 0])
    time_growth, statements = growth(points)
    assert time_growth == "2.00 (**above linear**)"
    assert statements == "**GROWS** (100: 11, 1,000: 12, 10,000: 21)"


def test_a_bounded_size_is_left_out_of_the_fit_and_predicted_from_the_last_two() -> None:
    points = _points([0.02, 0.2, 2.0, None], [5, 5, 5, 0])
    assert math.isclose(slope(points) or 0, 1.0, rel_tol=1e-9)
    guess = predicted(points, "kpi", 100_000)
    assert guess is not None and math.isclose(guess, 20.0, rel_tol=1e-9)


def test_history_always_reaches_the_boards_trend_baseline() -> None:
    # the board looks 30 days back (+ 7 of slack) for a baseline: every size must have one
    for clients in SIZES:
        depth = depth_for(clients)
        days_back = range(0, depth.health_days, depth.health_every)
        assert any(30 <= back <= 37 for back in days_back), (clients, depth)
