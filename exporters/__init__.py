"""Exporter wiring that sends graphflow telemetry out of the process (OTLP, console, JSONL)."""

__all__: list[str] = []
