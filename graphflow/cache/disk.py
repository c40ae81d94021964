"""A cache on disk, shared by processes, with signed entries.

Entries are ``HMAC-SHA256 signature + pickle``. The signature covers the entry's
key and payload and uses a 32-byte secret kept in ``graphflow-cache.key`` inside
the cache directory (mode 0o600). An entry whose signature does not match is
never unpickled: unpickling runs code, so a writable cache directory must not
become a way to run code in every process that reads it. This protects against
writers that cannot read the key file (and against entries copied from another
cache); anyone who can read the key file can forge entries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import secrets
import sqlite3
import stat
import threading
import time
from types import TracebackType
from typing import Any

import diskcache  # type: ignore[import-untyped]  # diskcache ships no type hints or stubs

from graphflow.cache.base import Cache
from graphflow.exceptions import GraphConfigError, GraphflowError

__all__ = ["KEY_FILE_NAME", "DiskCache"]

logger = logging.getLogger("graphflow")

KEY_FILE_NAME = "graphflow-cache.key"
_SECRET_SIZE = 32
_SIGNATURE_SIZE = hashlib.sha256().digest_size
# How long to wait for another process that created the key file to finish writing it.
_KEY_WAIT_SECONDS = 1.0
_BAD_SIGNATURE = "its signature did not match (it was tampered with or written with another key)"
_MISSING = object()
_FOREIGN = object()
# Failures of the store itself: a cache that cannot be read or written is a miss, not an error.
_STORE_ERRORS = (OSError, sqlite3.Error, diskcache.Timeout)


class _NoPickleDisk(diskcache.Disk):  # type: ignore[misc]  # diskcache is untyped: Disk is Any
    """A diskcache ``Disk`` that never unpickles a stored value.

    DiskCache only stores bytes. A value diskcache would unpickle was written by
    something else, and unpickling it before we can check a signature could run code.
    """

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_PICKLE:
            return _FOREIGN
        return super().fetch(mode, filename, value, read)


class DiskCache(Cache):
    """A persistent cache in a directory, shared by threads and processes.

    Built on the ``diskcache`` library (SQLite plus files). Values are pickled
    and signed; values that cannot be pickled are skipped (logged at debug
    level). An entry that is tampered with, truncated, written with another key
    file, or not written by ``DiskCache`` is a miss, with one warning per
    instance and key on the ``graphflow`` logger; it is never unpickled.

    Args:
        path: the cache directory, created if missing. ``~`` is expanded.
        size_limit: the most bytes kept on disk before the oldest stored
            entries are evicted. ``None`` keeps the directory's current limit
            (diskcache's default, 1 GiB, for a new directory).

    Raises:
        GraphConfigError: ``size_limit`` is not a positive int or ``None``.
        GraphflowError: the key file exists but is not a 32-byte key.

    Example:
        >>> import tempfile
        >>> with DiskCache(tempfile.mkdtemp()) as cache:
        ...     cache.set("k", {"answer": 42})
        ...     cache.get("k")
        (True, {'answer': 42})
    """

    def __init__(self, path: str | os.PathLike[str], *, size_limit: int | None = None) -> None:
        if size_limit is not None and (
            not isinstance(size_limit, int) or isinstance(size_limit, bool) or size_limit < 1
        ):
            raise GraphConfigError(
                f"DiskCache(size_limit={size_limit!r}): size_limit must be a positive int "
                "or None. How to fix: pass a number of bytes (for example size_limit=2**30), "
                "or None to keep the directory's current limit."
            )
        settings = {} if size_limit is None else {"size_limit": size_limit}
        self._cache = diskcache.Cache(os.fspath(path), disk=_NoPickleDisk, **settings)
        self._path: str = self._cache.directory
        try:
            self._secret = _load_or_create_secret(os.path.join(self._path, KEY_FILE_NAME))
        except BaseException:
            self._cache.close()
            raise
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        """The cache directory (with ``~`` expanded)."""
        return self._path

    def get(self, key: str) -> tuple[bool, Any]:
        """Look a key up, checking the entry's signature before unpickling it.

        Args:
            key: the entry's key.

        Returns:
            ``(True, value)`` on a hit; ``(False, None)`` on a miss, including
            entries that fail the signature check or cannot be unpickled.
        """
        try:
            entry = self._cache.get(key, default=_MISSING)
        except _STORE_ERRORS as exc:
            self._log(logging.WARNING, key, f"not read ({exc!r}); treating it as a miss")
            return (False, None)
        if entry is _MISSING:
            return (False, None)
        if not isinstance(entry, bytes) or len(entry) < _SIGNATURE_SIZE:
            self._warn_once(key, _BAD_SIGNATURE)
            return (False, None)
        signature, payload = entry[:_SIGNATURE_SIZE], entry[_SIGNATURE_SIZE:]
        if not hmac.compare_digest(signature, self._sign(key, payload)):
            self._warn_once(key, _BAD_SIGNATURE)
            return (False, None)
        try:
            value = pickle.loads(payload)
        except Exception as exc:  # e.g. its class no longer exists: recompute instead
            self._warn_once(key, f"it could not be unpickled ({exc!r})")
            return (False, None)
        return (True, value)

    def set(self, key: str, value: Any) -> None:
        """Pickle, sign and store a value; skip it if it cannot be pickled.

        Args:
            key: the entry's key.
            value: the value to store.
        """
        try:
            payload = pickle.dumps(value, protocol=5)
        except Exception as exc:  # unpicklable values are simply not cached, by contract
            self._log(logging.DEBUG, key, f"not cached: its value cannot be pickled ({exc!r})")
            return
        try:
            self._cache.set(key, self._sign(key, payload) + payload)
        except _STORE_ERRORS as exc:
            self._log(logging.WARNING, key, f"not written ({exc!r})")

    def clear(self) -> None:
        """Remove every entry (the key file stays)."""
        self._cache.clear()
        with self._lock:
            self._warned.clear()

    def close(self) -> None:
        """Close the database connections. Using the cache again reopens them."""
        self._cache.close()

    def __enter__(self) -> DiskCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._cache)

    def __repr__(self) -> str:
        return f"DiskCache({self._path!r})"

    def _sign(self, key: str, payload: bytes) -> bytes:
        # The key is signed too, so a valid entry moved under another key is a miss.
        encoded = key.encode("utf-8", "surrogatepass")
        mac = hmac.new(self._secret, len(encoded).to_bytes(8, "big"), hashlib.sha256)
        mac.update(encoded)
        mac.update(payload)
        return mac.digest()

    def _warn_once(self, key: str, reason: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        self._log(logging.WARNING, key, f"ignored because {reason}; it will be recomputed")

    def _log(self, level: int, key: str, what: str) -> None:
        logger.log(level, "graphflow cache %s: the entry for key %s was %s.", self._path, key, what)


def _load_or_create_secret(key_path: str) -> bytes:
    """Read the cache's secret key, creating it (mode 0o600) if it does not exist."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(key_path, flags, 0o600)
    except FileExistsError:  # made earlier, or by another process right now
        return _read_secret(key_path)
    secret = secrets.token_bytes(_SECRET_SIZE)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secret)
    except BaseException:
        os.unlink(key_path)  # a half-written key would break every later open
        raise
    return secret


def _read_secret(key_path: str) -> bytes:
    """Read an existing key file, waiting briefly if its creator is still writing it."""
    deadline = time.monotonic() + _KEY_WAIT_SECONDS
    while True:
        with open(key_path, "rb") as file:
            secret = file.read(_SECRET_SIZE + 1)
            mode = os.fstat(file.fileno()).st_mode
        if len(secret) == _SECRET_SIZE:
            break
        if len(secret) > _SECRET_SIZE or time.monotonic() >= deadline:
            raise GraphflowError(
                f"The cache key file {key_path} holds {len(secret)} bytes, expected "
                f"{_SECRET_SIZE}. How to fix: delete it; a new key is created on the next open "
                "and entries signed with the old key become misses."
            )
        time.sleep(0.01)
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        logger.warning(
            "graphflow cache key file %s is readable or writable by other users "
            "(mode %o), who could forge cache entries. How to fix: chmod 600 %s",
            key_path,
            stat.S_IMODE(mode),
            key_path,
        )
    return secret
