"""Serve a Prometheus registry over HTTP (``/metrics``), loopback only unless asked otherwise.

A thin handle over ``prometheus_client.start_http_server``: the client negotiates the format
per request, so a scraper asking for ``Accept: application/openmetrics-text`` gets OpenMetrics
(the only format that carries exemplars, which link latency histograms to traces) and anything
else gets the classic text format.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from graphflow._optional import require

if TYPE_CHECKING:
    from types import TracebackType

    from prometheus_client import CollectorRegistry

__all__ = ["MetricsServer", "serve_metrics"]


class MetricsServer:
    """A running metrics endpoint; ``close()`` stops it (idempotent).

    Attributes:
        addr: the address it is bound to.
        port: the port it listens on (the real one when 0 was asked for).
        url: ``http://{addr}:{port}/metrics``.

    Example:
        >>> with serve_metrics(0) as server:
        ...     print(server.url)  # scrape it while the block runs
        http://127.0.0.1:54321/metrics
    """

    def __init__(self, httpd: Any, thread: threading.Thread, addr: str) -> None:
        self._httpd = httpd
        self._thread = thread
        self._lock = threading.Lock()
        self._closed = False
        self.addr = addr
        self.port: int = int(httpd.server_address[1])
        host = f"[{addr}]" if ":" in addr else addr
        self.url = f"http://{host}:{self.port}/metrics"

    def __repr__(self) -> str:
        return f"MetricsServer({self.url!r}, closed={self._closed})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving, release the port and join the server thread (at most ``timeout`` s)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._httpd.shutdown()  # returns once serve_forever() has left its loop
        self._httpd.server_close()
        self._thread.join(timeout)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def serve_metrics(
    port: int, *, addr: str = "127.0.0.1", registry: CollectorRegistry | None = None
) -> MetricsServer:
    """Serve ``registry`` at ``http://{addr}:{port}/metrics`` from a daemon thread.

    Binds the loopback interface by default, so the metrics are not reachable from other
    machines; pass ``addr="0.0.0.0"`` (or ``"::"``) to opt in when a remote Prometheus must
    scrape this process.

    Args:
        port: the TCP port; 0 picks a free one (read it from ``MetricsServer.port``).
        addr: the address to bind.
        registry: the registry to expose; ``None`` for ``prometheus_client``'s default one.

    Raises:
        MissingDependencyError: ``prometheus_client`` is not installed (extra ``prometheus``).
        OSError: the port is taken or the address cannot be bound.

    Example:
        >>> server = serve_metrics(9464)
        >>> server.url
        'http://127.0.0.1:9464/metrics'
        >>> server.close()
    """
    prom = require("prometheus_client", "prometheus", "serve_metrics")
    httpd, thread = prom.start_http_server(
        port, addr=addr, registry=prom.REGISTRY if registry is None else registry
    )
    return MetricsServer(httpd, thread, addr)
