"""Caches for node outputs: the :class:`Cache` interface, an in-memory LRU and a disk cache.

Example:
    >>> from graphflow.cache import MemoryCache, cache_key
    >>> cache = MemoryCache(max_size=100)
    >>> key = cache_key("node-definition-hash", {"x": 1})
    >>> cache.set(key, 2)
    >>> cache.get(key)
    (True, 2)
"""

from graphflow.cache.base import Cache, cache_key
from graphflow.cache.disk import DiskCache
from graphflow.cache.memory import MemoryCache

__all__ = ["Cache", "DiskCache", "MemoryCache", "cache_key"]
