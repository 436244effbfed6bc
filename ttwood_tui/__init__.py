"""The terminal UI (Textual). It drives the engine through one small facade; the engine never imports it."""
