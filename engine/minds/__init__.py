"""Minds decide for creatures: the legal choices (rendered as a grammar and a JSON Schema), prompts,
and the brains (scripted, llama.cpp, HTTP, human)."""
