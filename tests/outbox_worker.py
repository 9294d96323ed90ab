"""One outbox delivery pass in a process of its own, for tests that kill it mid-call:

python -m tests.outbox_worker DATABASE_URL SLACK_API_URL NOW_ISO
"""

from __future__ import annotations

import sys
from datetime import datetime

from slack_sdk import WebClient

from storage.db import Database
from usecases.outbox import deliver_due


def main(argv: list[str]) -> int:
    db_url, api_url, now = argv[1], argv[2], datetime.fromisoformat(argv[3])
    db = Database(db_url)
    client = WebClient(token="xoxb-worker", base_url=api_url, timeout=20)
    print("delivering", flush=True)
    for d in deliver_due(db, client, now):
        print(d.target, d.outcome, d.ts or "-", flush=True)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
