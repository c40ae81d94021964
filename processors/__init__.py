"""Event processors that turn graphflow events into OpenTelemetry spans and Prometheus metrics."""

__all__: list[str] = []
