"""`csobot digest`: the leadership digest for an ISO week, printed, written or posted."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands import kpi_cli
from bot.settings import ConfigError, Settings

FORMATS = ("slack", "md", "html")


def add_commands(sub: Any) -> None:
    kpi_cli.add_commands(sub)  # the digest's numbers are the KPI's: `csobot kpi` comes with it
    p = sub.add_parser(
        "digest",
        help="the weekly leadership digest (prints it; posts it unless --dry-run)",
        description="Render the leadership digest for an ISO week. Without --dry-run it is also "
        "posted to the leadership channel, once per week (a week already posted is not posted "
        "again).",
    )
    p.add_argument("--week", help="ISO week like 2026-W47 (default: the week just ended)")
    p.add_argument("--dry-run", action="store_true", help="render only; post nothing")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="slack",
        help="slack (the Block Kit messages as JSON), md or html (with the chart embedded)",
    )
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of printing")
    p.set_defaults(handler=_cmd_digest)


def _cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_errors import UsageError
    from bot.runtime import build_deps
    from domain.calendar import IsoWeek
    from domain.digest import week_just_ended
    from prompts.digest_views import html, markdown, slack_messages, slack_payload
    from storage.org_settings_store import org_settings
    from storage.portfolio_store import require_organization
    from usecases.clock import PinnedClock, SystemClock
    from usecases.digest_actions import load_digest

    if not args.dry_run:
        settings.require("SLACK_BOT_TOKEN")
    clock = PinnedClock(settings.now) if settings.now else SystemClock()
    deps = build_deps(settings, clock=clock)
    now = clock.now()
    with deps.db.transaction() as tx:
        org = require_organization(tx)
        stored = org_settings(tx)
        problem = stored.problem("digest")
        if problem:
            raise ConfigError(problem)
        try:
            week = (
                IsoWeek.parse(args.week)
                if args.week
                else week_just_ended(now, ZoneInfo(org.timezone or "UTC"))
            )
        except ValueError as err:
            raise UsageError(f"--week: {err}") from None
        digest = load_digest(tx, week, now, stored.digest, deps.metric_sources)
    if args.format == "md":
        out = markdown(digest)
    elif args.format == "html":
        from prompts.digest_chart import render_chart

        out = html(digest, render_chart(digest.chart, title=f"{digest.organization} — {week}"))
    else:
        out = json.dumps(slack_payload(slack_messages(digest)), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        path = Path(args.output)
        try:
            path.write_text(out, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from None
        print(f"Wrote the {week} digest ({args.format}) to {path}", file=sys.stderr)
    else:
        sys.stdout.write(out)
    if args.dry_run:
        return 0
    from bot.cli_errors import check_slack
    from bot.runtime import slack_of
    from scheduling.digest_jobs import post_digest
    from usecases.digest_actions import DigestRefused

    client = slack_of(deps, settings)
    check_slack(client, settings.slack_api_url, consequence=f"the {week} digest was not posted")
    try:
        result = post_digest(deps, client, digest, now)
    except DigestRefused as err:
        print(f"csobot: the {week} digest was not posted: {err}", file=sys.stderr)
        return 1
    if not result.new:
        print(
            f"The {week} digest was already posted to {result.channel} ({result.status}); "
            "nothing was sent again.",
            file=sys.stderr,
        )
        return 0
    if not result.sent:
        print(
            f"csobot: the {week} digest is queued for {result.channel} but Slack did not take it "
            f"yet ({result.status}); the scheduler retries it.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Posted the {week} digest to {result.channel} (summary, then {result.parts} thread "
        f"part{'s' * (result.parts != 1)}: the chart and per-CSO detail).",
        file=sys.stderr,
    )
    return 0
