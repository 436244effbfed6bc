"""``ttwood serve``: the terminal UI in a browser (textual-serve), locked to whoever has the link.

textual-serve alone lets anyone who can reach the port play: any local process, and any web page
open in the user's browser (a page may open a WebSocket to ``localhost``). So, as Jupyter does:

- **A secret token** (random, new at each start) is in the link printed at start. The page is
  only served with it, and the page's WebSocket carries it in its path (``/ws/TOKEN``); a wrong
  or missing token is refused (403) before any game process starts.
- **The Origin is checked**: a browser sends the page's origin with every WebSocket; one that is
  not this server's own (another site's page) is refused. The Host header must name this server
  too, which defeats DNS rebinding (another site's name pointed at 127.0.0.1).
- **A cap on concurrent sessions**: each connection starts its own game process (~80 MB); past
  the cap a connection is refused (503) until one closes.
- **A warning for a non-loopback host**: ``--host 0.0.0.0`` serves every interface, unencrypted.
- **One game, one save**: ``ttwood serve`` makes (or takes) one save before it listens, and every
  page load plays on in it; a reload waits for the previous page's game to save and end. A second
  tab while one plays is refused (the save has one writer).
- **Bounded**: a terminal size is held to :data:`MAX_COLUMNS` × :data:`MAX_ROWS` (a 100000×100000
  resize grew a game to gigabytes) and a message to :data:`MAX_MESSAGE`; a game whose socket
  closed is asked to save and quit, then stopped (SIGTERM, then SIGKILL) if it does not.
- **A quiet log**: the token never appears in it (the request log shows ``TOKEN``), and refusals
  are one short line each, at most :data:`REFUSALS_SHOWN` a minute.
- **Offline**: the page's font is the one textual-serve ships, not one fetched from the internet.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server

from engine.minds.factory import close_brains
from ttwood.serve_page import (
    MAX_COLUMNS,
    MAX_ROWS,
    MIN_COLUMNS,
    MIN_ROWS,
    TokenHidingAccessLog,
    bounded,
    host_name,
    is_loopback,
    page_template,
)

MAX_MESSAGE = 64 * 1024
"""Bytes of one WebSocket message from the page (keys, a paste, a resize)."""
GRACE = 10.0
"""Seconds a game has to save and quit after its socket closed, and again after SIGTERM."""
WAIT_FOR_PREVIOUS = 20.0
"""Seconds a page waits for the previous page's game to save and end (a reload) before it is refused."""
REFUSALS_SHOWN = 10
"""Refusals logged a minute; past that they are counted, and the count is logged."""


def _games(n: int) -> str:
    return f"{n} game" if n == 1 else f"{n} games"


@dataclass(frozen=True, slots=True)
class ServedGame:
    """What ``ttwood serve`` plays: the one save every page plays on, and what a second page open
    at the same time runs instead (``None``: it is refused)."""

    save: Path
    command: str
    """The ``ttwood play`` that goes on with :attr:`save`."""
    other_tab: str | None
    """A ``ttwood play`` that starts a new game (of the same scenario, brain and seed) in its own save."""


def served_game(game: str | None, brain: str, seed: int) -> ServedGame:
    """Open (or start, and save at turn 0) the game ``ttwood serve`` plays; refusals come here,
    with a clear message, rather than in every browser tab."""
    from ttwood.cli_play import as_save, open_session, tab_args

    session = open_session(game, brain, seed)
    try:
        if session.save_path is None:
            session.start_saving()
        save = session.save_path
        assert save is not None
    finally:
        session.close()
        close_brains({c.name: session.game.brain_of(c.name) for c in session.game.wood.creatures})  # each page loads its own
    fresh = None if as_save(game) else _command(tab_args(game, brain, seed))
    return ServedGame(save, _command(tab_args(str(save), brain, seed)), fresh)


def _command(args: list[str]) -> str:
    # exec: the shell becomes the game, so stopping the process stops the game
    return "exec " + " ".join(shlex.quote(a) for a in [sys.executable, "-m", "ttwood.cli", *args])


