"""Checkpointers that persist run state so a paused or failed run can resume."""

__all__: list[str] = []
