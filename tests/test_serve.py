"""``ttwood serve`` as an attacker would try it, and as a player uses it in a real browser.

A real ``ttwood serve`` subprocess on a free loopback port: the page and the WebSocket need the
secret token printed at start, a page from another origin (or another host name) cannot drive
the game, the number of games is capped, a non-loopback host is warned about. Then headless
Chromium (Debian's package, driven by Playwright) loads the page, presses ``n``, and the turn
advances in the game's autosave; a screenshot is kept in ``$TTWOOD_SCREENSHOTS`` if set.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from engine.saves import open_save
from ttwood.serve import is_loopback

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int
    token: str
    saves: Path
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp: Path, *extra: str, host: str = "127.0.0.1") -> Served:
    port = _free_port()
    log = tmp / "serve.log"
    env = dict(os.environ, TTWOOD_BRAIN="scripted", TTWOOD_SAVES_DIR=str(tmp / "saves"), COLUMNS="200")
    with log.open("w") as out:
        proc = subprocess.Popen([*CMD, "serve", "--host", host, "--port", str(port), *extra],
                                stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 60
    while not (m := re.search(r"token=([A-Za-z0-9_-]+)", log.read_text())):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    while True:  # the port is open once the server has started
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    return Served(proc, port, m.group(1), tmp / "saves", log)


def _stop(s: Served) -> None:
    s.proc.send_signal(signal.SIGINT)
    try:
        s.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        s.proc.kill()
        s.proc.wait()


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[Served]:
    s = _serve(tmp_path, "--max-sessions", "1")
    try:
        yield s
    finally:
        _stop(s)


async def _status(url: str, **headers: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status


async def _ws(url: str, origin: str | None) -> tuple[int, bytes]:
    """Open the game's WebSocket: ``(101, first bytes the game sent)`` or ``(refusal status, b"")``."""
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url + "?width=100&height=30", headers=headers) as ws:
                msg = await asyncio.wait_for(ws.receive(), 60)
                return 101, msg.data if isinstance(msg.data, bytes) else str(msg.data).encode()
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, b""


def test_the_page_needs_the_token(served: Served) -> None:
    assert asyncio.run(_status(f"{served.base}/")) == 403
    assert asyncio.run(_status(f"{served.base}/?token=wrong")) == 403
    assert asyncio.run(_status(f"{served.base}/?token={served.token}")) == 200
    # DNS rebinding: another site's name pointed at this machine is not this server.
    assert asyncio.run(_status(f"{served.base}/?token={served.token}", Host=f"evil.example:{served.port}")) == 403


def test_the_websocket_needs_the_token_and_its_own_origin_and_is_capped(served: Served) -> None:
    own = f"http://127.0.0.1:{served.port}"
    assert asyncio.run(_ws(f"ws://127.0.0.1:{served.port}/ws", own))[0] in (403, 404)
    assert asyncio.run(_ws(f"ws://127.0.0.1:{served.port}/ws/wrong", own))[0] == 403
    assert asyncio.run(_ws(f"ws://127.0.0.1:{served.port}/ws/{served.token}", "https://evil.example"))[0] == 403

    async def two_at_once() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        url = f"ws://127.0.0.1:{served.port}/ws/{served.token}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url + "?width=100&height=30", headers={"Origin": own}) as ws:
            first = await asyncio.wait_for(ws.receive(), 60)
            second = await _ws(url, own)  # --max-sessions 1: refused while the first is open
            return (101, bytes(first.data) if isinstance(first.data, bytes) else str(first.data).encode()), second

    first, second = asyncio.run(two_at_once())
    assert first[0] == 101 and first[1]
    assert second[0] == 503
    assert "already 1 game open" in served.output() and "may not drive this game" in served.output()


def test_a_host_that_is_not_loopback_is_warned_about(tmp_path: Path) -> None:
    s = _serve(tmp_path, host="0.0.0.0")
    try:
        out = s.output()
    finally:
        _stop(s)
    assert "warning:" in out and "not loopback" in out and "not encrypted" in out


def test_loopback_names() -> None:
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("8.8.8.8")
    assert not is_loopback("evil.example", resolve=False)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="needs Debian's chromium (apt-get install chromium)")
def test_a_browser_loads_the_page_presses_n_and_the_turn_advances(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI installs chromium (.ci/run)"
    save = served.saves / "thousand-token-wood-seed1.ttwood"
    shots = Path(os.environ.get("TTWOOD_SCREENSHOTS", tmp_path))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{served.base}/?token={served.token}")
            deadline = time.monotonic() + 90
            while not save.exists():  # the game process started and saved turn 0
                assert time.monotonic() < deadline, served.output()
                page.wait_for_timeout(250)
            page.wait_for_timeout(3000)  # the first frame drawn
            page.screenshot(path=str(shots / "serve-turn-0.png"))
            page.mouse.click(700, 450)
            page.keyboard.press("n")
            while _turns(save) < 1:
                assert time.monotonic() < deadline, served.output()
                page.wait_for_timeout(250)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "serve-turn-1.png"))
        finally:
            browser.close()
    assert _turns(save) == 1


def _turns(save: Path) -> int:
    try:
        with open_save(save, full_check=False) as s:
            return s.turns
    except Exception:
        return 0
