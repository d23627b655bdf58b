"""The graph the engine serves: a PredictorSpec's PredictiveUnit tree as validated runtime nodes.

The predictor is read once, at start, into core's typed model (`seldon_graph.sdep`: field names and types
checked, node types defaulted there); what the engine itself needs to walk the graph (types, methods, endpoints,
children counts, parameters) is checked here. The engine refuses to start on a graph it could not walk, with an
error naming the node and the field, so a broken SeldonDeployment fails at deploy time and not on the first request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seldon_graph.errors import SeldonError
from seldon_graph.parameters import parse_parameters
from seldon_graph.sdep import Endpoint, Logger, PredictiveUnit, PredictorSpec, SdepError, default_graph, parse_predictor

# Steps a node can perform. The walk in graph.py runs them in this order around the node's children.
TRANSFORM_INPUT = "TRANSFORM_INPUT"
ROUTE = "ROUTE"
AGGREGATE = "AGGREGATE"
TRANSFORM_OUTPUT = "TRANSFORM_OUTPUT"
SEND_FEEDBACK = "SEND_FEEDBACK"
METHODS = (TRANSFORM_INPUT, TRANSFORM_OUTPUT, ROUTE, AGGREGATE, SEND_FEEDBACK)

UNKNOWN_TYPE = "UNKNOWN_TYPE"

# The node-type table: the steps each type performs. A new node type is one line here.
TYPE_STEPS: dict[str, frozenset[str]] = {
    UNKNOWN_TYPE: frozenset(),
    "MODEL": frozenset({TRANSFORM_INPUT, SEND_FEEDBACK}),
    "TRANSFORMER": frozenset({TRANSFORM_INPUT}),
    "OUTPUT_TRANSFORMER": frozenset({TRANSFORM_OUTPUT}),
    "ROUTER": frozenset({ROUTE, SEND_FEEDBACK}),
    "COMBINER": frozenset({AGGREGATE}),
}

# Built-in implementations run inside the engine; each performs exactly these steps, whatever its type.
BUILTIN_STEPS: dict[str, frozenset[str]] = {
    "SIMPLE_MODEL": frozenset({TRANSFORM_INPUT}),
    "SIMPLE_ROUTER": frozenset({ROUTE}),
    "RANDOM_ABTEST": frozenset({ROUTE}),
    "AVERAGE_COMBINER": frozenset({AGGREGATE}),
}
UNKNOWN_IMPLEMENTATION = "UNKNOWN_IMPLEMENTATION"
REST, GRPC = "REST", "GRPC"
LOGGER_MODES = ("all", "request", "response")


class PredictorError(ValueError):
    """The predictor cannot be served; the message names the node (by name and graph path) and the field."""


@dataclass(frozen=True)
class UnitAddress:
    """Where a unit listens (host, port) and how it is spoken to (REST or GRPC), resolved from its endpoint."""

    host: str
    port: int
    transport: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}" if self.transport == REST else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class LoggerSpec:
    """A node's request logger: where CloudEvents go and which of request/response are sent."""

    url: str
    mode: str

    @property
    def requests(self) -> bool:
        return self.mode in ("all", "request")

    @property
    def responses(self) -> bool:
        return self.mode in ("all", "response")


