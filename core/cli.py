"""The user CLI `seldon-graph`: a thin dispatcher over subcommands that the components register.

Components add subcommands through the `seldon_graph.commands` entry-point group (each entry point is a
function `add(subparsers)` that adds one parser and sets `func`), so this module never imports them.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from seldon_graph import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seldon-graph", description="Run and render Seldon v1 deployments.")
    parser.add_argument("--version", action="version", version=f"seldon-graph {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for entry in sorted(entry_points(group="seldon_graph.commands"), key=lambda e: e.name):
        entry.load()(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
