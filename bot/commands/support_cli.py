"""`csobot eval-support [--llm] [--data PATH] [--heldout PATH]`: the support kind's quality
figure on the development set and the held-out set (docs/process.md, "Support")."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import UsageError
from bot.settings import Settings

if TYPE_CHECKING:
    from domain.support import SupportDetector
    from domain.support_evaluation import SupportEvalReport

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
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_eval_support)


def cmd_eval_support(args: argparse.Namespace, settings: Settings) -> int:
    dev = Path(args.data) if args.data else DEV_DATA
    heldout = Path(args.heldout) if args.heldout else HELDOUT_DATA
    if args.json:
        data = support_reports(settings, dev=dev, heldout=heldout, llm=bool(args.llm))
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(
        support_report(
            settings, dev=dev, heldout=heldout, llm=bool(args.llm), mistakes=max(args.mistakes, 0)
        )
    )
    return 0


def _detector(settings: Settings, llm: bool) -> tuple[SupportDetector, str]:
    from domain.support import RuleSupportDetector

    if not llm:
        return RuleSupportDetector(), "rules"
    from bot.commands.eval_model import evaluation_model
    from llm.support_classifier import LLMSupportDetector

    client = evaluation_model(settings)
    return LLMSupportDetector(client, RuleSupportDetector()), f"LLM ({settings.model})"


def _evaluated(
    detector: SupportDetector, path: Path
) -> tuple[int, SupportEvalReport | None] | None:
    """(messages, report) for a labelled file; None when the file is missing."""
    from domain.support_evaluation import evaluate_support, load_support_labelled

    if not path.is_file():
        return None
    try:
        items = load_support_labelled(path)
    except ValueError as err:
        raise UsageError(str(err).splitlines()[0]) from None
    return len(items), (evaluate_support(detector, items) if items else None)


def support_reports(
    settings: Settings, *, dev: Path = DEV_DATA, heldout: Path = HELDOUT_DATA, llm: bool = False
) -> dict[str, Any]:
    """The support kind's figures on both sets, for `--json` (null for a missing file)."""
    detector, name = _detector(settings, llm)
    out: dict[str, Any] = {"detector": name}
    for label, path in (("development", dev), ("heldout", heldout)):
        result = _evaluated(detector, path)
        if result is None or result[1] is None:
            out[label] = None
        else:
            out[label] = {"path": str(path), **result[1].model_dump(mode="json")}
    return out


def support_report(
    settings: Settings,
    *,
    dev: Path = DEV_DATA,
    heldout: Path = HELDOUT_DATA,
    llm: bool = False,
    mistakes: int = 0,
) -> str:
    """The support kind's figures on both sets; a missing held-out file is said plainly."""
    from prompts.cli_views import support_report as support_table
    from prompts.tables import wrap

    detector, name = _detector(settings, llm)
    out = [f"Support kind — detector: {name}"]
    for label, path in (("development", dev), ("held-out", heldout)):
        result = _evaluated(detector, path)
        if result is None:
            missing = "held-out file missing" if label == "held-out" else "file missing"
            out.append("\n" + wrap(f"{label} set: {missing} ({path})"))
            continue
        count, report = result
        if report is None:
            out.append("\n" + wrap(f"{label} set: {path} holds no labelled messages"))
            continue
        out.append("\n" + wrap(f"{label} set: {path} ({count} messages)"))
        out.append(support_table(report, mistakes=mistakes))
    return "\n".join(out)
