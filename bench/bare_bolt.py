"""The baseline: a bare Bolt app whose listeners only ack, behind the same server."""

from __future__ import annotations

import os
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.server import serve_forever


def main() -> None:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=False,
    )

    def ack_only(ack: Ack) -> None:
        ack()

    def noop(body: dict[str, Any]) -> None:
        return None

    app.command("/pulse")(ack_only)
    app.event("message")(noop)
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    serve_forever(
        SlackRequestHandler(app),
        "127.0.0.1",
        int(os.environ["PORT"]),
        int(os.environ.get("CSOBOT_THREADS", "16")),
    )


if __name__ == "__main__":
    main()
