"""Brains decide for creatures. The orchestrator only knows the :class:`~engine.brains.base.Brain` protocol."""
