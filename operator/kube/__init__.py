"""The Kubernetes applier: the controller that keeps a cluster at the rendered desired state, the validating
webhook, the SeldonDeployment status, the API helpers they share and the `seldon-operator` CLI."""
