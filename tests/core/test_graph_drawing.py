"""`seldon-graph graph`: every example drawn in every format, with every node, edge, transport and traffic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seldon_graph.cli import main
from seldon_graph.sdep import default, parse
from seldon_graph.sdep.load import yaml_documents

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def _edges(unit: dict) -> list[tuple[str, str]]:
    found = []
    for child in unit.get("children") or []:
        found.append((unit["name"], child["name"]))
        found.extend(_edges(child))
    return found


def _draw(capsys, *args: str) -> str:
    assert main(["graph", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_drawn_with_its_nodes_edges_and_traffic(example, capsys):
    text = _draw(capsys, "-f", str(example))
    mermaid = _draw(capsys, "-f", str(example), "--format", "mermaid")
    dot = _draw(capsys, "-f", str(example), "--format", "dot")
    documents = yaml_documents(example.read_text())
    assert text.count("SeldonDeployment ") == dot.count("digraph ") == len(documents)
    for document in documents:
        sdep = default(parse(document))
        assert f"SeldonDeployment {sdep.namespace}/{sdep.name}\n" in text
        for predictor, spec in zip(sdep.predictors, document["spec"]["predictors"]):
            shown = "(shadow)" if spec.get("shadow") else f"(traffic {spec.get('traffic', 100)}%)"
            label = f"predictor {spec['name']} {shown}"
            assert label in text and label in mermaid and label in dot
            for unit in predictor.units():
                assert re.search(rf"[└├]─ {re.escape(unit.name)}  {unit.type}", text), unit.name
            for parent, child in _edges(spec["graph"]):
                ids = [re.sub(r"[^A-Za-z0-9_]", "_", f"{spec['name']}__{n}") for n in (parent, child)]
                assert re.search(rf"{ids[0]} -(->|\.->) {ids[1]}\n", mermaid), (parent, child)
                assert f'"{ids[0]}" -> "{ids[1]}";' in dot


def test_the_tree_shows_types_transports_and_images(capsys):
    assert _draw(capsys, "-f", "examples/graph.yaml") == (
        "SeldonDeployment seldon/graph\n"
        "predictor default (traffic 100%)\n"
        "└─ transformer  TRANSFORMER  REST  seldonio/addone:0.1\n"
        "   └─ router  ROUTER  REST  seldonio/router:0.1\n"
        "      ├─ model-a  MODEL  REST  seldonio/doubler:0.1\n"
        "      └─ model-b  MODEL  REST  seldonio/tripler:0.1\n"
    )


def test_built_in_and_grpc_nodes_and_one_predictor(tmp_path, capsys):
    spec = tmp_path / "sdep.yaml"
    spec.write_text(
        """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ab}
spec:
  transport: grpc
  predictors:
  - name: a
    traffic: 60
    graph:
      name: abtest
      implementation: RANDOM_ABTEST
      children:
      - {name: m1, type: MODEL, implementation: SKLEARN_SERVER, modelUri: "gs://x"}
      - {name: m2, implementation: SIMPLE_MODEL}
  - name: b
    traffic: 40
    graph: {name: m3, implementation: SIMPLE_MODEL}
"""
    )
    text = _draw(capsys, "-f", str(spec), "--predictor", "a")
    assert "predictor b" not in text
    assert text.endswith(
        "predictor a (traffic 60%)\n"
        "└─ abtest  RANDOM_ABTEST  in-engine\n"
        "   ├─ m1  MODEL  SKLEARN_SERVER  GRPC  seldonio/sklearnserver:1.18.2\n"
        "   └─ m2  SIMPLE_MODEL  in-engine\n"
    )


def test_unknown_predictor_and_bad_file_are_clear_errors(tmp_path, capsys):
    assert main(["graph", "-f", "examples/canary.yaml", "--predictor", "nope"]) == 1
    assert "no predictor named 'nope'; predictors: main, canary" in capsys.readouterr().err
    assert main(["graph", "-f", str(tmp_path / "missing.yaml")]) == 1
    assert "missing.yaml" in capsys.readouterr().err
