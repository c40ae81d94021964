"""MemoryCache: hits, misses, LRU eviction, max_size validation, thread safety."""

from __future__ import annotations

import threading

import pytest

from graphflow.cache import Cache, MemoryCache
from graphflow.exceptions import GraphConfigError


def test_memory_cache_is_a_cache() -> None:
    assert isinstance(MemoryCache(), Cache)


def test_miss_then_hit_returns_the_stored_object() -> None:
    cache = MemoryCache()
    value = {"rows": [1, 2, 3]}
    assert cache.get("k") == (False, None)
    cache.set("k", value)
    hit, got = cache.get("k")
    assert hit is True
    assert got is value  # stored as is, not copied


def test_stored_none_is_a_hit() -> None:
    cache = MemoryCache()
    cache.set("k", None)
    assert cache.get("k") == (True, None)


def test_set_replaces_previous_value() -> None:
    cache = MemoryCache()
    cache.set("k", 1)
    cache.set("k", 2)
    assert cache.get("k") == (True, 2)
    assert len(cache) == 1


def test_evicts_least_recently_stored_when_nothing_was_read() -> None:
    cache = MemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("c", 3)
    assert cache.get("a") == (False, None)
    assert cache.get("b") == (True, 2)
    assert cache.get("c") == (True, 3)
    assert len(cache) == 2


def test_hit_makes_entry_most_recently_used() -> None:
    cache = MemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")  # "b" is now the least recently used
    cache.set("c", 3)
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, 1)
    assert cache.get("c") == (True, 3)


def test_overwrite_makes_entry_most_recently_used() -> None:
    cache = MemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 10)
    cache.set("c", 3)
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, 10)


def test_miss_does_not_change_eviction_order() -> None:
    cache = MemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("zzz")
    cache.set("c", 3)
    assert cache.get("a") == (False, None)


def test_max_size_one_keeps_only_the_last_entry() -> None:
    cache = MemoryCache(max_size=1)
    for i in range(5):
        cache.set(str(i), i)
    assert len(cache) == 1
    assert cache.get("4") == (True, 4)


def test_no_max_size_keeps_everything() -> None:
    cache = MemoryCache()
    for i in range(1000):
        cache.set(str(i), i)
    assert len(cache) == 1000
    assert cache.max_size is None


def test_clear_removes_every_entry() -> None:
    cache = MemoryCache(max_size=10)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.clear()
    assert len(cache) == 0
    assert cache.get("a") == (False, None)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True, False])
def test_invalid_max_size_raises_config_error_with_fix(bad: object) -> None:
    with pytest.raises(GraphConfigError, match="How to fix") as info:
        MemoryCache(max_size=bad)  # type: ignore[arg-type]  # deliberately wrong type
    assert isinstance(info.value, ValueError)
    assert repr(bad) in str(info.value)


def test_concurrent_use_keeps_the_size_bound_and_raises_nothing() -> None:
    cache = MemoryCache(max_size=50)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(2000):
                key = f"{worker}-{i % 100}"
                cache.set(key, i)
                hit, value = cache.get(key)
                # Only this worker writes its keys: other threads may evict them, never alter.
                assert not hit or value == i
                assert len(cache) <= 50
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) == 50
