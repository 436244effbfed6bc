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
from ttwood.serve_page import MAX_COLUMNS, MAX_ROWS, bounded, host_name, is_loopback, page_template

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


def test_a_bare_ipv6_loopback_host_is_this_server(served: Served) -> None:
    """`Host: [::1]` (no port) was refused as another host name."""
    assert asyncio.run(_status(f"{served.base}/?token={served.token}", Host="[::1]")) == 200
    assert asyncio.run(_status(f"{served.base}/?token={served.token}", Host=f"[::1]:{served.port}")) == 200
    assert asyncio.run(_status(f"{served.base}/?token={served.token}", Host="[::1].evil.example")) == 403
    assert host_name("[::1]") == "::1" and host_name("[::1]:8000") == "::1" and host_name("localhost:80") == "localhost"
    assert host_name("::1") == "::1" and host_name("LOCALHOST") == "localhost" and host_name("[::1]x") == "[::1]x"


def test_the_log_never_shows_the_token_and_refusals_stay_small(served: Served) -> None:
    """The request log printed the token in every line, and a bad-token request added ~12.8 KB."""

    async def many() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{served.base}/?token={served.token}") as resp:
                assert resp.status == 200
            for i in range(200):
                async with session.get(f"{served.base}/?token={'x' * 4000}{i}") as resp:
                    assert resp.status == 403

    before = len(served.output())
    asyncio.run(many())
    time.sleep(0.5)
    out = served.output()
    assert served.token not in out.split("Open this link", 1)[-1].split("\n", 2)[-1], "the token is printed once, in the link"
    assert out.count(served.token) == 1
    assert "/?token=TOKEN" in out, "the page request is logged, its token hidden"
    assert len(out) - before < 4000, f"200 refusals grew the log by {len(out) - before} bytes"
    assert out.count("refused GET /") <= 11


def test_the_page_needs_nothing_from_the_internet(served: Served) -> None:
    async def page() -> str:
        async with aiohttp.ClientSession() as session, session.get(f"{served.base}/?token={served.token}") as resp:
            return await resp.text()

    html = asyncio.run(page())
    assert "googleapis" not in html
    urls = re.findall(r"(?:src|href)=\"([^\"]+)\"", html) + re.findall(r"url\(\"?([^\")]+)", html)
    assert urls and all(u.startswith(served.base) for u in urls), urls
    assert any(u.endswith("RobotoMono-VariableFont_wght.ttf") for u in urls), "the font textual-serve ships"


def test_page_template_keeps_textual_serves_page_and_drops_only_the_font_link(tmp_path: Path) -> None:
    link = '<link rel="stylesheet"\n href="https://fonts.googleapis.com/css?x" />'
    (tmp_path / "app_index.html").write_text(f"<head>\n{link}\n<b>keep</b></head>")
    text = page_template(tmp_path)
    assert "googleapis" not in text and "<b>keep</b>" in text and "@font-face" in text


def test_sizes_from_the_page_are_bounded() -> None:
    assert bounded(100000, 20, MAX_COLUMNS, 80) == MAX_COLUMNS and bounded("-5", 8, MAX_ROWS, 24) == 8
    assert bounded("junk", 8, MAX_ROWS, 24) == 24 and bounded(None, 8, MAX_ROWS, 24) == 24 and bounded(10**400, 8, 240, 24) == 240


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_a_huge_resize_is_bounded_and_the_game_ends_with_its_socket(served: Served) -> None:
    """A 100000×100000 resize grew the game process to 4.7 GB, and it lived on after its socket closed."""
    own = f"http://127.0.0.1:{served.port}"

    async def play() -> tuple[list[int], float]:
        url = f"ws://127.0.0.1:{served.port}/ws/{served.token}?width=100000&height=100000"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, headers={"Origin": own}) as ws:
            await asyncio.wait_for(ws.receive(), 60)
            await ws.send_json(["resize", {"width": 100000, "height": 100000}])
            await asyncio.sleep(4)
            games = _children(served.proc.pid)
            rss = max((_rss_mb(p) for p in games), default=0.0)
        return games, rss

    games, rss = asyncio.run(play())
    assert games, "the page's game ran as a child of the server"
    assert rss < 400, f"the game grew to {rss:.0f} MB"
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{p}").exists() and "zombie" not in Path(f"/proc/{p}/status").read_text() for p in games):
        assert time.monotonic() < deadline, "the game lived on after its socket closed"
        time.sleep(0.25)


