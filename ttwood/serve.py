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
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _games(n: int) -> str:
    return f"{n} game" if n == 1 else f"{n} games"


def is_loopback(host: str, *, resolve: bool = True) -> bool:
    """Whether ``host`` (a name or an address) is this machine only (names looked up if ``resolve``)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        if not resolve:
            return False
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


class GuardedServer(Server):
    """textual-serve's server behind a token, an Origin and Host check, and a session cap."""

    def __init__(self, command: str, *, host: str, port: int, title: str, max_sessions: int, token: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.token = token or secrets.token_urlsafe(24)
        self.max_sessions = max_sessions
        self.sessions = 0
        shown = "localhost" if host in ("0.0.0.0", "::", "") else host
        self.url = f"http://{shown}:{port}/?token={self.token}"
        """The link to open (printed at start)."""
        self.refused: list[str] = []
        """Why each refused request was refused (for the log and tests)."""

    # ------------------------------------------------------------------ checks
    def _token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _host_ok(self, request: web.Request) -> bool:
        host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
        # (a name is not looked up: another site's name pointed at 127.0.0.1 is refused)
        return is_loopback(host, resolve=False) or host == self.host.strip("[]").lower() or not is_loopback(self.host)

    def _origin_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: the token alone decides
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == (request.host or "").lower()

    def _refuse(self, request: web.Request, status: int, why: str) -> web.Response:
        self.refused.append(why)
        self.console.print(f"[yellow]refused[/] {request.method} {request.path}: {why}")
        return web.Response(status=status, text=f"{why}\n")

    # ------------------------------------------------------------------ routes
    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
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
            return self._refuse(request, 403, f"a page from {request.headers.get('Origin')} may not drive this game")
        if self.sessions >= self.max_sessions:
            return self._refuse(request, 503, f"already {_games(self.max_sessions)} open (--max-sessions); close one first")
        self.sessions += 1
        try:
            response: web.StreamResponse = await super().handle_websocket(request)
            return response
        finally:
            self.sessions -= 1

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"Serving Thousand Token Wood on {self.host}:{self.port} (at most {_games(self.max_sessions)} at once)")
        self.console.print(f"Open this link (it holds the secret token):\n    [bold]{self.url}[/]", soft_wrap=True)
        if not is_loopback(self.host):
            self.console.print(
                f"[bold red]warning:[/] --host {self.host} is not loopback: anyone who can reach this machine and has "
                "the link can play, and the connection is not encrypted (plain http)."
            )
        self.console.print("[cyan]Press Ctrl+C to quit")

