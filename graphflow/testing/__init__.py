"""Test helpers for graphflow users: in-memory trace capture and trace-tree assertions."""

__all__: list[str] = []
