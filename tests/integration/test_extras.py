"""Optional extras: without `charts` the digest still posts (the chart's description instead of
the picture) and says which extra to install; without `postgres` a PostgreSQL DATABASE_URL gets
one line naming the extra, exit 2."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from sqlalchemy import select

from storage.models import DigestPart
from tests.conftest import BotHarness
from tests.integration.test_digest import MONDAY_0800, _record_week, _tick


def test_the_digest_without_the_charts_extra_posts_the_chart_description(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: import fails
    monkeypatch.delitem(sys.modules, "prompts.digest_chart", raising=False)
    _record_week(bot.db)
    with caplog.at_level(logging.WARNING, logger="usecases.digest_actions"):
        _tick(bot, MONDAY_0800)
    assert bot.emulator.calls("files.getUploadURLExternal") == []
    summary_ts = next(k[1] for k in bot.emulator.state.messages if k[0] == "C0LEAD")
    in_thread = [
        c
        for c in bot.emulator.calls("chat.postMessage")
        if c["channel"] == "C0LEAD" and c.get("thread_ts") == summary_ts
    ]
    with bot.db.session() as s:
        [part] = s.scalars(select(DigestPart).where(DigestPart.kind == "chart")).all()
    assert part.status == "sent"
    assert [c["text"] for c in in_thread][:1] == [part.text]
    [line] = [r.getMessage() for r in caplog.records if "extra" in r.getMessage()]
    assert "pip install 'csobot[charts]'" in line


def test_a_postgresql_url_without_the_postgres_extra_names_it(tmp_path: object) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from bot.cli import main\n"
        "sys.exit(main(['db', 'upgrade']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"DATABASE_URL": "postgresql+psycopg://csobot@127.0.0.1:1/csobot", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (
        "csobot: a PostgreSQL DATABASE_URL needs the optional 'postgres' extra (psycopg is not "
        "installed): pip install 'csobot[postgres]'"
    )
