"""Regenerate core/proto/*_pb2*.py from the .proto files beside them.

The protos import each other as `seldon_graph/proto/...`, so they are compiled from a temporary include root
where that path points at core/proto; the generated modules then import `seldon_graph.proto.*`.
Run: python scripts/gen_protos.py   (needs grpcio-tools)
"""

import pathlib
import sys
import tempfile

from grpc_tools import protoc

PROTO_DIR = pathlib.Path(__file__).resolve().parent.parent / "core" / "proto"
# (file, whether to generate gRPC stubs), dependencies first. The engine serves V2 and TensorFlow through generic
# handlers on serialized bytes, so their services need no stubs.
PROTOS = (
    ("tensor.proto", False),
    ("prediction.proto", True),
    ("inference.proto", False),
    ("tensorflow_serving.proto", False),
)


def main() -> int:
    with tempfile.TemporaryDirectory() as root:
        include = pathlib.Path(root)
        (include / "seldon_graph").mkdir()
        (include / "seldon_graph" / "proto").symlink_to(PROTO_DIR)
        well_known = pathlib.Path(protoc.__file__).parent / "_proto"
        for name, services in PROTOS:
            args = [
                "protoc",
                f"-I{include}",
                f"-I{well_known}",
                f"--python_out={include}",
                f"--pyi_out={include}",
                f"seldon_graph/proto/{name}",
            ]
            if services:
                args.insert(-1, f"--grpc_python_out={include}")
            if protoc.main(args) != 0:
                print(f"protoc failed on {name}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
