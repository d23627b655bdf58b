"""Example model classes and SeldonDeployments that run locally out of the box."""
