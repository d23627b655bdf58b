"""Separate virtualenvs for reference software the tests run side by side with ours (the real seldon-core).

They are built once under .cache/ in the checkout and reused; building needs only PyPI.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".cache"

SELDON_CORE = ["seldon-core==1.18.2", "setuptools<70"]
# The real MLServer (V2 units) and the real Triton client (V2 callers); their protobuf pins differ from ours.
MLSERVER = [
    "mlserver==1.7.1",
    "mlserver-sklearn==1.7.1",
    "scikit-learn>=1.3,<2",
    "tritonclient[http,grpc]>=2.40,<3",
]


def ensure_venv(name: str, requirements: list[str]) -> Path:
    """The bin/ folder of venv `name` with `requirements` installed (built on first use, under a lock)."""
    root = CACHE / name
    marker = root / ".complete"
    CACHE.mkdir(exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
            subprocess.run(
                [str(root / "bin" / "pip"), "install", "-q", *requirements],
                check=True,
            )
            marker.write_text("\n".join(requirements))
    return root / "bin"


def seldon_core_bin() -> Path:
    """bin/ of a venv with the real seldon-core 1.18.2 wrapper and client."""
    return ensure_venv("seldon-core-1.18.2", SELDON_CORE)


def mlserver_bin() -> Path:
    """bin/ of a venv with the real MLServer 1.7.1 (sklearn runtime) and tritonclient."""
    return ensure_venv("mlserver-1.7.1", MLSERVER)