@pytest.mark.slow
def test_connecting_again_plays_on_in_the_one_save(served: Served) -> None:
    """Two connections one after the other left two turn-0 saves; now the server saves the game
    once, before it listens, and every page plays on in it."""
    own = f"http://127.0.0.1:{served.port}"
    saves = sorted(served.saves.glob("*.ttwood"))
    assert len(saves) == 1, "the server made the game's one save at start"
    assert f"The game is saved in {saves[0]}" in served.output()
    for _ in range(3):
        status, first = asyncio.run(_ws(f"ws://127.0.0.1:{served.port}/ws/{served.token}", own))
        assert status == 101 and first
    time.sleep(1)
    assert sorted(served.saves.glob("*.ttwood")) == saves


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
    assert save.exists() and _turns(save) == 0, "the server saves the game before it listens"
    shots = Path(os.environ.get("TTWOOD_SCREENSHOTS", tmp_path))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{served.base}/?token={served.token}")
            deadline = time.monotonic() + 90
            page.wait_for_timeout(4000)  # the game process started and drew its first frame
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


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="needs Debian's chromium (apt-get install chromium)")
def test_a_browser_reloading_twice_plays_on_in_one_save(served: Served, tmp_path: Path) -> None:
    """Each page load started a new game in a new save; now a reload goes on with the game."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI installs chromium (.ci/run)"
    (save,) = served.saves.glob("*.ttwood")
    shots = Path(os.environ.get("TTWOOD_SCREENSHOTS", tmp_path))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{served.base}/?token={served.token}")
            deadline = time.monotonic() + 120
            for turn in (1, 2, 3):
                page.wait_for_timeout(4000)  # the game started (or went on) and drew its first frame
                page.mouse.click(700, 450)
                page.keyboard.press("n")
                while _turns(save) < turn:
                    assert time.monotonic() < deadline, served.output()
                    page.wait_for_timeout(250)
                page.wait_for_timeout(1000)
                page.screenshot(path=str(shots / f"serve-reload-{turn}.png"))
                if turn < 3:
                    page.reload()
        finally:
            browser.close()
    assert list(served.saves.glob("*.ttwood")) == [save], "one save, whatever the reloads"
    assert _turns(save) == 3, "each page went on where the one before it stopped"


def _turns(save: Path) -> int:
    try:
        with open_save(save, full_check=False) as s:
            return s.turns
    except Exception:
        return 0


DEJAVU_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


@pytest.mark.skipif(not DEJAVU_MONO.exists(), reason="needs DejaVu Sans Mono (fonts-dejavu-core, which chromium pulls in)")
def test_the_headers_glyphs_are_in_the_fonts_a_browser_draws_them_with() -> None:
    """The page's terminal draws with Roboto Mono (shipped by textual-serve), then the system's
    monospace font; "⏸ paused" (U+23F8) is in neither and showed as a box."""
    import textual_serve
    from fontTools.ttLib import TTFont

    from ttwood_tui.widgets.game_header import GameHeader

    roboto = Path(textual_serve.__file__).parent / "static" / "fonts" / "RobotoMono-VariableFont_wght.ttf"
    known = set(TTFont(roboto).getBestCmap()) | set(TTFont(DEJAVU_MONO).getBestCmap())
    header = GameHeader()
    texts = []
    for playing, thinking in ((False, False), (True, True)):
        header.playing, header.thinking = playing, thinking
        texts.append(str(header.render()))
    missing = {ch for text in texts for ch in text if ord(ch) > 127 and ord(ch) not in known}
    assert not missing, f"{sorted(missing)} would be drawn as boxes"
