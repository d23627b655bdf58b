"""`restartPolicy: Always` as the kubelet applies it: an exited container is started again after a back-off
(CrashLoopBackOff) that doubles with each crash up to a cap, and is forgotten after a long enough run."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

BASE_DELAY = float(os.environ.get("SELDON_GRAPH_RESTART_BACKOFF", "10"))  # the kubelet's 10 s
MAX_DELAY = 300.0  # the kubelet's 5 min cap
RESET_AFTER = 600.0  # a run this long starts the back-off from the base again


@dataclass(frozen=True)
class CrashLoopBackOff:
    base: float = BASE_DELAY
    cap: float = MAX_DELAY
    reset_after: float = RESET_AFTER

    def delay(self, crashes: int) -> float:
        """The wait before the restart that follows the `crashes`-th crash in a row (1, 2, …)."""
        return min(self.cap, self.base * 2 ** max(0, crashes - 1))


KUBELET = CrashLoopBackOff()  # base delay from $SELDON_GRAPH_RESTART_BACKOFF (tests make it short)


def exit_reason(code: int) -> str:
    """What a process's exit status means, as a user reads it (negative: killed by that signal)."""
    if code >= 0:
        return f"process exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown signal"
    return f"process killed by signal {-code} ({name})"
