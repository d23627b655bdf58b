"""`up` progress: plain lines when the output is not a terminal, lines redrawn in place when it is."""

from __future__ import annotations

import io
import re

from seldon_graph.operator.local.commands import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _status(*states: str, state: str = "Creating") -> dict:
    units = [
        {"name": f"pod/unit-{i}", "pid": 100 + i, "state": unit_state, "reason": ""}
        for i, unit_state in enumerate(states)
    ]
    return {"namespace": "seldon", "name": "demo", "state": state, "units": units, "generation": "g1"}


def test_plain_lines_once_per_change_when_not_a_terminal():
    out = io.StringIO()
    progress = Progress(out)
    for status in (_status("Starting", "Starting"), _status("Starting", "Starting"), _status("Ready", "Starting")):
        progress.show(status)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "\x1b" not in out.getvalue()
    assert lines[2].split()[1:3] == ["pod/unit-0", "Ready"]


def _screen(output: str) -> list[str]:
    """What a terminal shows after `output`, understanding the two escapes Progress writes (cursor up N lines to
    column 1, erase line)."""
    screen: list[str] = []
    row = 0
    for token in re.split(r"(\x1b\[\d*F|\x1b\[2K|\n)", output):
        if match := re.fullmatch(r"\x1b\[(\d*)F", token):
            row -= int(match[1] or 1)
        elif token == "\n":
            row += 1
        elif token and token != "\x1b[2K":
            screen[row : row + 1] = [token]
    return screen


def test_a_terminal_gets_one_line_per_unit_redrawn_in_place():
    out = Terminal()
    progress = Progress(out)
    progress.show(_status("Starting", "Starting"))
    progress.show(_status("Ready", "Starting"))
    assert [line.split()[2] for line in _screen(out.getvalue())] == ["Ready", "Starting"]
    progress.show(
        _status("Ready", "Ready", state="Available")
        | {"urls": {"rest": "r", "grpc": "g", "grpc_metadata": {"seldon": "demo"}, "example": "{}"}}
    )
    screen = _screen(out.getvalue())
    assert [line.split()[2] for line in screen[:2]] == ["Ready", "Ready"]
    assert screen[2] == "SeldonDeployment seldon/demo is Available"
