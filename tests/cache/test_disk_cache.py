"""DiskCache: persistence, signed entries, the key file, and misses instead of errors."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import diskcache  # type: ignore[import-untyped]  # diskcache ships no type hints or stubs
import pytest

from graphflow.cache import Cache, DiskCache
from graphflow.cache import disk as disk_module
from graphflow.exceptions import GraphConfigError, GraphflowError

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY_FILE = "graphflow-cache.key"


class _TouchOnUnpickle:
    """Unpickling this creates ``marker``: proof that a payload was (or was not) unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path.touch, (self.marker,))


def _fail_on_load() -> None:
    raise RuntimeError("cannot rebuild this value")


class _FailsOnUnpickle:
    def __reduce__(self) -> Any:
        return (_fail_on_load, ())


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def _ignored_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "graphflow" and r.levelno == logging.WARNING and "ignored" in r.getMessage()
    ]


@pytest.fixture
def cache(tmp_path: Path) -> Any:
    with DiskCache(tmp_path / "cache") as opened:
        yield opened


def test_disk_cache_is_a_cache(cache: DiskCache) -> None:
    assert isinstance(cache, Cache)


def test_miss_then_hit(cache: DiskCache) -> None:
    assert cache.get("k") == (False, None)
    cache.set("k", {"a": [1, 2.5, "x"]})
    assert cache.get("k") == (True, {"a": [1, 2.5, "x"]})
    assert len(cache) == 1


def test_stored_none_is_a_hit(cache: DiskCache) -> None:
    cache.set("k", None)
    assert cache.get("k") == (True, None)


def test_large_values_round_trip(cache: DiskCache) -> None:
    big = b"x" * 200_000  # above diskcache's 32 KiB threshold: stored in a separate file
    cache.set("big", big)
    assert cache.get("big") == (True, big)


def test_clear_and_len(cache: DiskCache) -> None:
    cache.set("a", 1)
    cache.set("b", 2)
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0
    assert cache.get("a") == (False, None)
    assert (Path(cache.path) / KEY_FILE).exists()


def test_path_property_and_context_manager(tmp_path: Path) -> None:
    with DiskCache(tmp_path / "c") as cache:
        assert cache.path == str(tmp_path / "c")
        assert repr(cache) == f"DiskCache({str(tmp_path / 'c')!r})"


def test_persists_across_instances(tmp_path: Path) -> None:
    with DiskCache(tmp_path) as first:
        first.set("k", (1, "two"))
    with DiskCache(tmp_path) as second:
        assert second.get("k") == (True, (1, "two"))


def test_persists_across_processes(tmp_path: Path) -> None:
    _run(
        "from graphflow.cache import DiskCache\n"
        f"with DiskCache({str(tmp_path)!r}) as c:\n"
        "    c.set('from-child', {'n': 1})\n"
    )
    with DiskCache(tmp_path) as cache:
        assert cache.get("from-child") == (True, {"n": 1})
        cache.set("from-parent", [3, 4])
    out = _run(
        "from graphflow.cache import DiskCache\n"
        f"with DiskCache({str(tmp_path)!r}) as c:\n"
        "    print(c.get('from-parent'))\n"
    )
    assert out == "(True, [3, 4])"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_key_file_is_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # the 0o600 must come from os.open, not from a friendly umask
    try:
        DiskCache(tmp_path).close()
    finally:
        os.umask(old_umask)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32


def test_key_file_is_reused_not_replaced(tmp_path: Path) -> None:
    DiskCache(tmp_path).close()
    key = (tmp_path / KEY_FILE).read_bytes()
    DiskCache(tmp_path).close()
    assert (tmp_path / KEY_FILE).read_bytes() == key


def test_instances_opened_at_once_share_one_key(tmp_path: Path) -> None:
    directory = tmp_path / "fresh"
    barrier = threading.Barrier(8)
    caches: list[DiskCache] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def open_and_write(n: int) -> None:
        try:
            barrier.wait()
            opened = DiskCache(directory)
            opened.set(f"k{n}", n)
            with lock:
                caches.append(opened)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for opened in caches:  # every instance verifies every other instance's signature
        assert [opened.get(f"k{n}") for n in range(8)] == [(True, n) for n in range(8)]
        opened.close()


