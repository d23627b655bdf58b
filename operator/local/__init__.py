"""The local backend: applies a SeldonDeployment's desired state as processes on this machine behind a real Envoy.

`seldon-graph up/status/logs/down` (commands.py) talk to one supervisor per state directory (deployment_supervisor.py)
through files in that directory (home.py): desired specs go in, status and logs come out.
"""
