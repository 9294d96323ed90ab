"""`csobot eval-flags [--llm] [--data PATH] [--heldout PATH]`: the classifier's quality figures,
on the development set (the messages the rules were written against) and, separately, on the
held-out set (messages written independently of the rules, never used for tuning). Only the
held-out figures say how the classifier does on messages it has not seen."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.cli import UsageError
from bot.settings import Settings

DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"
DEFAULT_DATA = DATA_DIR / "flags_dev.jsonl"  # the development set
DEFAULT_HELDOUT = DATA_DIR / "heldout" / "flags.jsonl"  # written independently; never tuned on


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "eval-flags", help="precision, recall and F1 per flag kind over a labelled set"
    )
    p.add_argument("--llm", action="store_true", help="evaluate the LLM classifier (configured)")
    p.add_argument(
        "--data", help=f"development set, JSONL of {{text, label}} (default: {DEFAULT_DATA.name})"
    )
    p.add_argument(
        "--heldout",
        help="held-out set, JSONL of {text, label} (default: tests/data/heldout/flags.jsonl)",
    )
    p.add_argument("--mistakes", type=int, default=0, metavar="N", help="list the first N mistakes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_eval_flags)


def cmd_eval_flags(args: argparse.Namespace, settings: Settings) -> int:
    from domain.classify import MessageClassifier, RuleClassifier
    from domain.evaluation import evaluate
    from prompts.cli_views import flag_report
    from prompts.tables import wrap

    path = Path(args.data) if args.data else DEFAULT_DATA
    if not path.is_file():
        raise UsageError(f"no labelled data at {path}: pass --data PATH (JSONL of text, label)")
    items = _load(path)
    heldout_path = Path(args.heldout) if args.heldout else DEFAULT_HELDOUT
    heldout = _load(heldout_path) if heldout_path.is_file() else None
    classifier: MessageClassifier = RuleClassifier()
    name = "rules"
    if args.llm:
        from bot.commands.eval_model import evaluation_model
        from llm.classifier import LLMClassifier

        llm = evaluation_model(settings)
        classifier, name = LLMClassifier(llm, RuleClassifier()), f"LLM ({settings.model})"
    if args.json:
        from bot.commands.support_cli import support_reports

        dev_report = evaluate(classifier, items)
        held_report = evaluate(classifier, heldout) if heldout is not None else None
        out = {
            "classifier": name,
            "development": {"path": str(path), **dev_report.model_dump(mode="json")},
            "heldout": (
                {"path": str(heldout_path), **held_report.model_dump(mode="json")}
                if held_report is not None
                else None
            ),
            "support": support_reports(settings, llm=bool(args.llm)),
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"Classifier: {name}\n")
    print(wrap(f"== Development set: {path} ({len(items)} messages) =="))
    print("(the rules were written against these messages: not a measure of quality)\n")
    print(flag_report(evaluate(classifier, items), mistakes=max(args.mistakes, 0)))
    print("\n" + wrap(f"== Held-out set: {heldout_path} =="))
    if heldout is None:
        print(
            wrap(
                "held-out file missing: no held-out figures. Add messages written independently"
                f" of the rules (JSONL of text, label) at {heldout_path}, or pass --heldout PATH."
            )
        )
    else:
        print(f"({len(heldout)} messages written independently of the rules, never tuned on)\n")
        print(flag_report(evaluate(classifier, heldout), mistakes=max(args.mistakes, 0)))
    fallbacks = getattr(classifier, "fallbacks", 0)
    if fallbacks:
        last = getattr(classifier, "last_error", "")
        print(f"\n{fallbacks} messages fell back to the rules (last error: {last})")
    from bot.commands.support_cli import support_report  # the support kind, same run

    print("\n" + support_report(settings, llm=bool(args.llm)))
    return 0


def _load(path: Path) -> list[Any]:
    from domain.evaluation import load_labelled

    try:
        items = load_labelled(path)
    except ValueError as err:
        raise UsageError(str(err).splitlines()[0]) from None
    if not items:
        raise UsageError(f"{path} holds no labelled messages")
    return list(items)
