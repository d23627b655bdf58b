"""Label and annotation names of a SeldonDeployment that more than one component reads or writes.

Defined once so the operator's rendering, the ingress translations and the engine cannot drift apart.
"""

from __future__ import annotations

# Labels the rendered objects carry.
SDEP_ID_LABEL = "seldon-deployment-id"
SVC_LABEL_PREFIX = "seldon-app-svc-"

# Annotations on the SeldonDeployment or a predictor.
NO_ENGINE_ANNOTATION = "seldon.io/no-engine"
SEPARATE_ENGINE_ANNOTATION = "seldon.io/engine-separate-pod"
SVC_NAME_ANNOTATION = "seldon.io/svc-name"
REST_TIMEOUT_ANNOTATION = "seldon.io/rest-timeout"
GRPC_TIMEOUT_ANNOTATION = "seldon.io/grpc-timeout"
GRPC_MAX_MESSAGE_ANNOTATION = "seldon.io/grpc-max-message-size"
AMBASSADOR_SERVICE_NAME_ANNOTATION = "seldon.io/ambassador-service-name"
AMBASSADOR_HEADER_ANNOTATION = "seldon.io/ambassador-header"
