"""Image → source folder: what `s2i build` would have turned into the image, run in place instead.

`--source IMAGE=DIR` (repeatable) and `--sources FILE` (YAML `{image: dir}`) map images to folders. An IMAGE without
a tag matches every tag of that repository. A folder holds the model code, an optional `requirements.txt` and the
s2i `environment` (or `.s2i/environment`) with MODEL_NAME, SERVICE_TYPE, PERSISTENCE and any other variables; or,
for an image `mlserver build` made, MLServer's `model-settings.json` or `settings.json` at its top (then it runs in
MLServer, not in the wrapper).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ENVIRONMENT_FILES = ("environment", ".s2i/environment")
REQUIREMENTS_FILE = "requirements.txt"
# the wrapper is this project's: a requirement on seldon-core must not install the original over it
WRAPPER_REQUIREMENT = re.compile(r"^\s*seldon[-_.]core\s*($|[\[<>=!~;\s])", re.IGNORECASE)
MLSERVER_SETTINGS_FILES = ("model-settings.json", "settings.json")
# likewise MLServer in an `mlserver build` folder: the project's extra pins the MLServer the folder runs in
MLSERVER_REQUIREMENT = re.compile(r"^\s*mlserver\s*($|[\[<>=!~;\s])", re.IGNORECASE)


class SourceError(ValueError):
    """A mapping or a source folder that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class S2iSource:
    """A source folder as the s2i Python builder reads it (or as `mlserver build` does, when `mlserver`)."""

    folder: str
    environment: tuple[tuple[str, str], ...]
    requirements: tuple[str, ...]
    mlserver: bool = False  # MLServer settings at its top: `mlserver start` serves it, with no s2i environment

    @property
    def env(self) -> dict[str, str]:
        return dict(self.environment)


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag) of an image reference; the tag is "" when there is none (a registry port is no tag)."""
    repository, _, digest = image.partition("@")
    if digest:
        return repository, "@" + digest
    head, sep, tag = repository.rpartition(":")
    if sep and "/" not in tag:
        return head, tag
    return repository, ""


def parse_mappings(pairs: list[str], files: list[Path], cwd: Path) -> dict[str, str]:
    """image → absolute folder from `IMAGE=DIR` pairs and `{image: dir}` YAML files (pairs win)."""
    found: dict[str, str] = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise SourceError(f"cannot read --sources file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise SourceError(f"--sources file {path} is not valid YAML: {exc}".replace("\n", " ")) from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SourceError(f"--sources file {path} must map image names to folders ({{image: dir}})")
        found.update({str(k): str((path.parent / v).resolve()) for k, v in data.items()})
    for pair in pairs:
        image, sep, folder = pair.partition("=")
        if not sep or not image or not folder:
            raise SourceError(f"--source {pair!r} is not IMAGE=DIR")
        found[image] = str((cwd / folder).resolve())
    for image, folder in found.items():
        if not Path(folder).is_dir():
            raise SourceError(f"the source folder of {image} does not exist: {folder}")
    return found


def folder_for(image: str, mappings: dict[str, str]) -> str | None:
    """The folder mapped to `image`: an exact `repo:tag` mapping first, then a tagless `repo` one."""
    if image in mappings:
        return mappings[image]
    repository, _ = split_image(image)
    return next((folder for key, folder in mappings.items() if split_image(key) == (repository, "")), None)


def read_environment(text: str) -> list[tuple[str, str]]:
    """`KEY=VALUE` lines of an s2i environment file (blank lines and # comments skipped, quotes stripped)."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        pairs.append((key.strip(), value))
    return pairs


def read_source(folder: str) -> S2iSource:
    """The s2i (or `mlserver build`) view of `folder`: its environment file and requirements (without the line on
    the server the project provides: seldon-core, or MLServer)."""
    root = Path(folder)
    mlserver = any((root / name).is_file() for name in MLSERVER_SETTINGS_FILES)
    environment: list[tuple[str, str]] = []
    for name in () if mlserver else ENVIRONMENT_FILES:
        if (root / name).is_file():
            environment = read_environment((root / name).read_text())
            break
    provided = MLSERVER_REQUIREMENT if mlserver else WRAPPER_REQUIREMENT
    requirements: list[str] = []
    if (root / REQUIREMENTS_FILE).is_file():
        for line in (root / REQUIREMENTS_FILE).read_text().splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#") and not provided.match(line):
                requirements.append(line)
    return S2iSource(str(root), tuple(environment), tuple(requirements), mlserver)
