"""The engine has no screen: importing and playing it works with Textual impossible to import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


@pytest.mark.slow
def test_engine_and_session_work_with_textual_blocked() -> None:
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "textual" or name.startswith(("textual.", "ttwood_tui")):
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import engine
        for m in pkgutil.walk_packages(engine.__path__, "engine."):
            try:
                importlib.import_module(m.name)
            except ImportError as exc:
                if "blocked" in str(exc):
                    raise SystemExit(f"{m.name} imports the UI: {exc}")
                # Optional backends (a model runtime that is not installed) may be missing here.
        from engine.session import Session, lend
        from engine.elders.scripted import ScriptedBrain
        s = Session.new(None, lambda sc: ScriptedBrain(), 3)
        s.player.patron_act(lend("Clover", 10, 1, 3))
        for _ in range(3):
            s.step()
        assert s.turn == 3 and s.game.conservation()[0]
        assert not any(k == "textual" or k.startswith("textual.") for k in sys.modules)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.strip() == "ok"
