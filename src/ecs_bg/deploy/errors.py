"""The one error type the deploy package raises for bad input, so a CLI can print it as one line."""

from __future__ import annotations


class DefinitionError(Exception):
    """The ecspresso files, the outputs they read, or the environment cannot produce a definition."""