class GuardedServer(Server):
    """textual-serve's server behind a token, an Origin and Host check, and a session cap, playing
    one game (see the module's docstring)."""

    def __init__(self, game: ServedGame, *, host: str, port: int, title: str, max_sessions: int, token: str | None = None) -> None:
        super().__init__(game.command, host=host, port=port, title=title)
        self.game = game
        self.token = token or secrets.token_urlsafe(24)
        self.max_sessions = max_sessions
        self.sessions = 0
        """Games running."""
        self.waiting = 0
        """Pages waiting for the save's game to be free (a reload waits for the page before it)."""
        shown = "localhost" if host in ("0.0.0.0", "::", "") else host
        shown = f"[{shown}]" if ":" in shown else shown
        self.url = f"http://{shown}:{port}/?token={self.token}"
        """The link to open (printed at start)."""
        self.refused: list[str] = []
        """Why each refused request was refused (for the log and tests)."""
        self._logged: list[float] = []
        self._unlogged = 0
        self._save_state = "free"
        """The save's game: ``free``, ``playing`` (its page is open) or ``ending`` (saving and quitting)."""
        self._save_freed: asyncio.Event | None = None

    # ------------------------------------------------------------------ checks
    def _token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _host_ok(self, request: web.Request) -> bool:
        host = host_name(request.host or "")
        # (a name is not looked up: another site's name pointed at 127.0.0.1 is refused)
        return is_loopback(host, resolve=False) or host == host_name(self.host) or not is_loopback(self.host)

    def _origin_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: the token alone decides
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == (request.host or "").lower()

    def _refuse(self, request: web.Request, status: int, why: str) -> web.Response:
        self.refused.append(why)
        del self.refused[:-100]
        now = time.monotonic()
        self._logged = [t for t in self._logged if now - t < 60]
        if len(self._logged) < REFUSALS_SHOWN:
            self._logged.append(now)
            more = f" (and {self._unlogged} more refused in the last minute)" if self._unlogged else ""
            self._unlogged = 0
            path = request.path.replace(self.token, "TOKEN")[:80]
            self.console.print(f"[yellow]refused[/] {request.method} {path}: {why}{more}", markup=True, highlight=False)
        else:
            self._unlogged += 1
        return web.Response(status=status, text=f"{why}\n")

    # ------------------------------------------------------------------ routes
    async def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_MESSAGE)
        aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"app_index.html": page_template(Path(self.templates_path))}))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws/{token}", self.handle_websocket, name="websocket"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if not self._host_ok(request):
            return self._refuse(request, 403, "this server is not served under that host name")
        if not self._token_ok(request.query.get("token")):
            return self._refuse(request, 403, "the link needs its token (printed by `ttwood serve` when it started)")
        return await self._index(request)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        scheme = "wss" if request.secure else "ws"
        base = f"{request.scheme}://{request.host}"
        context: dict[str, Any] = {
            "font_size": 16,
            "app_websocket_url": f"{scheme}://{request.host}{request.app.router['websocket'].url_for(token=self.token)}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
        response.headers["Cache-Control"] = "no-store"
        return response

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override] # refusals are plain responses
        if not self._token_ok(request.match_info.get("token")):
            return self._refuse(request, 403, "wrong token")
        if not self._host_ok(request):
            return self._refuse(request, 403, "this server is not served under that host name")
        if not self._origin_ok(request):
            return self._refuse(request, 403, f"a page from {str(request.headers.get('Origin'))[:80]} may not drive this game")
        if self.waiting >= self.max_sessions:
            return self._refuse(request, 503, "too many pages are waiting to open the game")
        self.waiting += 1
        try:
            mine = await self._claim_save()  # a reload waits here for the page before it to save and end
        finally:
            self.waiting -= 1
        try:
            if not mine and self.game.other_tab is None:
                return self._refuse(request, 409, f"{self.game.save.name} is open in another tab; close it there first")
            if self.sessions >= self.max_sessions:
                return self._refuse(request, 503, f"already {_games(self.max_sessions)} open (--max-sessions); close one first")
            self.sessions += 1
            try:
                return await self._play(request, self.game.command if mine else str(self.game.other_tab), mine)
            finally:
                self.sessions -= 1
        finally:
            if mine:
                self._free_save()

    # ------------------------------------------------------------------ the save's one game
    async def _claim_save(self) -> bool:
        """Take the save for this page: at once when it is free; after the previous page's game
        has saved and ended (a reload); ``False`` when another page plays it."""
        if self._save_freed is None:
            self._save_freed = asyncio.Event()
            self._save_freed.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_PREVIOUS
        while True:
            if self._save_state == "free":
                self._save_state = "playing"
                self._save_freed.clear()
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            if self._save_state == "ending":
                await asyncio.wait([asyncio.ensure_future(self._save_freed.wait())], timeout=left + 2 * GRACE)
            elif left < WAIT_FOR_PREVIOUS - 3:  # still playing after 3 s: another tab, not a reload
                return False
            else:
                await asyncio.sleep(0.1)

    def _free_save(self) -> None:
        self._save_state = "free"
        if self._save_freed is not None:
            self._save_freed.set()

    async def _play(self, request: web.Request, command: str, mine: bool) -> web.WebSocketResponse:
        """Run one game for one page, as textual-serve does, within bounds; it ends with its socket."""
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        width = bounded(request.query.get("width"), MIN_COLUMNS, MAX_COLUMNS, 80)
        height = bounded(request.query.get("height"), MIN_ROWS, MAX_ROWS, 24)
        service: AppService | None = None
        try:
            await websocket.prepare(request)

            async def close() -> None:
                await websocket.close()

            service = AppService(command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                                 close=close, download_manager=self.download_manager, debug=self.debug)
            await service.start(width, height)
            await self._relay(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as exc:  # a page that sent garbage: its game ends, the server goes on
            self.console.print(f"[yellow]a page's connection failed:[/] {type(exc).__name__}: {str(exc)[:200]}", highlight=False)
        finally:
            if mine:
                self._save_state = "ending"
            if service is not None:
                await self._end(service)
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, service: AppService) -> None:
        """Pass the page's keys and sizes to its game (sizes held to the bounds)."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            envelope = message.json()
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(bounded(data.get("width"), MIN_COLUMNS, MAX_COLUMNS, 80),
                                                bounded(data.get("height"), MIN_ROWS, MAX_ROWS, 24))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def _end(self, service: AppService) -> None:
        """Ask the game to save and quit; stop it if it has not within :data:`GRACE` seconds."""
        try:
            await asyncio.wait_for(service.stop(), GRACE)
            return
        except (TimeoutError, asyncio.CancelledError):
            pass
        process = service._process
        if process is None or process.returncode is not None:
            return
        self.console.print("[yellow]a game did not quit when its page closed: stopping it[/]")
        process.terminate()  # SIGTERM: the game saves and quits
        try:
            await asyncio.wait_for(process.wait(), GRACE)
        except TimeoutError:
            process.kill()
            await process.wait()

    # ------------------------------------------------------------------ running
    def access_log(self) -> type[AbstractAccessLogger]:
        """The request log, the token hidden."""
        return type("AccessLog", (TokenHidingAccessLog,), {"token": self.token})

    def serve(self, debug: bool = False) -> None:
        """Serve until Ctrl+C (or SIGTERM), as textual-serve does, with this request log."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    print=lambda *args: None, access_log_class=self.access_log())

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"Serving Thousand Token Wood on {self.host}:{self.port} (at most {_games(self.max_sessions)} at once)")
        self.console.print(f"The game is saved in {self.game.save}: every page (and every reload) plays on in it.",
                           soft_wrap=True, markup=False, highlight=False)
        self.console.print(f"Open this link (it holds the secret token):\n    [bold]{self.url}[/]", soft_wrap=True)
        if not is_loopback(self.host):
            self.console.print(
                f"[bold red]warning:[/] --host {self.host} is not loopback: anyone who can reach this machine and has "
                "the link can play, and the connection is not encrypted (plain http)."
            )
        self.console.print("[cyan]Press Ctrl+C to quit")
