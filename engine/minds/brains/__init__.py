"""Brains decide for creatures. The orchestrator only knows the :class:`~engine.turn.brain.Brain` protocol."""
