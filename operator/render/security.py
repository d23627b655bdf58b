"""TLS for a predictor (`ssl.certSecretName`): the certificate secret mounted into the entrypoint pod."""

from __future__ import annotations

from seldon_graph.operator.render.containers import set_env

CERT_VOLUME = "seldon-cert-volume"


def add_certificates(deployment: dict, secret_name: str, mount_path: str) -> None:
    """Mount the secret read-only into every container of `deployment` and point SELDON_CERT_MOUNT_PATH at it."""
    pod = deployment["spec"]["template"]["spec"]
    volumes = pod.setdefault("volumes", [])
    if not any(v.get("name") == CERT_VOLUME for v in volumes):
        volumes.append({"name": CERT_VOLUME, "secret": {"secretName": secret_name}})
    for container in pod["containers"]:
        mounts = container.setdefault("volumeMounts", [])
        if not any(m.get("name") == CERT_VOLUME for m in mounts):
            mounts.append({"name": CERT_VOLUME, "mountPath": mount_path, "readOnly": True})
        set_env(container, "SELDON_CERT_MOUNT_PATH", mount_path)
