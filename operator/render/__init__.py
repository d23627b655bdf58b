"""Desired state: a SeldonDeployment rendered to the Kubernetes objects it asks for (pure functions).

Both appliers start here: kube/ writes these objects to a cluster, local/ runs them as processes on this machine.
`commands.py` is the CLI face of rendering (`seldon-graph validate | render`).
"""
