"""User text can't notify anyone through the bot: in the plain-text fallback Slack notifies from
as in the blocks, `<!channel>`, `<!here>` and `<@U…>` typed by a person arrive escaped."""

from __future__ import annotations

import json

from tests.conftest import BotHarness, wait_until

HOSTILE = "<!channel> <!here> <@U0CSO2> ping"


def test_a_shared_pulse_escapes_the_hook_in_its_text_and_its_blocks(bot: BotHarness) -> None:
    status, _ = bot.command("/pulse", f"acme happy hook: {HOSTILE} | update: <!here> done")
    assert status == 200
    recorded = bot.wait_response()
    assert "Pulse recorded for *Acme Corp*" in recorded and "<!" not in recorded
    bot.command("/pulse", "share", channel="C0STANDUP")
    [post] = wait_until(lambda: bot.emulator.calls("chat.postMessage"), timeout=10)
    assert post["channel"] == "C0STANDUP"
    text, blocks = str(post["text"]), json.dumps(post["blocks"])
    for sent in (text, blocks):
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U0CSO2&gt; ping" in sent
        assert "<!channel>" not in sent and "<!here>" not in sent and "<@U0CSO2>" not in sent
    assert "hook: &lt;!channel&gt;" in text  # the fallback, not only the blocks


def test_a_win_link_cannot_smuggle_a_mention(bot: BotHarness) -> None:
    bot.command("/win", 'acme "Cut <!channel> report time" https://ok.example/<!channel>')
    reply = bot.wait_response()
    assert "(<https://ok.example/&lt;!channel|link>)" in reply
    assert "<!channel" not in reply
