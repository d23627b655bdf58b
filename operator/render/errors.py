"""The one error rendering raises, so callers (controller, CLI, local runtime) catch a single type."""

from __future__ import annotations


class RenderError(ValueError):
    """A SeldonDeployment that cannot be turned into objects; the message says what to fix."""
