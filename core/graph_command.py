"""`seldon-graph graph -f FILE [--predictor NAME] [--format text|mermaid|dot]`: draw the graphs a file declares."""

from __future__ import annotations

import argparse
import sys

import yaml

from seldon_graph.graph_drawing import FORMATS, describe, render
from seldon_graph.sdep import SdepError, default, parse, validate
from seldon_graph.sdep.load import yaml_documents


def add_graph(subparsers) -> None:
    parser = subparsers.add_parser("graph", help="draw the inference graphs of SeldonDeployments")
    parser.add_argument("-f", "--file", required=True, help="SeldonDeployment YAML or JSON, one or more documents")
    parser.add_argument("--predictor", help="draw only this predictor")
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default), mermaid or dot")
    parser.set_defaults(func=graph)


def graph(args: argparse.Namespace) -> int:
    try:
        with open(args.file, encoding="utf-8") if args.file != "-" else sys.stdin as handle:
            documents = yaml_documents(handle.read())
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        return _fail(f"{args.file}: not valid YAML or JSON: {exc}".replace("\n", " "))
    drawings = []
    for index, document in enumerate(documents):
        try:
            sdep = parse(document)
        except SdepError as exc:
            return _fail("; ".join(exc.errors) or f"document {index + 1} is not a SeldonDeployment")
        problems = validate(sdep)
        if problems:
            return _fail(f"{sdep.name}: " + "; ".join(problems))
        sdep = default(sdep)
        predictors = describe(sdep)
        if args.predictor:
            predictors = [p for p in predictors if p.name == args.predictor]
            if not predictors:
                names = ", ".join(p.name for p in describe(sdep))
                return _fail(f"{sdep.name}: no predictor named {args.predictor!r}; predictors: {names}")
        drawings.append(render(args.format, f"SeldonDeployment {sdep.namespace}/{sdep.name}", predictors))
    if not drawings:
        return _fail(f"{args.file}: no SeldonDeployment found")
    sys.stdout.write("\n".join(drawings))
    return 0


def _fail(message: str) -> int:
    print(f"seldon-graph graph: {message}", file=sys.stderr)
    return 1
