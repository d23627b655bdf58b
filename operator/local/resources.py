"""Secrets and ConfigMaps given beside the SeldonDeployments in the file `up` reads, as the kubelet resolves them
into a container's environment (`env[].valueFrom`, `envFrom`); a reference to a missing one is an error naming it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

SECRET, CONFIG_MAP = "Secret", "ConfigMap"
KINDS = (SECRET, CONFIG_MAP)


class MissingReference(LookupError):
    """A non-optional Secret/ConfigMap (or key) a container refers to is not in the file."""


@dataclass(frozen=True)
class Resource:
    kind: str
    namespace: str  # "" when the document names none: it is then in the namespace of whoever refers to it
    name: str
    values: tuple[tuple[str, str], ...]


def from_document(doc: dict) -> Resource:
    """A Secret (base64 `data`, plain `stringData`, which wins) or ConfigMap (`data`) document; ValueError if bad."""
    metadata = doc.get("metadata") or {}
    kind, name = doc.get("kind"), metadata.get("name")
    if kind not in KINDS:
        raise ValueError(f"a {kind} document is not one of {', '.join(KINDS)}")
    if not name:
        raise ValueError(f"a {kind} document has no metadata.name")
    values: dict[str, str] = {}
    for key, value in (doc.get("data") or {}).items():
        if kind == SECRET:
            try:
                values[key] = base64.b64decode(str(value), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise ValueError(f"Secret {name!r}: data.{key} is not base64 text") from None
        else:
            values[key] = str(value)
    if kind == SECRET:
        values.update({key: str(value) for key, value in (doc.get("stringData") or {}).items()})
    return Resource(kind, metadata.get("namespace") or "", name, tuple(sorted(values.items())))


@dataclass(frozen=True)
class Resources:
    """The Secrets and ConfigMaps of one `up` file."""

    items: tuple[Resource, ...] = field(default=())

    @classmethod
    def from_documents(cls, docs: list[dict]) -> Resources:
        return cls(tuple(from_document(d) for d in docs))

    def values(self, kind: str, namespace: str, name: str) -> dict[str, str] | None:
        for item in self.items:
            if item.kind == kind and item.name == name and item.namespace in ("", namespace):
                return dict(item.values)
        return None

    def value_from(self, source: dict, namespace: str, variable: str) -> str | None:
        """An env `valueFrom` with secretKeyRef/configMapKeyRef; None when optional and absent or another source."""
        for key, kind in (("secretKeyRef", SECRET), ("configMapKeyRef", CONFIG_MAP)):
            ref = source.get(key)
            if ref is None:
                continue
            values = self.values(kind, namespace, ref.get("name", ""))
            if values is None or ref.get("key") not in values:
                if ref.get("optional"):
                    return None
                what = f"{kind} {ref.get('name')!r}" + (f" key {ref.get('key')!r}" if values is not None else "")
                raise MissingReference(f"{what} (env {variable}) is not in namespace {namespace!r} of the file")
            return values[ref["key"]]
        return None

    def env_from(self, sources: list[dict], namespace: str) -> list[tuple[str, str]]:
        """`envFrom` entries (secretRef/configMapRef, with `prefix`) as (name, value) pairs in order."""
        pairs = []
        for source in sources:
            for key, kind in (("secretRef", SECRET), ("configMapRef", CONFIG_MAP)):
                ref = source.get(key)
                if ref is None:
                    continue
                values = self.values(kind, namespace, ref.get("name", ""))
                if values is None:
                    if ref.get("optional"):
                        continue
                    raise MissingReference(f"{kind} {ref.get('name')!r} (envFrom) is not in namespace {namespace!r}")
                prefix = source.get("prefix") or ""
                pairs += [(prefix + name, value) for name, value in sorted(values.items())]
        return pairs
