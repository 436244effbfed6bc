"""Thousand Token Wood's engine: the whole game without a screen.

Rules, the orchestrator, brains and scenarios live here. Nothing in this package imports the
terminal UI.
"""

__version__ = "0.1.0"
