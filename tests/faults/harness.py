"""A fault harness: the real `csobot serve` as a process, and the faults to throw at it.

Nothing here imports pytest, so the benchmarks use it too. The pieces:

- `ServeFactory` / `Serve`: start `python -m bot serve` on a database (the sample portfolio
  imported first), wait for `/healthz`, post signed requests the way Slack does (with Slack's
  retries when asked), SIGKILL or SIGTERM it, restart it on the same database, port and spool.
- `Rows`: count rows in that database from outside the process.
- `create_private_database` / `drop_private_database`: a PostgreSQL database of its own for a
  test that refuses or kills connections (never the shared `test` database).
- `TcpProxy`: a loopback proxy in front of PostgreSQL that can refuse connections (stop
  listening, close every proxied connection) and forward again.
- `SqliteLocker`: another connection holding `BEGIN EXCLUSIVE` on a SQLite file.
- `BackendKiller`: `pg_terminate_backend` on every other backend of a database, periodically.
- `TrackingEmulator`: the Slack emulator, also noting which `response_url` each reply went to.
- Builders for client-channel message events spread over business days.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from http.server import BaseHTTPRequestHandler
from importlib.resources import files
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from devkit.emulator import Call, SlackEmulator
from devkit.signing import event_body, post_signed, slash_command_body
from storage.db import Database, make_engine

SAMPLE_PORTFOLIO = files("devkit").joinpath("sample_portfolio.yaml").read_text()
PRIVATE_PREFIX = "csobot_fault_"
CHICAGO = ZoneInfo("America/Chicago")  # Acme's timezone in the sample portfolio
ACME_TEAM = ("U0CSO1", "U0SL1", "U0EP1")  # cso, service lead, engagement partner
ACME_CONTACT = "U0EXT1"

# Environment variables a test's own environment must not leak into the server's.
_SCRUB_PREFIXES = ("SLACK_", "CSOBOT_", "OPENAI_")
_SCRUB = {"DATABASE_URL", "PORT", "HOST", "TEST_DATABASE_URL", "BENCH_DATABASE_URL"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- Slack's side --------------------------------------------------------------------------------
class TrackingEmulator(SlackEmulator):
    """The emulator, plus `params["response_token"]` on every response_url call: which
    command's response_url (`response_url(token)`) the reply was posted to."""

    def _parse(self, req: BaseHTTPRequestHandler, raw: bytes, query: str) -> dict[str, Any]:
        params = super()._parse(req, raw, query)
        path = urlparse(req.path).path
        if path.startswith("/response/"):
            params["response_token"] = path.rsplit("/", 1)[-1]
        return params

    def replies(self, token: str | None = None) -> list[Call]:
        """response_url calls (for one token, or all), in arrival order."""
        return [
            c
            for c in self.calls("response_url")
            if token is None or c.params.get("response_token") == token
        ]


@dataclass
class Reply:
    """The final answer to a request (after any Slack-style retries)."""

    status: int  # 0 when no HTTP answer came at all (refused, reset, timed out)
    body: bytes
    attempts: int
    at: float  # time.monotonic() when the final answer arrived
    wall: float  # time.time() when the final answer arrived (the emulator's clock)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def message_event(
    channel: str, user: str, text_: str, at: datetime, *, thread_ts: str | None = None
) -> dict[str, Any]:
    ts = f"{at.timestamp():.6f}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text_,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def business_times(
    n: int,
    *,
    start: date,
    tz: ZoneInfo = CHICAGO,
    per_day: int = 120,
    first: dtime = dtime(9, 0),
    spacing: timedelta = timedelta(minutes=3),
) -> list[datetime]:
    """`n` distinct instants, `per_day` on each business day (Mon-Fri) from `start`, local."""
    out: list[datetime] = []
    day = start
    while len(out) < n:
        if day.weekday() < 5:
            base = datetime.combine(day, first, tzinfo=tz)
            out.extend(base + spacing * i for i in range(min(per_day, n - len(out))))
        day += timedelta(days=1)
    return out


@dataclass
class Batch:
    """Signed-ready event bodies and what they should become."""

    bodies: list[bytes]
    events: list[dict[str, Any]]
    event_ids: list[str]

    @property
    def ts(self) -> list[str]:
        return [str(e["ts"]) for e in self.events]


