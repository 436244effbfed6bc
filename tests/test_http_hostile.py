"""The HTTP brain against a hostile OpenAI-compatible server on loopback (127.0.0.1 only).

The server is real (a threaded ``http.server`` on a free port) and misbehaves in one way per
path: HTML instead of JSON, a number or an object as the content, a 20 MB answer, headers then
one byte a second, silence, 429/503 with ``Retry-After``, errors. Every malformed answer must be
a refused action with a reason; the turn's deadline holds however the server stalls; nothing
ends in a traceback.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.elders.scripted import ScriptedBrain
from engine.minds.brains.http import HTTPBrain
from engine.minds.brains.http_wire import answer_cap, retry_after
from engine.turn.game import Game
from engine.turn.observe import observe_all
from engine.turn.progress import Progress, Watch, watching

GOOD = json.dumps({"thinking": "calm", "actions": [{"type": "note", "text": "the server answered"}]})
HUGE = 20 * 1024 * 1024


def _reply(content: Any) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}],
                       "usage": {"prompt_tokens": 100, "completion_tokens": 20}}).encode()


class Hostile(BaseHTTPRequestHandler):
    """Misbehaves as its path says: ``/MODE/v1/chat/completions``."""

    hits: Counter[str] = Counter()
    stop = threading.Event()

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: C901 - one branch per misbehaviour
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mode = self.path.split("/")[1]
        Hostile.hits[mode] += 1
        n = Hostile.hits[mode]
        if mode == "ok":
            self._send(200, _reply(GOOD))
        elif mode == "html":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif mode == "number":
            self._send(200, _reply(42))
        elif mode == "object":
            self._send(200, _reply({"actions": []}))
        elif mode == "no-choices":
            self._send(200, b'{"choices": []}')
        elif mode == "not-json":
            self._send(200, b"{'choices': oops")
        elif mode == "error":
            self._send(500, b'{"error": "boom"}')
        elif mode == "key":
            self._send(401, b'{"error": "no"}')
        elif mode == "long":  # a legal shape, 69,000 characters (~23,000 tokens), under the byte cap, usage a lie
            long = json.dumps({"thinking": "x" * 69_000, "actions": [{"type": "note", "text": "long"}]})
            self._send(200, _reply(long))
        elif mode == "overcount":  # a short answer the server says took 100,000 tokens
            self._send(200, json.dumps({"choices": [{"message": {"content": GOOD}}],
                                        "usage": {"prompt_tokens": 100, "completion_tokens": 100_000}}).encode())
        elif mode == "huge":  # 20 MB, its length declared
            self._send(200, _reply("x" * HUGE))
        elif mode == "huge-chunked":  # 20 MB, its length not declared: only reading finds out
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(b'{"choices": [{"message": {"content": "')
                for _ in range(HUGE // 65536):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass  # the client hung up, as it should
        elif mode in ("drip", "silent"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            if mode == "drip":
                self.end_headers()
            try:
                while not Hostile.stop.wait(1.0 if mode == "drip" else 0.1):
                    if mode == "drip":
                        self.wfile.write(b" ")
                        self.wfile.flush()
            except OSError:
                pass
        elif mode == "busy":  # twice busy for every request, then an answer
            if n % 3:
                self._send(429 if n % 3 == 1 else 503, b"{}", Retry_After="0.2")
            else:
                self._send(200, _reply(GOOD))
        elif mode == "busy-long":
            self._send(503, b"{}", Retry_After="3600")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        Hostile.stop.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def wood() -> tuple[scenarios.Scenario, list[Any]]:
    sc, _ = scenarios.load(None)
    game = Game(sc, 3, ScriptedBrain())
    return sc, observe_all(game.wood, game.wood.alive()[:2], {})


def _decide(server: str, wood: tuple[scenarios.Scenario, list[Any]], mode: str, timeout: float = 30.0) -> list[Any]:
    sc, obs = wood
    brain = HTTPBrain(sc, f"{server}/{mode}/v1", "m", server="openai", timeout=timeout)
    return brain.decide(obs)


def test_a_good_answer_is_taken(server: str, wood: tuple[scenarios.Scenario, list[Any]]) -> None:
    answers = _decide(server, wood, "ok")
    assert [a.actions[0].text for a in answers] == ["the server answered"] * 2
    assert answers[0].meta["prompt_tokens"] == 100 and answers[0].meta["answer_tokens"] == 20


def test_a_watched_turn_hears_each_creature_done_as_its_answer_comes(server: str, wood: tuple[scenarios.Scenario, list[Any]]) -> None:
    obs = wood[1]
    heard: list[tuple[Progress, ...]] = []
    watch = Watch(heard.append)
    watch.waiting(o.name for o in obs)
    with watching(watch):
        _decide(server, wood, "ok")
    done = [sum(p.state == "done" for p in snap) for snap in heard]
    assert done == [0, 1, 2], "one creature at a time, each as its answer came"
    assert all(p.tokens == 20 and p.thought == "calm" for p in heard[-1])


@pytest.mark.parametrize(("mode", "reason"), [
    ("html", "answered text/html, not JSON"),
    ("number", "wrong shape (choices.0.message.content: Input should be a valid string)"),
    ("object", "wrong shape (choices.0.message.content: Input should be a valid string)"),
    ("no-choices", "wrong shape (choices: List should have at least 1 item"),
    ("not-json", "is not JSON"),
    ("error", "answered HTTP 500"),
    ("huge", "more than the"),
    ("huge-chunked", "longer than the"),
    ("long", "69,063 characters (about 23,021 tokens), more than its allowance of"),
    ("overcount", "the server says the answer took 100,000 tokens, more than its allowance of"),
])
def test_a_malformed_answer_is_a_refused_action_with_a_reason(
    server: str, wood: tuple[scenarios.Scenario, list[Any]], mode: str, reason: str
) -> None:
    t0 = time.monotonic()
    answers = _decide(server, wood, mode)
    assert time.monotonic() - t0 < 15.0  # refused as soon as it is seen, not at the 30 s deadline
    for a in answers:
        assert a.actions == [] and not a.raw  # nothing of it reaches the tape
        assert len(a.problems) == 1 and reason in a.problems[0], a.problems


@pytest.mark.parametrize("mode", ["drip", "silent"])
def test_a_stalling_server_costs_the_deadline_once_then_a_clear_error(
    server: str, wood: tuple[scenarios.Scenario, list[Any]], mode: str
) -> None:
    t0 = time.monotonic()
    with pytest.raises(TTWoodError, match=r"gave no answer within the turn's deadline of 3 s \(--timeout\)"):
        _decide(server, wood, mode, timeout=3)
    # One deadline for the whole turn: not one per request, nor one per retry.
    assert 2.9 < time.monotonic() - t0 < 6.0


def test_busy_answers_are_retried_after_retry_after(server: str, wood: tuple[scenarios.Scenario, list[Any]]) -> None:
    before = Hostile.hits["busy"]
    answers = _decide(server, wood, "busy")
    assert all(a.actions and a.actions[0].text == "the server answered" for a in answers), [a.problems for a in answers]
    assert Hostile.hits["busy"] - before == 6  # 429, 503, then the answer, for each of the two


def test_busy_past_the_deadline_is_refused_without_waiting(server: str, wood: tuple[scenarios.Scenario, list[Any]]) -> None:
    t0 = time.monotonic()
    with pytest.raises(TTWoodError, match="no answer within the turn's deadline"):
        _decide(server, wood, "busy-long", timeout=30)  # Retry-After: 3600
    assert time.monotonic() - t0 < 15.0


def test_a_refused_key_is_a_clear_error(server: str, wood: tuple[scenarios.Scenario, list[Any]]) -> None:
    with pytest.raises(TTWoodError, match="refused the API key"):
        _decide(server, wood, "key")


def test_no_server_is_a_clear_error(wood: tuple[scenarios.Scenario, list[Any]]) -> None:
    with pytest.raises(TTWoodError, match="cannot reach the model server"):
        _decide("http://127.0.0.1:9", wood, "x")


def test_the_cap_leaves_room_for_the_longest_legal_answer() -> None:
    assert answer_cap(1000) > 1000 * 100
    assert answer_cap(1000) < HUGE // 50


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("2") == 2.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_game_plays_on_through_a_server_that_answers_html(server: str) -> None:
    """Through the command: every creature's answer refused each turn, the game goes on, no traceback."""
    from typer.testing import CliRunner

    from ttwood.cli import app

    result = CliRunner().invoke(app, ["run", "--turns", "2", "--brain", "http", "--model", "m", "--server", "openai",
                                      "--base-url", f"{server}/html/v1", "--timeout", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["valid_actions"] == 0 and data["totals"]["rejected_actions"] >= 2
