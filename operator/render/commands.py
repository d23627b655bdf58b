"""`seldon-graph validate` and `seldon-graph render`: the operator's checks and output, without a cluster.

    seldon-graph validate -f sdep.yaml      # errors with field paths (exit 1), or warnings and "valid" (exit 0)
    seldon-graph render -f sdep.yaml [--ingress ambassador|istio|none] [--namespace NS]

Configuration comes from the same environment variables the operator reads (OperatorSettings.from_env).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import yaml

from seldon_graph.operator.render.desired import RenderError, desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from seldon_graph.sdep import SdepError, SeldonDeployment, parse, validate
from seldon_graph.sdep.graph_warnings import graph_warnings
from seldon_graph.sdep.load import yaml_documents

INGRESS_CHOICES = ("ambassador", "istio", "none")


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _label(doc, index: int) -> str:
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name or f"document {index + 1}"


def load_checked(path: str, settings: OperatorSettings) -> tuple[list[SeldonDeployment], list[str]]:
    """Every SeldonDeployment in the file, and every problem found (`<name>: <field path>: <message>`)."""
    try:
        docs = yaml_documents(_read(path))
    except OSError as exc:
        return [], [f"{path}: {exc.strerror or exc}"]
    except yaml.YAMLError as exc:
        return [], [f"{path}: not valid YAML or JSON: {exc}".replace("\n", " ")]
    if not docs:
        return [], [f"{path}: no SeldonDeployment found"]
    loaded, errors = [], []
    for index, doc in enumerate(docs):
        label = _label(doc, index)
        try:
            sdep = parse(doc)
        except SdepError as exc:
            errors += [f"{label}: {message}" for message in exc.errors]
            continue
        problems = validate(sdep, settings.sdep)
        errors += [f"{label}: {message}" for message in problems]
        if not problems:
            loaded.append(sdep)
    return loaded, errors


def _report(errors: list[str]) -> int:
    """Print every problem to stderr; the exit code for a file with problems."""
    for message in errors:
        print(message, file=sys.stderr)
    return 1


def run_validate(args: argparse.Namespace) -> int:
    """Errors exit 1, as the webhook denies them; what the engine refuses at start is a warning (exit 0), as the
    webhook admits it."""
    settings = OperatorSettings.from_env(os.environ)
    loaded, errors = load_checked(args.filename, settings)
    if errors:
        return _report(errors)
    for sdep in loaded:
        for message in graph_warnings(sdep):
            print(f"warning: {sdep.name}: {message}", file=sys.stderr)
    print("valid")
    return 0


def with_ingress(settings: OperatorSettings, ingress: str | None) -> OperatorSettings:
    """The settings with only the chosen ingress enabled (None keeps the environment's choice)."""
    if ingress is None:
        return settings
    return dataclasses.replace(
        settings,
        ambassador=dataclasses.replace(settings.ambassador, enabled=ingress == "ambassador"),
        istio=dataclasses.replace(settings.istio, enabled=ingress == "istio"),
    )


def run_render(args: argparse.Namespace) -> int:
    settings = with_ingress(OperatorSettings.from_env(os.environ), args.ingress)
    loaded, errors = load_checked(args.filename, settings)
    if errors:
        return _report(errors)
    objects = []
    for sdep in loaded:
        if args.namespace:
            sdep.metadata = {**(sdep.metadata or {}), "namespace": args.namespace}
        try:
            objects += desired_state(sdep, settings)
        except RenderError as exc:
            print(f"{sdep.name}: {exc}", file=sys.stderr)
            return 1
    sys.stdout.write(render_yaml(objects))
    return 0


def render_yaml(objects: list[dict]) -> str:
    """Multi-document YAML of `objects`, keys in rendering order (same objects → same bytes)."""
    return yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False, width=1 << 16, explicit_start=True)


def _file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        required=True,
        metavar="FILE",
        help="SeldonDeployment YAML or JSON (several documents allowed; - for stdin)",
    )


def add_validate(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check SeldonDeployments as the operator's admission webhook does",
        description="Print every problem with its field path (exit 1), or 'valid'.",
    )
    _file_argument(parser)
    parser.set_defaults(func=run_validate)


def add_render(subparsers) -> None:
    parser = subparsers.add_parser(
        "render",
        help="print the Kubernetes objects the operator would apply",
        description="Print the objects for each SeldonDeployment as multi-document YAML.",
    )
    _file_argument(parser)
    parser.add_argument(
        "--ingress",
        choices=INGRESS_CHOICES,
        help="ingress objects to add (default: from AMBASSADOR_ENABLED / ISTIO_ENABLED)",
    )
    parser.add_argument("--namespace", help="namespace of the objects (default: the SeldonDeployment's, else default)")
    parser.set_defaults(func=run_render)
