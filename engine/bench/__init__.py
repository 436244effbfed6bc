"""Benchmarks: the engine alone and the model brains, naive against optimized."""
