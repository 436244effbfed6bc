"""Reusable widgets of the wood's screens; each carries its own DEFAULT_CSS."""
