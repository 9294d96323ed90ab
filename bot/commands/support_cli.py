"""`csobot eval-support [--llm] [--data PATH] [--heldout PATH]`: the support kind's quality
figure on the development set and the held-out set (docs/process.md, "Support")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import UsageError
from bot.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
DEV_DATA = DATA / "support_dev.jsonl"
HELDOUT_DATA = DATA / "heldout" / "support.jsonl"


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "eval-support",
        help="precision, recall and F1 of the support kind (severity and product feedback)",
    )
    p.add_argument("--llm", action="store_true", help="evaluate the model detector (configured)")
    p.add_argument("--data", help=f"development JSONL (default: {DEV_DATA.name})")
    p.add_argument("--heldout", help="held-out JSONL (default: tests/data/heldout/support.jsonl)")
    p.add_argument("--mistakes", type=int, default=0, metavar="N", help="list the first N mistakes")
    p.set_defaults(handler=cmd_eval_support)


def cmd_eval_support(args: argparse.Namespace, settings: Settings) -> int:
    print(
        support_report(
            settings,
            dev=Path(args.data) if args.data else DEV_DATA,
            heldout=Path(args.heldout) if args.heldout else HELDOUT_DATA,
            llm=bool(args.llm),
            mistakes=max(args.mistakes, 0),
        )
    )
    return 0


def support_report(
    settings: Settings,
    *,
    dev: Path = DEV_DATA,
    heldout: Path = HELDOUT_DATA,
    llm: bool = False,
    mistakes: int = 0,
) -> str:
    """The support kind's figures on both sets; a missing held-out file is said plainly."""
    from domain.support import RuleSupportDetector, SupportDetector
    from domain.support_evaluation import (
        evaluate_support,
        load_support_labelled,
    )
    from prompts.cli_views import support_report as support_table

    detector: SupportDetector = RuleSupportDetector()
    name = "rules"
    if llm:
        if not settings.llm_enabled:
            raise UsageError("--llm needs OPENAI_API_KEY or OPENAI_BASE_URL")
        from llm.client import LLMClient
        from llm.support_classifier import LLMSupportDetector

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        client = LLMClient(
            api_key=key,
            base_url=settings.openai_base_url,
            model=settings.model,
            timeout=settings.llm_timeout,
            max_retries=1,
        )
        detector, name = (
            LLMSupportDetector(client, RuleSupportDetector()),
            f"LLM ({settings.model})",
        )
    out = [f"Support kind — detector: {name}"]
    for label, path in (("development", dev), ("held-out", heldout)):
        if not path.is_file():
            out.append(
                f"\n{label} set: held-out file missing ({path})"
                if label == "held-out"
                else f"\n{label} set: file missing ({path})"
            )
            continue
        try:
            items = load_support_labelled(path)
        except ValueError as err:
            raise UsageError(str(err).splitlines()[0]) from None
        if not items:
            out.append(f"\n{label} set: {path} holds no labelled messages")
            continue
        report = evaluate_support(detector, items)
        out.append(f"\n{label} set: {path} ({len(items)} messages)")
        out.append(support_table(report, mistakes=mistakes))
    return "\n".join(out)