def channel_messages(
    n: int,
    *,
    channel: str = "C0ACME",
    authors: Sequence[str] = ACME_TEAM,
    texts: Sequence[str] | None = None,
    start: date = date(2026, 11, 16),
    tz: ZoneInfo = CHICAGO,
    per_day: int = 120,
    tag: str | None = None,
) -> Batch:
    """`n` message events in `channel` by `authors` in turn, distinct ts and event_id, spread
    over business days in `tz`. Team authors make touchpoints; a client contact, inbound."""
    tag = tag or uuid.uuid4().hex[:6]
    bodies, events, ids = [], [], []
    for i, at in enumerate(business_times(n, start=start, tz=tz, per_day=per_day)):
        text_ = texts[i % len(texts)].format(i=i) if texts else f"status note {i} ({tag})"
        event = message_event(channel, authors[i % len(authors)], text_, at)
        event_id = f"Ev{tag}{i:06d}"
        events.append(event)
        ids.append(event_id)
        bodies.append(event_body(event, event_id=event_id))
    return Batch(bodies, events, ids)


# -- the server process --------------------------------------------------------------------------
class Serve:
    """One `csobot serve` process. Use `ServeFactory.start` to make one."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        secret: str,
        emulator: SlackEmulator,
        log_path: Path,
        port: int,
    ) -> None:
        self.env = env
        self.secret = secret
        self.emulator = emulator
        self.log_path = log_path
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.events_url = self.base_url + "/slack/events"
        self._log: IO[bytes] = open(log_path, "ab")  # noqa: SIM115 - closed in wait()/kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the test run is not also a SIGINT to it
        )
        self._tokens = itertools.count(1)
        self._tag = uuid.uuid4().hex[:6]

    # lifecycle ---------------------------------------------------------------------------------
    def wait_up(self, timeout: float = 60.0, *, healthy: bool = True) -> Serve:
        """Wait until /healthz answers (200 when `healthy`, any HTTP status otherwise)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"csobot serve exited with {self.proc.returncode}:\n{self.tail()}"
                )
            status, _ = self.healthz(timeout=2)
            if status == 200 or (status and not healthy):
                return self
            if time.monotonic() > deadline:
                raise AssertionError(f"csobot serve not up after {timeout:g} s:\n{self.tail()}")
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: what a deploy's grace period running out, or the OOM killer, does."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def terminate(self) -> None:
        """SIGTERM: a deploy asking the process to stop. Does not wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._log.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._log.close()

    def tail(self, chars: int = 3000) -> str:
        if not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def log_problems(self, limit: int = 15) -> str:
        """The log's last WARNING/ERROR lines, for failure messages."""
        if not self._log.closed:
            self._log.flush()
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        keep = [ln for ln in lines if " WARNING " in ln or " ERROR " in ln]
        return "\n".join(keep[-limit:])

    # requests ----------------------------------------------------------------------------------
    def healthz(self, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
        """(status, JSON body); (0, {}) when nothing answered within `timeout`."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except OSError:
            return 0, {}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        return status, body if isinstance(body, dict) else {"_raw": body}

    def post(
        self,
        body: bytes,
        *,
        slack_retries: int = 0,
        retry_delay: float = 1.0,
        timeout: float = 10.0,
    ) -> Reply:
        """POST a signed request. With `slack_retries`, a non-2xx answer or no answer is sent
        again as Slack does (same body, re-signed, X-Slack-Retry-Num), after `retry_delay` s
        (Slack waits about a minute, then five: compressed here)."""
        attempt, reason = 0, ""
        while True:
            headers = (
                {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason}
                if attempt
                else {}
            )
            try:
                status, raw = post_signed(
                    self.events_url, self.secret, body, headers=headers, timeout=timeout
                )
                reason = "http_error"
            except OSError:  # refused, reset, timed out: Slack saw no answer
                status, raw, reason = 0, b"", "http_timeout"
            if 200 <= status < 300 or attempt >= slack_retries:
                return Reply(status, raw, attempt + 1, time.monotonic(), time.time())
            attempt += 1
            time.sleep(retry_delay)

    def post_all(
        self, bodies: Iterable[bytes], *, concurrency: int = 8, **kwargs: Any
    ) -> list[Reply]:
        """POST every body, `concurrency` at a time; replies in the bodies' order."""
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(lambda b: self.post(b, **kwargs), bodies))

    def post_paced(
        self, bodies: Sequence[bytes], *, over: float, concurrency: int = 4, **kwargs: Any
    ) -> list[Reply]:
        """POST body i at `i * over / len(bodies)` s from now (a steady arrival rate, as
        events come in from a busy workspace); replies in the bodies' order."""
        start = time.monotonic()
        step = over / max(1, len(bodies))

        def one(i: int) -> Reply:
            delay = start + i * step - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            return self.post(bodies[i], **kwargs)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(one, range(len(bodies))))

    def command(
        self,
        command: str,
        text_: str = "",
        *,
        user: str = "U0CSO1",
        channel: str = "C0STANDUP",
        token: str | None = None,
        **kwargs: Any,
    ) -> tuple[Reply, str]:
        """A slash command; returns the ack and the response_url token its replies carry."""
        token = token or f"{self._tag}-{next(self._tokens)}"
        body = slash_command_body(
            command,
            text_,
            user_id=user,
            channel_id=channel,
            response_url=self.emulator.response_url(token),
            trigger_id=f"trig-{token}",
        )
        return self.post(body, **kwargs), token


