"""Where a figure was measured: the CPU's model name (for benchmarks and model cards).

Lives in the runtime because every side (training, benchmarks, GNU Radio apps) can import
it without torch or GNU Radio.
"""

from __future__ import annotations

import platform

__all__ = ["cpu_model"]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` is often empty on
    Linux), else what ``platform`` knows, else "unknown"."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"
