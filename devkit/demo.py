"""`csobot demo`: the real bot, offline — emulator, server, a simulated week, the KPI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands.db_cli import upgrade as db_upgrade
from devkit.board_emulators import GitHubEmulator, LinearEmulator, seed_demo_board
from devkit.emulator import SlackEmulator
from devkit.signing import event_body, interaction_body, post_signed, slash_command_body
from domain.calendar import IsoWeek
from prompts.tables import wrap

SECRET = "demo-signing-secret"
NY = ZoneInfo("America/New_York")

# (client channel, author, weekday 0=Mon, hour local NY, text); gaps are deliberate misses.
WEEK: list[tuple[str, str, int, int, str]] = [
    ("C0ACME", "U0CSO1", 0, 9, "Morning! Today we're finishing the attribution model review."),
    ("C0ACME", "U0EXT1", 0, 11, "Great. Could you also add just one more chart for EMEA?"),
    ("C0ACME", "U0SL1", 1, 10, "Pipeline backfill is done; numbers now go back to 2023."),
    ("C0ACME", "U0CSO1", 2, 16, "EOD: dashboards refreshed, QA checklist attached."),
    ("C0ACME", "U0CSO1", 3, 10, "ok"),  # kept, shown, but not the day's touch
    ("C0ACME", "U0CSO1", 4, 9, "Happy Friday — deck for today's review is in the thread."),
    ("C0GLOBEX", "U0CSO1", 0, 10, "Hi team, kicking off the campaign tagging QA today."),
    ("C0GLOBEX", "U0EXT2", 1, 14, "Is the tagging report ready? Our launch moved to Dec 3."),
    ("C0GLOBEX", "U0CSO1", 1, 15, "Yes — sharing it by 5pm with the fixes listed."),
    ("C0GLOBEX", "U0CSO1", 2, 9, "Report sent; two campaigns need new UTMs, details inside."),
    ("C0GLOBEX", "U0CSO1", 3, 9, "Morning: we're validating the new UTMs in staging."),
    ("C0INITECH", "U0CSO2", 0, 8, "Good morning! dbt run is green, docs updated."),
    ("C0INITECH", "U0CSO2", 1, 8, "Sharing yesterday's model changes and what they unlock."),
    ("C0INITECH", "U0CSO2", 2, 8, "Quick check-in: anything blocking you on the Tableau side?"),
    ("C0INITECH", "U0EXT3", 2, 9, "All good, thanks! We'd love to hear about your MCP work."),
    ("C0INITECH", "U0CSO2", 3, 8, "Update: reverse ETL sync to HubSpot is live."),
]

COMMANDS: list[tuple[str, str, str]] = [
    ("U0CSO1", "/touchpoint", 'globex email "Sent the weekly attribution summary"'),
    (
        "U0CSO1",
        "/win",
        'acme "Demoed the new pipeline: reports 2 days faster" https://example.com/deck',
    ),
    ("U0CSO1", "/win", 'globex "Closed 15 tickets and had 3 meetings"'),
    ("U0CSO2", "/touchpoint", 'initech skip "client offsite"'),
    (
        "U0CSO1",
        "/pulse",
        "acme anxious hook: asking about MCPs | update: sent new analytics report",
    ),
    ("U0CSO1", "/pulse", "globex happy update: tagging report delivered"),
    ("U0CSO1", "/pulse", "acmee thrilled"),
    ("U0CSO1", "/pulse", "acme ecstatic-ish"),
    ("U0CSO1", "/pulse", ""),
    ("U0CSO1", "/pulse", "share"),
    ("U0CSO1", "/brief", "acme triangle"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("csobot serve exited early")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("csobot serve did not become healthy")


def demo_week(today: datetime) -> IsoWeek:
    return IsoWeek.of(today.astimezone(NY).date()).shift(-1)


def run_demo(keep: bool = False) -> int:
    week = demo_week(datetime.now(UTC))
    friday = week.monday + timedelta(days=4)
    pinned = datetime.combine(friday, dtime(16, 30), tzinfo=NY)
    tmp = Path(tempfile.mkdtemp(prefix="csobot-demo-"))
    db_url = f"sqlite:///{tmp / 'demo.db'}"
    port = _free_port()
    emulator = SlackEmulator().start()
    linear = LinearEmulator(token="lin_api_demo").start()
    github = GitHubEmulator(token="ghp_demo").start()
    seed_demo_board(linear, github, week.monday)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-demo-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "CSOBOT_NOW": pinned.isoformat(),
        "CSOBOT_LOG_LEVEL": "WARNING",
        "CSOBOT_SCHEDULER": "false",
        "LINEAR_API_KEY": "lin_api_demo",
        "LINEAR_API_URL": linear.url,
        "GITHUB_TOKEN": "ghp_demo",
        "GITHUB_API_URL": github.url,
    }
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    say(f"csobot demo — a simulated week, {week} ({week.monday} to {friday}), fully offline.")
    say(f"  Slack Web API emulator: {emulator.base_url}")
    say(f"  The bot's database: {db_url}")
    sample = tmp / "portfolio.yaml"
    sample.write_text(
        files("devkit")
        .joinpath("sample_portfolio.yaml")
        .read_text()
        .replace(
            "    contacts: [U0EXT1]\n",
            "    contacts: [U0EXT1]\n"
            "    linear: {team: LIN, project: Attribution}\n"
            "    github: [acme/analytics]\n",
            1,
        )
    )
    proc: subprocess.Popen[bytes] | None = None
    try:
        # The release step (`csobot db upgrade`), in this process: serve never migrates.
        print(wrap(f"  csobot db upgrade: {db_upgrade(db_url)}", hang=4))
        _run_cli(["portfolio", "import", str(sample)], env)
        names = _names(sample)
        say("  Linear and GitHub emulators: the board of Acme Corp, fetched into the cache:")
        _run_cli(["board", "fetch"], env)
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env)
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, proc)
        say(f"  csobot serve is up on {base} (pid {proc.pid})\n")
        url = base + "/slack/events"
        for channel, user, weekday, hour, text in WEEK:
            at = datetime.combine(week.monday + timedelta(days=weekday), dtime(hour), tzinfo=NY)
            ts = f"{at.timestamp():.6f}"
            event = {
                "type": "message",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
                "channel_type": "channel",
            }
            status, _ = post_signed(url, SECRET, event_body(event))
            who = names.get(user, f"{user} (client)")
            say(f"  {at:%a %H:%M} in {channel}, {who}: {text} -> HTTP {status}", hang=6)
        _wait_recorded(db_url, expected=len(WEEK))
        for i, (user, command, text) in enumerate(COMMANDS):
            body = slash_command_body(
                command,
                text,
                user_id=user,
                channel_id="C0STANDUP",
                response_url=emulator.response_url(f"r{i}"),
            )
            status, resp = post_signed(url, SECRET, body)
            say(
                f"  {names.get(user, user)}: {command} {text}".rstrip() + f" -> HTTP {status}",
                hang=6,
            )
            _show_ack(resp)
        emulator.wait_for("response_url", count=7, timeout=15)
        emulator.wait_for("chat.postMessage", count=1, timeout=15)
        time.sleep(0.5)
        say("\nWhat the bot said in Slack (as the emulator recorded it):")
        for call in emulator.calls():
            if call.method in ("response_url", "chat.postMessage"):
                text = str(call.params.get("text", ""))
                if text.startswith("Brief:"):  # the brief's body is in its blocks
                    blocks = call.params.get("blocks") or []
                    if isinstance(blocks, str):
                        blocks = json.loads(blocks)
                    text = "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks)
                where = call.params.get("channel", "ephemeral reply")
                say(f"  [{call.method} → {where}]")
                say(_indented(text, 6), hang=2)
        say("")
        _run_cli(["kpi", "--week", str(week)], env)
        _onboarding(url, emulator, week)
        _show_what_counted(week, env, names)
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        emulator.stop()
        linear.stop()
        github.stop()
        if keep:
            say(f"\nKept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _onboarding(url: str, emulator: SlackEmulator, week: IsoWeek) -> None:
    """One client onboarding: the /client new form submitted, then its checklist."""
    signed = week.monday.isoformat()
    say(f"\nOne client onboarding: /client new, the form submitted (SMB, signed {signed})")
    fields = {
        "name": {"type": "plain_text_input", "value": "Hooli"},
        "slug": {"type": "plain_text_input", "value": "hooli"},
        "segment": {"type": "static_select", "selected_option": {"value": "smb"}},
        "signed_on": {"type": "datepicker", "selected_date": signed},
        "cso": {"type": "users_select", "selected_user": "U0CSO1"},
        "service_lead": {"type": "users_select", "selected_user": "U0SL1"},
        "client_channel": {"type": "conversations_select", "selected_conversation": "C0HOOLI"},
        "success_criteria": {"type": "plain_text_input", "value": "Weekly report in one day"},
        "stakeholders": {"type": "plain_text_input", "value": "Gavin (CEO, sponsor)"},
    }
    view = {
        "id": "VDEMO1",
        "type": "modal",
        "callback_id": "client_new_modal",
        "private_metadata": "{}",
        "state": {"values": {k: {"value": v} for k, v in fields.items()}},
    }
    payload = {"type": "view_submission", "user": {"id": "U0CSO1"}, "view": view}
    status, _ = post_signed(url, SECRET, interaction_body(payload))
    say(f"  view_submission client_new_modal -> HTTP {status}")
    emulator.wait_for("chat.postMessage", where=lambda c: "Hooli" in str(c.get("text")))
    before = len(emulator.calls("response_url"))
    body = slash_command_body(
        "/onboarding",
        "hooli",
        user_id="U0CSO1",
        channel_id="C0STANDUP",
        response_url=emulator.response_url("onboarding"),
    )
    status, _ = post_signed(url, SECRET, body)
    say(f"  /onboarding hooli -> HTTP {status}")
    emulator.wait_for("response_url", count=before + 1, timeout=15)
    for call in emulator.calls():
        text = str(call.params.get("text", ""))
        if "Hooli" in text and call.method in ("response_url", "chat.postMessage"):
            where = call.params.get("channel", "ephemeral reply")
            say(f"  [{call.method} → {where}]")
            say(_indented(text, 6), hang=2)


def _wait_recorded(db_url: str, expected: int, timeout: float = 15) -> None:
    """Slack events are processed after the ack: wait until the week is in the database."""
    from storage.db import Database
    from storage.touchpoint_store import messages_recorded

    db = Database(db_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with db.session() as s:
                n = messages_recorded(s)
            if n >= expected:
                return
            time.sleep(0.1)
    finally:
        db.dispose()


def _show_ack(resp: bytes) -> None:
    if not resp:
        return
    try:
        text = json.loads(resp).get("text", "")
    except ValueError:
        text = resp.decode(errors="replace")
    if text:
        say("      ack: " + text.replace("\n", "\n           "), hang=2)


def _show_what_counted(week: IsoWeek, env: dict[str, str], names: dict[str, str]) -> None:
    """What counted and what did not, from `csobot kpi --json` (the evidence, the reasons)."""
    out = subprocess.run(
        [sys.executable, "-m", "bot", "kpi", "--week", str(week), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    kpi = json.loads(out.stdout)
    clients = {c["slug"]: c for cso in kpi["csos"] for c in cso["clients"]}
    say("\nWhat counted, and what did not (csobot kpi --json):")
    acme = clients["acme"]["daily"]
    day = min(acme["evidence"])
    say(f"  The evidence behind acme's {day}:")
    for item in acme["evidence"][day]:
        by = names.get(item["by"], item["by"])
        say(f"    {item['kind']} by {by} at {item['at']}: {item['excerpt']!r}", hang=4)
        say(f"      {item['permalink'] or item['link'] or ''}")
    say("  Team messages that did not count:")
    for slug, c in clients.items():
        for item in c["daily"]["ignored"]:
            by = names.get(item["by"], item["by"])
            say(f"    {slug} {item['date']} {by}: {item['excerpt']!r} — {item['reason']}", hang=4)
    say("  Weekly presentations:")
    for slug, c in clients.items():
        wp = c["weekly_presentation"]
        if wp["win"] is not None:
            tangible = "tangible" if wp["tangible"] else "NOT tangible (a list of activity)"
            say(f"    {slug}: {wp['status']}, {tangible}: {wp['win']!r}", hang=4)


def say(text: str, *, hang: int = 2) -> None:
    """Print within 80 columns: a long line goes on, indented, on the next."""
    print(wrap(text, hang=hang), flush=True)


def _indented(text: str, by: int) -> str:
    return "\n".join(" " * by + line if line else "" for line in text.split("\n"))


def _names(portfolio: Path) -> dict[str, str]:
    """Slack ID → the person's name, from the portfolio file the demo imports."""
    from domain.portfolio import parse_portfolio

    return {p.slack_id: p.name for p in parse_portfolio(portfolio.read_text()).people}


def _run_cli(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "bot", *args], env=env, check=True)


def _cmd_demo(args: Any, settings: Any) -> int:
    return run_demo(keep=args.keep)


def add_commands(sub: Any) -> None:
    """`csobot demo`: installed as an entry point of the `csobot.commands` group."""
    p = sub.add_parser("demo", help="run an offline, self-contained demo week")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.set_defaults(handler=_cmd_demo)