def test_waits_for_a_key_file_still_being_written(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE
    key_file.touch(mode=0o600)  # another process created it and has not written yet
    writer = threading.Timer(0.1, key_file.write_bytes, args=(b"k" * 32,))
    writer.start()
    try:
        with DiskCache(tmp_path) as cache:
            cache.set("k", 1)
            assert cache.get("k") == (True, 1)
    finally:
        writer.join()


@pytest.mark.parametrize("content", [b"", b"short", b"x" * 33])
def test_corrupt_key_file_raises_with_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setattr(disk_module, "_KEY_WAIT_SECONDS", 0.05)
    (tmp_path / KEY_FILE).write_bytes(content)
    with pytest.raises(GraphflowError, match="How to fix: delete it"):
        DiskCache(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_key_file_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    DiskCache(tmp_path).close()
    (tmp_path / KEY_FILE).chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="graphflow"):
        DiskCache(tmp_path).close()
    assert any("chmod 600" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("bad", [0, -5, 1.0, "1GB", True])
def test_invalid_size_limit_raises_config_error(tmp_path: Path, bad: object) -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        DiskCache(tmp_path, size_limit=bad)  # type: ignore[arg-type]  # deliberately wrong


def test_size_limit_is_passed_to_diskcache(tmp_path: Path) -> None:
    DiskCache(tmp_path, size_limit=12345).close()
    with diskcache.Cache(str(tmp_path)) as raw:
        assert raw.size_limit == 12345


def test_tampered_entry_is_a_miss_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with DiskCache(tmp_path) as cache:
        cache.set("k", "original")
        with diskcache.Cache(str(tmp_path)) as raw:
            stored = raw.get("k")
            assert isinstance(stored, bytes)
            raw.set("k", stored[:-1] + bytes([stored[-1] ^ 1]))
        with caplog.at_level(logging.WARNING, logger="graphflow"):
            assert cache.get("k") == (False, None)
            assert cache.get("k") == (False, None)
    warnings = _ignored_warnings(caplog)
    assert len(warnings) == 1  # once per instance and key
    message = warnings[0].getMessage()
    assert str(tmp_path) in message
    assert "signature did not match" in message


def test_truncated_entry_is_a_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with DiskCache(tmp_path) as cache:
        cache.set("k", "value")
        with diskcache.Cache(str(tmp_path)) as raw:
            raw.set("k", raw.get("k")[:10])
        with caplog.at_level(logging.WARNING, logger="graphflow"):
            assert cache.get("k") == (False, None)
    assert len(_ignored_warnings(caplog)) == 1


def test_forged_entry_is_never_unpickled(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    probe = tmp_path / "probe-proves-the-payload-runs"
    pickle.loads(pickle.dumps(_TouchOnUnpickle(probe)))
    assert probe.exists()  # the payload does run code when unpickled

    marker = tmp_path / "payload-was-unpickled"
    payload = pickle.dumps(_TouchOnUnpickle(marker), protocol=5)
    forged_signature = hmac.new(b"\0" * 32, payload, hashlib.sha256).digest()
    with DiskCache(tmp_path / "c") as cache:
        with diskcache.Cache(cache.path) as raw:
            raw.set("k", forged_signature + payload)
        with caplog.at_level(logging.WARNING, logger="graphflow"):
            assert cache.get("k") == (False, None)
    assert not marker.exists()
    assert len(_ignored_warnings(caplog)) == 1


def test_entry_pickled_by_diskcache_itself_is_never_unpickled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "payload-was-unpickled"
    with DiskCache(tmp_path / "c") as cache:
        with diskcache.Cache(cache.path) as raw:
            raw.set("k", _TouchOnUnpickle(marker))  # diskcache pickles non-bytes values
            raw.set("n", 7)
        with caplog.at_level(logging.WARNING, logger="graphflow"):
            assert cache.get("k") == (False, None)
            assert cache.get("n") == (False, None)
    assert not marker.exists()
    assert len(_ignored_warnings(caplog)) == 2


def test_entry_moved_to_another_key_is_a_miss(tmp_path: Path) -> None:
    with DiskCache(tmp_path) as cache:
        cache.set("a", "value of a")
        with diskcache.Cache(str(tmp_path)) as raw:
            raw.set("b", raw.get("a"))
        assert cache.get("b") == (False, None)
        assert cache.get("a") == (True, "value of a")


def test_entry_written_with_another_key_file_is_a_miss(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with DiskCache(tmp_path) as cache:
        cache.set("k", "signed with the first key")
    (tmp_path / KEY_FILE).unlink()
    with DiskCache(tmp_path) as cache, caplog.at_level(logging.WARNING, logger="graphflow"):
        assert cache.get("k") == (False, None)
        cache.set("k", "signed with the second key")
        assert cache.get("k") == (True, "signed with the second key")
    assert len(_ignored_warnings(caplog)) == 1


def test_unpicklable_value_is_skipped_silently(
    cache: DiskCache, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="graphflow"):
        cache.set("lambda", lambda: 1)
        cache.set("lock", threading.Lock())
    assert cache.get("lambda") == (False, None)
    assert cache.get("lock") == (False, None)
    assert len(cache) == 0
    assert [r.levelno for r in caplog.records] == [logging.DEBUG, logging.DEBUG]


def test_signed_entry_that_fails_to_unpickle_is_a_miss_with_a_warning(
    cache: DiskCache, caplog: pytest.LogCaptureFixture
) -> None:
    cache.set("k", _FailsOnUnpickle())
    with caplog.at_level(logging.WARNING, logger="graphflow"):
        assert cache.get("k") == (False, None)
        assert cache.get("k") == (False, None)
    warnings = _ignored_warnings(caplog)
    assert len(warnings) == 1
    assert "could not be unpickled" in warnings[0].getMessage()


def test_store_errors_are_misses_not_exceptions(
    cache: DiskCache, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(cache._cache, "get", broken)
    monkeypatch.setattr(cache._cache, "set", broken)
    with caplog.at_level(logging.WARNING, logger="graphflow"):
        cache.set("k", 1)
        assert cache.get("k") == (False, None)
    assert len(caplog.records) == 2


def test_concurrent_threads_share_one_instance(cache: DiskCache) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(30):
                cache.set(f"{worker}-{i}", (worker, i))
                assert cache.get(f"{worker}-{i}") == (True, (worker, i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) == 120
    assert time.monotonic() - start < 60
