"""The money every wood shares."""

PEBBLES = "pebbles"
"""The money: every price and loan is in pebbles."""
