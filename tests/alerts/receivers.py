"""Real receivers on loopback for the alerts tests: an SMTP server (aiosmtpd), an HTTP server that
records requests and answers from a script, and a real Prometheus Alertmanager."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from tests.support.processes import free_port


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class _SMTPHandler:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK queued as harborops-test"


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: _SMTPHandler

    @property
    def mails(self) -> list[Mail]:
        return self.handler.mails


def smtp_server() -> Iterator[SMTPServer]:
    handler = _SMTPHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HTTPReceiver:
    """Answers each POST with the next scripted status (then 200); ``hold_first`` keeps the first
    request open until ``release`` is set (a worker can be killed while it waits)."""

    url: str
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    hold_first: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)


def http_receiver() -> Iterator[HTTPReceiver]:
    port = free_port()
    state = HTTPReceiver(url=f"http://127.0.0.1:{port}/hook")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                first = len(state.received) == 1
                status = state.script.pop(0) if state.script else 200
            state.arrived.set()
            if first and state.hold_first:
                state.release.wait(timeout=60)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            with contextlib.suppress(OSError):  # the client (a killed worker) may be gone
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Alertmanager:
    url: str

    def alerts(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v2/alerts", params={"active": "true", "silenced": "true",
                                                         "inhibited": "true", "unprocessed": "true"}, timeout=5)
        r.raise_for_status()
        result: list[dict[str, Any]] = r.json()
        return result


def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        raise AssertionError("prometheus-alertmanager is missing: scripts/ensure-debs.sh prometheus-alertmanager")
    config = tmp_path / "am.yml"
    config.write_text("route: {receiver: default, group_wait: 1s}\nreceivers: [{name: default}]\n")
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"alertmanager did not start: {(tmp_path / 'alertmanager.log').read_text()}")
            time.sleep(0.2)
        yield Alertmanager(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
