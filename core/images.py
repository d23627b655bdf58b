"""The names of the container images seldon-graph builds, in one place.

One setting, the repository prefix (registry and organisation, `ghcr.io/seldon-graph` unless overridden), and the
package version as tag. The operator's default engine image, the Helm chart's and kustomize's defaults (kept equal
by tests) and `scripts/build-images.sh` (through `python -m seldon_graph.images`) all come from here.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

from seldon_graph import __version__

DEFAULT_PREFIX = "ghcr.io/seldon-graph"


class ImageNames(NamedTuple):
    """The runtime image (engine, operator, wrapper) and the base image for users' models."""

    runtime: str
    model: str


def image_names(prefix: str = DEFAULT_PREFIX, tag: str = __version__) -> ImageNames:
    """Both image references under `prefix` (e.g. `registry.example.com/team`) with `tag`."""
    base = prefix.rstrip("/")
    return ImageNames(runtime=f"{base}/seldon-graph:{tag}", model=f"{base}/seldon-graph-model:{tag}")


RUNTIME_IMAGE = image_names().runtime


def main(argv: list[str] | None = None) -> None:
    """Print `RUNTIME_IMAGE=…` and `MODEL_IMAGE=…` lines for the build script to read."""
    parser = argparse.ArgumentParser(prog="python -m seldon_graph.images", description=main.__doc__)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="registry/organisation of both images")
    parser.add_argument("--tag", default=__version__, help="tag of both images (default: the package version)")
    args = parser.parse_args(argv)
    names = image_names(args.prefix, args.tag)
    print(f"RUNTIME_IMAGE={names.runtime}\nMODEL_IMAGE={names.model}")


if __name__ == "__main__":
    main()
