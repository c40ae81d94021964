"""DaftRunner tests: quiet Daft before it is imported (no analytics, no progress bars)."""

from __future__ import annotations

import os

os.environ.setdefault("DAFT_ANALYTICS_ENABLED", "0")
os.environ.setdefault("DAFT_PROGRESS_BAR", "0")
