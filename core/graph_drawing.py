"""A SeldonDeployment's graphs drawn as text, Mermaid or Graphviz DOT: node types, implementations, transports,
images, traffic and shadows, and (for `seldon-graph status`) each node's request numbers.

Pure: a defaulted SeldonDeployment in, a string out. `describe` turns the typed model into the few facts drawn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from seldon_graph.sdep import PredictiveUnit, PredictorSpec, SeldonDeployment, uses_grpc

BUILTIN_IMPLEMENTATIONS = frozenset({"SIMPLE_MODEL", "SIMPLE_ROUTER", "RANDOM_ABTEST", "AVERAGE_COMBINER"})
IN_ENGINE = "in-engine"
FORMATS = ("text", "mermaid", "dot")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class NodeStats:
    """What the engine's metrics say about one node's unit calls (latencies in milliseconds, None if no call)."""

    requests: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class DrawnNode:
    name: str
    type: str
    implementation: str
    transport: str
    image: str
    children: tuple[DrawnNode, ...]

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class DrawnPredictor:
    name: str
    traffic: int
    shadow: bool
    root: DrawnNode


def describe(sdep: SeldonDeployment) -> list[DrawnPredictor]:
    """The facts drawn for each predictor of a defaulted SeldonDeployment."""
    predictors = sdep.predictors
    serving = [p for p in predictors if not p.shadow]
    drawn = []
    for predictor in predictors:
        traffic = predictor.traffic if predictor.traffic is not None else (100 if len(serving) == 1 else 0)
        images = _images(predictor)
        root = _node(sdep, predictor.graph, images) if predictor.graph else DrawnNode("?", "", "", "", "", ())
        drawn.append(DrawnPredictor(str(predictor.name or ""), traffic, bool(predictor.shadow), root))
    return drawn


def _images(predictor: PredictorSpec) -> dict[str, str]:
    return {
        str(c.get("name")): str(c.get("image") or "")
        for spec in predictor.component_specs or []
        for c in ((spec.spec or {}).get("containers") or [])
        if isinstance(c, dict)
    }


def _node(sdep: SeldonDeployment, unit: PredictiveUnit, images: dict[str, str]) -> DrawnNode:
    implementation = unit.implementation if unit.implementation not in (None, "UNKNOWN_IMPLEMENTATION") else ""
    if implementation in BUILTIN_IMPLEMENTATIONS:
        transport = IN_ENGINE
    else:
        transport = "GRPC" if uses_grpc(sdep, unit) else "REST"
    return DrawnNode(
        name=str(unit.name or ""),
        type=unit.type or "",
        implementation=implementation or "",
        transport=transport,
        image=images.get(str(unit.name), ""),
        children=tuple(_node(sdep, child, images) for child in unit.children or ()),
    )


def _predictor_label(predictor: DrawnPredictor) -> str:
    return f"predictor {predictor.name} " + ("(shadow)" if predictor.shadow else f"(traffic {predictor.traffic}%)")


def _facts(node: DrawnNode) -> list[str]:
    return [fact for fact in (node.type, node.implementation, node.transport, node.image) if fact]


def _stats_text(stats: NodeStats | None) -> str:
    if stats is None:
        return "requests -"
    latency = "  ".join(
        f"{label} {value:.1f}ms" if value is not None else f"{label} -"
        for label, value in (("p50", stats.p50_ms), ("p99", stats.p99_ms))
    )
    return f"requests {stats.requests}  errors {stats.errors}  {latency}"


def render_text(
    title: str,
    predictors: list[DrawnPredictor],
    stats: Mapping[str, Mapping[str, NodeStats]] | None = None,
) -> str:
    """An indented tree per predictor; with `stats` (predictor → node → numbers) each node's numbers too."""
    lines = [title]
    for predictor in predictors:
        lines.append(_predictor_label(predictor))
        own = None if stats is None else stats.get(predictor.name, {})
        lines.extend(_text_tree(predictor.root, "", True, own))
    return "\n".join(lines) + "\n"


def _text_tree(node: DrawnNode, indent: str, last: bool, stats: Mapping[str, NodeStats] | None) -> list[str]:
    line = f"{indent}{'└─' if last else '├─'} {node.name}  {'  '.join(_facts(node))}"
    if stats is not None:
        line += f"  [{_stats_text(stats.get(node.name)) if node.transport != IN_ENGINE else 'in-engine'}]"
    lines = [line]
    below = indent + ("   " if last else "│  ")
    for index, child in enumerate(node.children):
        lines.extend(_text_tree(child, below, index == len(node.children) - 1, stats))
    return lines


def _id(predictor: DrawnPredictor, node: DrawnNode) -> str:
    return _UNSAFE_ID.sub("_", f"{predictor.name}__{node.name}")


def render_mermaid(title: str, predictors: list[DrawnPredictor]) -> str:
    """A Mermaid flowchart: one subgraph per predictor, shadows drawn with dotted edges."""
    lines = ["flowchart TD", f"  %% {title}"]
    for predictor in predictors:
        group = _UNSAFE_ID.sub("_", f"predictor_{predictor.name}")
        lines.append(f'  subgraph {group}["{_predictor_label(predictor)}"]')
        for node in predictor.root.walk():
            lines.append(f'    {_id(predictor, node)}["{node.name}<br/>{" · ".join(_facts(node))}"]')
        arrow = "-.->" if predictor.shadow else "-->"
        for node in predictor.root.walk():
            for child in node.children:
                lines.append(f"    {_id(predictor, node)} {arrow} {_id(predictor, child)}")
        lines.append("  end")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(title: str, predictors: list[DrawnPredictor]) -> str:
    """A Graphviz digraph: one cluster per predictor, shadows dashed."""
    lines = [f"digraph {_dot_quote(title)} {{", "  rankdir=TB;", "  node [shape=box];"]
    for predictor in predictors:
        lines.append(f"  subgraph {_dot_quote('cluster_' + predictor.name)} {{")
        lines.append(f"    label={_dot_quote(_predictor_label(predictor))};")
        if predictor.shadow:
            lines.append("    style=dashed;")
        for node in predictor.root.walk():
            label = "\\n".join([node.name, " · ".join(_facts(node))])
            lines.append(f'    {_dot_quote(_id(predictor, node))} [label="{label}"];')
        for node in predictor.root.walk():
            for child in node.children:
                lines.append(f"    {_dot_quote(_id(predictor, node))} -> {_dot_quote(_id(predictor, child))};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(fmt: str, title: str, predictors: list[DrawnPredictor]) -> str:
    """The drawing in format `fmt` (one of FORMATS)."""
    if fmt == "mermaid":
        return render_mermaid(title, predictors)
    if fmt == "dot":
        return render_dot(title, predictors)
    return render_text(title, predictors)
