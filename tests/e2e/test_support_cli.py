"""`csobot eval-support` and the support section of `csobot eval-flags`, as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run
from tests.llm_server import FakeLLMServer

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


def test_both_evaluations_run_the_configured_model_with_llm(tmp_path: Path) -> None:
    """`--llm` builds the configured model (one place for both commands) and asks it about
    every message of the set; the report names it."""
    data = tmp_path / "mini.jsonl"
    data.write_text(json.dumps({"text": "Could you just add one more chart?", "label": "none"}))
    with FakeLLMServer() as llm:
        env = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test", "CSOBOT_MODEL": "m1"}
        flags = run("eval-flags", "--llm", "--data", str(data), "--heldout",
                    str(tmp_path / "absent.jsonl"), env=env, cwd=tmp_path)  # fmt: skip
        asked_by_flags = len(llm.requests)
        support = run("eval-support", "--llm", "--data", str(data), "--heldout",
                      str(tmp_path / "absent.jsonl"), env=env, cwd=tmp_path)  # fmt: skip
        asked_by_support = len(llm.requests) - asked_by_flags
    assert flags.returncode == 0, flags.stderr
    assert support.returncode == 0, support.stderr
    assert "LLM (m1)" in flags.stdout and "LLM (m1)" in support.stdout
    assert asked_by_flags >= 1 and asked_by_support >= 1
