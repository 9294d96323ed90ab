"""`csobot eval-support` and the support section of `csobot eval-flags`, as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "support_heldout_sample.jsonl"


def test_eval_support_reports_both_sets_and_says_when_held_out_is_missing(tmp_path: Path) -> None:
    out = run("eval-support", "--heldout", str(tmp_path / "absent.jsonl"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "development set:" in out.stdout and "opens a request" in out.stdout
    assert "held-out set: held-out file missing" in out.stdout
    given = run("eval-support", "--heldout", str(FIXTURE), "--mistakes", "3", cwd=tmp_path)
    squeezed = "".join(given.stdout.split())  # a long path wraps within 80 columns
    assert given.returncode == 0 and "".join(f"held-out set: {FIXTURE} (4 messages)".split()) in (
        squeezed
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "x", "label": "urgent"}) + "\n")
    broken = run("eval-support", "--data", str(bad), cwd=tmp_path)
    assert broken.returncode == 2 and broken.stderr.startswith(f"csobot: {bad}:1:")
    assert "Traceback" not in broken.stderr


def test_eval_flags_also_reports_the_support_kind(tmp_path: Path) -> None:
    out = run("eval-flags", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "confusion (rows: expected, columns: predicted)" in out.stdout
    assert "Support kind — detector: rules" in out.stdout and "severity accuracy" in out.stdout
