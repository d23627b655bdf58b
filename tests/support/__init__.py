"""Helpers shared by the end-to-end tests: free ports, real processes, readiness polling, external venvs."""
