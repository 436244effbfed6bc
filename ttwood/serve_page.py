"""What ``ttwood serve``'s guard checks and the page it serves: host names and loopback, the
bounds on a page's terminal, the page itself (textual-serve's, with its font served locally), and
the request log with the token hidden."""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
MAX_COLUMNS, MAX_ROWS = 640, 240
"""The largest terminal a page may ask for (a 4K screen at a small font is about 480×135)."""
MIN_COLUMNS, MIN_ROWS = 20, 8
REFUSED = (403, 409, 503)
"""The statuses of refusals (logged by the guard, not the request log)."""
_FONT_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.DOTALL)
_OWN_FONT = """<style>
      @font-face { font-family: "Roboto Mono"; src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf"); }
      @font-face { font-family: "Roboto Mono"; font-style: italic;
                   src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf"); }
    </style>"""


def bounded(value: str | int | float | None, low: int, high: int, default: int) -> int:
    """A terminal dimension from the page, held between ``low`` and ``high``."""
    try:
        n = int(value) if value is not None else default
    except (TypeError, ValueError, OverflowError):
        n = default
    return max(low, min(high, n))


def host_name(header: str) -> str:
    """The name in a Host header, without its port or an IPv6 address's brackets, lowercased:
    ``[::1]:8000`` and ``[::1]`` give ``::1``, ``localhost:8000`` gives ``localhost``."""
    header = header.strip().lower()
    if header.startswith("["):
        inside, _, rest = header[1:].partition("]")
        return inside if rest == "" or re.fullmatch(r":\d{1,5}", rest) else header
    if header.count(":") == 1:
        return header.partition(":")[0]
    return header  # a bare name, or a bare IPv6 address without brackets


def page_template(templates: Path) -> str:
    """textual-serve's page, its Google font replaced by the copy textual-serve ships."""
    text = (templates / "app_index.html").read_text(encoding="utf-8")
    return _FONT_LINK.sub(_OWN_FONT, text)


class TokenHidingAccessLog(AbstractAccessLogger):
    """One line per request served, with the secret token replaced by ``TOKEN`` (a refused
    request has its own line, :meth:`GuardedServer._refuse`, at most so many a minute)."""

    token = ""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if response.status in REFUSED:
            return
        path = request.path_qs
        if self.token:
            path = path.replace(self.token, "TOKEN")
        self.logger.info('%s "%s %s" %s', request.remote, request.method, path[:200], response.status)


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
