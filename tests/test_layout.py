"""The repository root on sys.path breaks nothing: users put a checkout on PYTHONPATH to import their models."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_repository_root_on_pythonpath_shadows_no_standard_module():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import operator, collections, seldon_graph.operator.render.desired; print(operator.__file__)",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert not result.stdout.strip().startswith(str(ROOT))


def test_nothing_refers_to_material_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = "../" + "shared"
    offenders = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        and (ROOT / name).stat().st_size < 1_000_000
        and outside in (ROOT / name).read_text(errors="ignore")
    ]
    assert not offenders, f"files that read outside the repository: {offenders}"
