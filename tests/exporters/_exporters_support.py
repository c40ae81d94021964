"""Helpers for the exporter suite: unreachable endpoints, deadlines, span files."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphflow import node


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class BlackHole:
    """A TCP server on 127.0.0.1 that accepts, reads everything and never answers."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            self._conns.append(conn)
            reader = threading.Thread(target=self._swallow, args=(conn,), daemon=True)
            self._threads.append(reader)
            reader.start()

    def _swallow(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set() and conn.recv(65536):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._server.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked in recv()
            conn.close()
        for thread in self._threads:
            thread.join(5)


def finishes_within(seconds: float, call: Callable[[], Any]) -> Any:
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it takes longer."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it hangs"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def file_spans(path: Path) -> list[dict[str, Any]]:
    """Every span in an OTLP/JSON lines file, with its resource attributes under ``resource``."""
    spans = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            resource = {
                a["key"]: next(iter(a["value"].values()))
                for a in resource_spans["resource"]["attributes"]
            }
            for scope in resource_spans["scopeSpans"]:
                for span in scope["spans"]:
                    spans.append({**span, "resource": resource})
    return spans
