"""graphflow test suite (a package so that `tests._services` imports the same way everywhere)."""
