"""README.md says what the code does: its slash commands and `csobot` commands are exactly the
registered ones (both directions, each with an example), and its Configuration table and
`.env.example` are what bot/settings.py generates today."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from slack_bolt import App

from bot.cli import build_parser
from bot.settings import Settings
from devkit import settings_docs
from tests.unit.test_manifest import app, registered  # noqa: F401  (the app fixture)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
REGENERATE = (
    "run `make readme` (python -m devkit.settings_docs) and commit README.md and .env.example"
)


def sections(text: str) -> dict[str, str]:
    """{heading: body} for every `##`/`###` heading outside fenced code."""
    out: dict[str, str] = {}
    heading, body, fenced = "", [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{2,3} ", line):
            out[heading] = "\n".join(body)
            heading, body = line.lstrip("#").strip(), []
        else:
            body.append(line)
    out[heading] = "\n".join(body)
    return out


def readme_section(title: str) -> str:
    found = sections(README.read_text(encoding="utf-8"))
    assert title in found, f"README.md has no '{title}' section"
    return found[title]


# -- slash commands ------------------------------------------------------------------------------
def documented_commands() -> dict[str, str]:
    """{command: its example cell} from the rows of the *Slash commands* table."""
    rows = {}
    for line in readme_section("Slash commands").splitlines():
        m = re.match(r"\|\s*`(/[a-z-]+)`\s*\|(.*?)\|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_every_slash_command_is_in_the_readme_with_an_example_and_no_other(app: App) -> None:  # noqa: F811
    answered = registered(app)["command"]
    documented = documented_commands()
    assert sorted(answered - documented.keys()) == [], (
        "registered, missing from README.md: add a row `| `/x` | `/x example` | what it does |` "
        "to its Slash commands table"
    )
    assert sorted(documented.keys() - answered) == [], "in README.md, but nothing answers it"
    without_example = [c for c, ex in documented.items() if f"`{c}" not in ex]
    assert without_example == [], "each row's Example column starts a backticked example"


# -- the command line ----------------------------------------------------------------------------
def cli_commands(parser: argparse.ArgumentParser | None = None) -> set[str]:
    """Every `csobot` command as typed: `kpi`, `portfolio import`, `db upgrade`."""
    parser = parser or build_parser()
    found: set[str] = set()
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
            words = [a for a in sub._actions if a.choices and not a.option_strings]
            if nested:
                found |= {f"{name} {word}" for word in cli_commands(sub)}
            elif words and not isinstance(words[0], argparse._SubParsersAction):
                found |= {f"{name} {word}" for word in words[0].choices or ()}
            else:
                found.add(name)
    return found


def documented_cli(known: set[str]) -> set[str]:
    """The commands the *Command line* block shows, each by its example line."""
    text = readme_section("Command line")
    blocks = re.findall(r"```\n(.*?)```", text, re.DOTALL)
    assert blocks, "README.md's Command line section has no code block"
    found = set()
    for line in "".join(blocks).splitlines():
        if not line.startswith("csobot "):
            continue
        words = line.split()[1:3]
        two = " ".join(words)
        found.add(
            two if two in known or any(k.startswith(words[0] + " ") for k in known) else words[0]
        )
    return found


def test_every_csobot_command_is_in_the_readme_and_no_other() -> None:
    known = cli_commands()
    assert {"serve", "db upgrade", "portfolio import", "health import", "demo"} <= known
    documented = documented_cli(known)
    assert sorted(known - documented) == [], (
        "`csobot` has these: add a line `csobot … example  # what it does` for each to the "
        "code block of README.md's Command line section"
    )
    assert sorted(documented - known) == [], "README.md's Command line shows what `csobot` lacks"


def test_the_lists_are_compared_both_ways() -> None:
    """A command dropped from the README, or one the code lacks, is found."""
    known = cli_commands()
    assert "qbr" in known and "qbr" in documented_cli(known)
    assert documented_cli(known - {"qbr"}) - (known - {"qbr"}) == {"qbr"}


# -- settings ------------------------------------------------------------------------------------
def test_every_setting_has_a_description() -> None:
    missing = [n for n, f in Settings.model_fields.items() if not (f.description or "").strip()]
    assert missing == [], "add description= to these fields in bot/settings.py"


def test_the_configuration_table_is_generated_from_the_settings() -> None:
    text = README.read_text(encoding="utf-8")
    assert settings_docs.readme_with_table(text) == text, f"README.md's Configuration: {REGENERATE}"
    variables = [row[0] for row in settings_docs.rows()]
    assert {"SLACK_BOT_TOKEN", "DATABASE_URL", "CSOBOT_NOW", "CSOBOT_LOG_LEVEL"} <= set(variables)
    table = readme_section("Configuration")
    assert all(f"| `{v}` |" in table for v in variables)


def test_env_example_is_generated_from_the_settings() -> None:
    path = ROOT / ".env.example"
    assert path.exists(), f".env.example is missing: {REGENERATE}"
    assert path.read_text(encoding="utf-8") == settings_docs.env_example(), REGENERATE


def test_every_csobot_variable_the_readme_names_is_a_setting() -> None:
    variables = {row[0] for row in settings_docs.rows()}
    named = set(re.findall(r"\bCSOBOT_[A-Z_]+\b", README.read_text(encoding="utf-8")))
    assert sorted(named - variables) == []
