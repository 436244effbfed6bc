"""Bundled scenarios: TOML files that ship inside the installed package (as ``ttwood_scenarios``)."""
