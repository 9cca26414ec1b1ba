"""Basiq's jobs API, under /basiq."""

from jobyard.faces.basiq.routes import router

__all__ = ["router"]
