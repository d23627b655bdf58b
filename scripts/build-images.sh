#!/usr/bin/env bash
# Build seldon-graph's two images (images/Containerfile) with podman: the runtime image (seldon-engine,
# seldon-operator, seldon-core-microservice) and the model base image. Their names come from core/images.py.
#
#   scripts/build-images.sh [--base] [--prefix REGISTRY/ORG] [--tag TAG]
#
#   --base    build FROM a Debian bookworm + python3 base this script makes with mmdebstrap (cached as a tarball),
#             for machines that cannot pull docker.io/library/python:3.11-slim (the default base).
#   --prefix  registry and organisation of both images (default ghcr.io/seldon-graph).
#   --tag     tag of both images (default: the package version).
#
# Python dependencies are resolved here, on the host, with `pip wheel`; the build installs only those wheels
# (--no-index), so it needs no network. Cache (wheels, build context, base tarball): $SELDON_GRAPH_IMAGE_CACHE,
# default .cache/images in the checkout. Python with seldon-graph and pip: $PYTHON, default .venv/bin/python.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="${SELDON_GRAPH_IMAGE_CACHE:-$ROOT/.cache/images}"
DEBIAN_BASE_IMAGE="localhost/seldon-graph-base:bookworm"
PYTHON_BASE_IMAGE="docker.io/library/python:3.11-slim"

use_debian_base=false
name_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --base) use_debian_base=true ;;
        --prefix | --tag)
            [ $# -ge 2 ] || { echo "build-images.sh: $1 needs a value" >&2; exit 2; }
            name_args+=("$1" "$2")
            shift
            ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-images.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

for tool in podman "$PYTHON"; do
    command -v "$tool" >/dev/null || { echo "build-images.sh: $tool not found" >&2; exit 1; }
done

names="$("$PYTHON" -m seldon_graph.images "${name_args[@]}")"
RUNTIME_IMAGE="$(sed -n 's/^RUNTIME_IMAGE=//p' <<<"$names")"
MODEL_IMAGE="$(sed -n 's/^MODEL_IMAGE=//p' <<<"$names")"

# The Debian base: an mmdebstrap tarball (kept in the cache, so CI debootstraps once) imported into podman.
debian_base() {
    local tarball="$CACHE/debian-bookworm-python3.tar"
    podman image exists "$DEBIAN_BASE_IMAGE" && return
    if [ ! -s "$tarball" ]; then
        command -v mmdebstrap >/dev/null || { echo "build-images.sh: --base needs mmdebstrap" >&2; exit 1; }
        mmdebstrap --quiet --format=tar --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
            --include=python3,python3-venv \
            --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
            --aptopt='Acquire::Retries "3"' bookworm "$tarball.partial"
        mv "$tarball.partial" "$tarball"
    fi
    podman import --quiet "$tarball" "$DEBIAN_BASE_IMAGE" >/dev/null
}

# The build context: wheels/ (every dependency, and requirements.txt naming seldon-graph's), app/ (the seldon-graph
# wheel) and the model image's scripts. Dependencies and the package are separate layers, so a source change only
# reinstalls the package. The wheels are resolved from the cache alone when it satisfies setup.py (fast, and the
# same versions as last time), else from the package index; setuptools and wheel are kept there too, to build the
# seldon-graph wheel offline next time. A fixed SOURCE_DATE_EPOCH makes that wheel byte-identical while the
# sources are, so podman's layer cache skips even that install on a rebuild.
context="$CACHE/context"
wheels="$context/wheels"
mkdir -p "$wheels" "$context/app"
rm -rf "$context/model" && cp -a "$ROOT/images/model" "$context/model"
rm -f "$wheels"/seldon_graph-*.whl
pip_wheel() {
    SOURCE_DATE_EPOCH=315532800 "$PYTHON" -m pip wheel --quiet --disable-pip-version-check \
        --find-links "$wheels" --wheel-dir "$wheels" "$@"
}
pip_wheel --no-index "$ROOT" 2>/dev/null || pip_wheel "$ROOT" "setuptools>=68" wheel
rm -f "$context"/app/*.whl && mv "$wheels"/seldon_graph-*.whl "$context/app/"
"$PYTHON" - "$context"/app/seldon_graph-*.whl >"$wheels/requirements.txt.new" <<'EOF_PY'
import sys, zipfile
from email.parser import Parser

with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
print("\n".join(r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r))
EOF_PY
cmp -s "$wheels/requirements.txt.new" "$wheels/requirements.txt" || mv "$wheels/requirements.txt.new" "$wheels/requirements.txt"
rm -f "$wheels/requirements.txt.new"

if $use_debian_base; then
    debian_base
    base_image="$DEBIAN_BASE_IMAGE"
else
    base_image="$PYTHON_BASE_IMAGE"
fi

for target in runtime model; do
    if [ "$target" = runtime ]; then image="$RUNTIME_IMAGE"; else image="$MODEL_IMAGE"; fi
    podman build --quiet --isolation chroot --layers --build-arg "BASE_IMAGE=$base_image" \
        --target "$target" --tag "$image" --file "$ROOT/images/Containerfile" "$context" >/dev/null
    echo "$image"
done