@dataclass
class Node:
    """One PredictiveUnit ready to be walked."""

    name: str
    type: str
    implementation: str
    steps: frozenset[str]
    predict_step: str
    children: list[Node] = field(default_factory=list)
    endpoint: UnitAddress | None = None
    parameters: dict = field(default_factory=dict)
    image: str = ""
    logger: LoggerSpec | None = None

    @property
    def builtin(self) -> bool:
        return self.implementation in BUILTIN_STEPS

    def does(self, step: str) -> bool:
        return step in self.steps

    def walk(self):
        """This node and its descendants, depth first, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Predictor:
    """The served predictor: its name, graph and the settings the engine takes from the SeldonDeployment."""

    name: str
    root: Node
    version: str = ""
    annotations: dict = field(default_factory=dict)

    def nodes(self) -> list[Node]:
        return list(self.root.walk())

    def find(self, name: str) -> Node | None:
        return next((node for node in self.root.walk() if node.name == name), None)


def container_images(predictor: PredictorSpec) -> dict[str, str]:
    """Container name → image over every componentSpec of the predictor."""
    images = {}
    for component in predictor.component_specs or ():
        for container in (component.spec or {}).get("containers") or ():
            if isinstance(container, dict) and container.get("name"):
                images[container["name"]] = str(container.get("image") or "")
    return images


def build_predictor(
    predictor: dict,
    annotations: dict | None = None,
    default_transport: str = REST,
    default_logger_url: str = "",
) -> Predictor:
    """Validate a PredictorSpec dict and turn its graph into runtime nodes; PredictorError on the first problem."""
    if not isinstance(predictor, dict):
        raise PredictorError(f"predictor: expected an object, got {type(predictor).__name__}")
    try:
        spec = parse_predictor(predictor)
    except SdepError as exc:
        raise PredictorError(f"predictor: {exc}") from exc
    return predictor_from_spec(spec, annotations, default_transport, default_logger_url)


def predictor_from_spec(
    spec: PredictorSpec,
    annotations: dict | None = None,
    default_transport: str = REST,
    default_logger_url: str = "",
) -> Predictor:
    """Runtime nodes from a typed PredictorSpec (defaulted here through core); PredictorError on the first problem."""
    spec = default_graph(spec)
    if spec.graph is None:
        raise PredictorError("predictor.graph: missing or not an object")
    builder = _GraphBuilder(container_images(spec), default_transport.upper(), default_logger_url)
    root = builder.build(spec.graph, "graph")
    own_annotations = spec.annotations or {}
    return Predictor(
        name=spec.name or "",
        root=root,
        version=str(own_annotations.get("version") or ""),
        annotations={**own_annotations, **(annotations or {})},
    )


class _GraphBuilder:
    def __init__(self, images: dict[str, str], default_transport: str, default_logger_url: str):
        self.images = images
        self.default_transport = default_transport if default_transport in (REST, GRPC) else REST
        self.default_logger_url = default_logger_url
        self.names: set[str] = set()

    def build(self, unit: PredictiveUnit, path: str) -> Node:
        name = unit.name
        if not name:
            raise PredictorError(f"{path}.name: every graph node needs a non-empty name")
        where = f"graph node '{name}' ({path})"
        if name in self.names:
            raise PredictorError(f"{where}.name: duplicate node name '{name}'")
        self.names.add(name)
        node_type, implementation, methods = self._kind(unit, where)
        steps = BUILTIN_STEPS.get(implementation) or (TYPE_STEPS[node_type] | methods)
        if not steps and node_type == UNKNOWN_TYPE:
            raise PredictorError(f"{where}.methods: a node without a type must list the methods it implements")
        children = [self.build(child, f"{path}.children[{i}]") for i, child in enumerate(unit.children or ())]
        if implementation == "RANDOM_ABTEST" and len(children) != 2:
            raise PredictorError(f"{where}.children: RANDOM_ABTEST needs exactly 2 children, got {len(children)}")
        try:
            parameters = parse_parameters([parameter.to_dict() for parameter in unit.parameters or ()])
        except SeldonError as exc:
            raise PredictorError(f"{where}.parameters: {exc.info}") from exc
        if implementation == "RANDOM_ABTEST":
            ratio = parameters.get("ratioA", 0.5)
            if not isinstance(ratio, (int, float)) or not 0.0 <= float(ratio) <= 1.0:
                raise PredictorError(f"{where}.parameters.ratioA: must be a FLOAT between 0 and 1, got {ratio!r}")
        return Node(
            name=name,
            type=node_type,
            implementation=implementation,
            steps=steps,
            predict_step="predict" if node_type == "MODEL" and TRANSFORM_INPUT not in methods else "transform-input",
            children=children,
            endpoint=None if implementation in BUILTIN_STEPS else self._address(unit.endpoint, where),
            parameters=parameters,
            image=self.images.get(name, ""),
            logger=self._logger(unit.logger, where),
        )

    @staticmethod
    def _kind(unit: PredictiveUnit, where: str) -> tuple[str, str, frozenset[str]]:
        """The node's type (an unset type is UNKNOWN_TYPE, as the executor reads it), implementation and methods."""
        for method in unit.methods or ():
            if method not in METHODS:
                raise PredictorError(f"{where}.methods: unknown method {method!r}; valid are {', '.join(METHODS)}")
        if not unit.implementation:
            raise PredictorError(f"{where}.implementation: expected a non-empty string")
        node_type = unit.type or UNKNOWN_TYPE
        if node_type not in TYPE_STEPS:
            raise PredictorError(f"{where}.type: unknown type {unit.type!r}; valid are {', '.join(TYPE_STEPS)}")
        return node_type, unit.implementation, frozenset(unit.methods or ())

    def _address(self, endpoint: Endpoint | None, where: str) -> UnitAddress:
        if endpoint is None:
            raise PredictorError(f"{where}.endpoint: a unit that is not built in needs an endpoint (host and port)")
        transport = (endpoint.type or self.default_transport).upper()
        if transport not in (REST, GRPC):
            raise PredictorError(f"{where}.endpoint.type: must be REST or GRPC, got {endpoint.type!r}")
        own_port = "httpPort" if transport == REST else "grpcPort"
        port = (endpoint.http_port if transport == REST else endpoint.grpc_port) or endpoint.service_port or 0
        if not 0 < port < 65536:
            raise PredictorError(
                f"{where}.endpoint.{own_port}: a {transport} unit needs {own_port} or service_port (1-65535), "
                f"got {port or None!r}"
            )
        return UnitAddress(endpoint.service_host or "localhost", port, transport)

    def _logger(self, logger: Logger | None, where: str) -> LoggerSpec | None:
        if logger is None:
            return None
        mode = (logger.mode or "all").lower()
        if mode not in LOGGER_MODES:
            raise PredictorError(f"{where}.logger.mode: must be one of {', '.join(LOGGER_MODES)}, got {mode!r}")
        url = logger.url or self.default_logger_url
        if not url:
            raise PredictorError(f"{where}.logger.url: no url and REQUEST_LOGGER_DEFAULT_ENDPOINT is not set")
        return LoggerSpec(url, mode)