class ServeFactory:
    """Starts `csobot serve` processes that share an emulator, a secret and a work directory;
    `close()` kills whatever is still running."""

    def __init__(
        self,
        *,
        emulator: SlackEmulator,
        secret: str,
        workdir: Path,
        portfolio: str = SAMPLE_PORTFOLIO,
    ) -> None:
        self.emulator = emulator
        self.secret = secret
        self.workdir = workdir
        self.portfolio = portfolio
        self.spool_dir = workdir / "spool"
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.started: list[Serve] = []
        self._imported: set[str] = set()

    def env(self, db_url: str, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB
        }
        env.update(
            {
                "SLACK_BOT_TOKEN": "xoxb-fault",
                "SLACK_SIGNING_SECRET": self.secret,
                "SLACK_API_URL": self.emulator.api_url,
                "DATABASE_URL": db_url,
                "PORT": str(port),
                "HOST": "127.0.0.1",
                "CSOBOT_SCHEDULER": "false",
                "CSOBOT_SPOOL_DIR": str(self.spool_dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra or {})
        return env

    def import_portfolio(self, db_url: str) -> None:
        """`csobot db upgrade` (the release step) and `csobot portfolio import`, once per
        database."""
        if db_url in self._imported:
            return
        path = self.workdir / "portfolio.yaml"
        path.write_text(self.portfolio)
        env = self.env(db_url, 3000)
        for argv in (["db", "upgrade"], ["portfolio", "import", str(path)]):
            proc = subprocess.run(
                [sys.executable, "-m", "bot", *argv],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if proc.returncode != 0:
                raise AssertionError(f"{' '.join(argv[:2])} failed:\n{proc.stdout}\n{proc.stderr}")
        self._imported.add(db_url)

    def start(
        self,
        db_url: str,
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        wait: bool = True,
        import_db_url: str | None = None,
    ) -> Serve:
        """Start `csobot serve` on `db_url` (importing the portfolio through `import_db_url`,
        default `db_url`, first) and wait until /healthz says 200."""
        self.import_portfolio(import_db_url or db_url)
        port = port or free_port()
        serve = Serve(
            env=self.env(db_url, port, env),
            secret=self.secret,
            emulator=self.emulator,
            log_path=self.workdir / f"serve-{len(self.started) + 1}.log",
            port=port,
        )
        self.started.append(serve)
        return serve.wait_up() if wait else serve

    def restart(self, old: Serve, *, wait: bool = True) -> Serve:
        """A new process with the same environment, port and spool directory (after the old one
        was killed or stopped)."""
        old.close()
        serve = Serve(
            env=old.env,
            secret=self.secret,
            emulator=self.emulator,
            log_path=self.workdir / f"serve-{len(self.started) + 1}.log",
            port=old.port,
        )
        self.started.append(serve)
        return serve.wait_up() if wait else serve

    def close(self) -> None:
        for serve in self.started:
            serve.close()


# -- the database, seen from outside -------------------------------------------------------------
class Rows:
    """Counts rows in the server's database (retrying a dropped connection)."""

    def __init__(self, db_url: str) -> None:
        if db_url.startswith("sqlite"):
            self.engine = make_engine(db_url)  # WAL: reads go on while a writer holds the lock
        else:
            self.engine = create_engine(db_url, poolclass=NullPool)

    def count(self, model: Any, *where: Any) -> int:
        stmt = select(func.count()).select_from(model).where(*where)
        for attempt in range(10):
            try:
                with Session(self.engine) as s:
                    return int(s.scalar(stmt) or 0)
            except DBAPIError:
                if attempt == 9:
                    raise
                time.sleep(0.3)
        raise AssertionError("unreachable")

    def scalars(self, stmt: Any) -> list[Any]:
        with Session(self.engine) as s:
            return list(s.scalars(stmt))

    def wait_count(
        self, model: Any, expected: int, *where: Any, timeout: float = 60.0, settle: float = 1.0
    ) -> int:
        """Poll until `expected` rows exist (then wait `settle` s more, so a doubling shows) or
        `timeout` passes; return the last count (the caller asserts on it)."""
        deadline = time.monotonic() + timeout
        n = self.count(model, *where)
        while n < expected and time.monotonic() < deadline:
            time.sleep(0.2)
            n = self.count(model, *where)
        if n >= expected and settle:
            time.sleep(settle)
            n = self.count(model, *where)
        return n

    def dispose(self) -> None:
        self.engine.dispose()


def create_private_database(admin_url: str, prefix: str = PRIVATE_PREFIX) -> str:
    """CREATE DATABASE <prefix><random> on `admin_url`'s server, migrated; its URL."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        db.migrate()
    finally:
        db.dispose()
    return url


def drop_private_database(admin_url: str, url: str, prefix: str = PRIVATE_PREFIX) -> None:
    """DROP DATABASE ... WITH (FORCE), only for a database this harness created."""
    name = make_url(url).database or ""
    if not re.fullmatch(re.escape(prefix) + r"[0-9a-f]{10}", name):
        raise ValueError(f"refusing to drop {name!r}: not a private fault-test database")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def with_host_port(url: str, host: str, port: int) -> str:
    return make_url(url).set(host=host, port=port).render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise ValueError(f"not a SQLite file URL: {url}")
    return Path(database)


# -- faults --------------------------------------------------------------------------------------
class TcpProxy:
    """A loopback TCP proxy to `target`. `forward()` listens and pipes bytes both ways;
    `refuse()` stops listening (a connect is refused) and closes every proxied connection.
    The port stays the same across refuse/forward."""

    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.accepted = 0  # connections forwarded so far
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    @classmethod
    def for_url(cls, db_url: str) -> TcpProxy:
        url = make_url(db_url)
        return cls(url.host or "127.0.0.1", url.port or 5432)

    def url_for(self, db_url: str) -> str:
        """`db_url` with its host and port replaced by this proxy's."""
        return with_host_port(db_url, self.host, self.port)

    @property
    def forwarding(self) -> bool:
        return self._listener is not None

    def forward(self) -> TcpProxy:
        with self._lock:
            if self._listener is not None:
                return self
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((self.host, self.port))
            ls.listen(128)
            self.port = int(ls.getsockname()[1])
            self._listener = ls
            self._acceptor = threading.Thread(target=self._accept, args=(ls,), daemon=True)
            self._acceptor.start()
        return self

    def refuse(self) -> TcpProxy:
        with self._lock:
            ls, self._listener = self._listener, None
            conns, self._conns = set(self._conns), set()
        if ls is not None:
            with contextlib.suppress(OSError):
                ls.shutdown(socket.SHUT_RDWR)  # wakes accept(); the port stops listening
            ls.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
            self._acceptor = None
        for conn in conns:
            _close(conn)
        return self

    def close(self) -> None:
        self.refuse()

    def __enter__(self) -> TcpProxy:
        return self.forward()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not ls:  # refused meanwhile
                    _close(client)
                    _close(upstream)
                    continue
                self._conns.update((client, upstream))
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class SqliteLocker:
    """Another writer: a connection holding `BEGIN EXCLUSIVE` on the database file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.acquired_at: float | None = None  # time.monotonic()
        self.released_at: float | None = None  # taken while the lock is still held
        self._release = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None

    def hold(self, seconds: float) -> SqliteLocker:
        """Take the lock (waiting up to 30 s for it) and keep it `seconds` s, then roll back.
        Returns once the lock is held."""
        acquired = threading.Event()

        def run() -> None:
            conn = sqlite3.connect(
                str(self.path), timeout=30, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("BEGIN EXCLUSIVE")
                self.acquired_at = time.monotonic()
                acquired.set()
                self._release.wait(seconds)
                self.released_at = time.monotonic()
                conn.execute("ROLLBACK")
            except BaseException as exc:  # surfaced by hold() / wait_released()
                self._error = exc
                acquired.set()
            finally:
                conn.close()
                self._done.set()

        threading.Thread(target=run, daemon=True).start()
        acquired.wait(40)
        if self._error is not None or self.acquired_at is None:
            raise AssertionError(f"could not lock {self.path}: {self._error!r}")
        return self

    @property
    def held(self) -> bool:
        return self.acquired_at is not None and not self._done.is_set()

    def release(self) -> None:
        self._release.set()
        self.wait_released(10)

    def wait_released(self, timeout: float) -> bool:
        return self._done.wait(timeout)


class BackendKiller:
    """Every `interval` s, `pg_terminate_backend` for every client backend of the database at
    `db_url` except its own, until stopped."""

    def __init__(self, db_url: str, interval: float = 0.2) -> None:
        self.db_url = db_url
        self.interval = interval
        self.terminated = 0
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BackendKiller:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> BackendKiller:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        engine = create_engine(self.db_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        query = text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        try:
            with engine.connect() as conn:
                while not self._stop.is_set():
                    self.terminated += int(conn.execute(query).scalar() or 0)
                    self.rounds += 1
                    self._stop.wait(self.interval)
        finally:
            engine.dispose()


@dataclass
class Timeline:
    """Moments of a fault test, on the time.time() clock the emulator stamps calls with."""

    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> float:
        self.marks[name] = time.time()
        return self.marks[name]

    def __getitem__(self, name: str) -> float:
        return self.marks[name]
