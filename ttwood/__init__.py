"""The ``ttwood`` command line."""
