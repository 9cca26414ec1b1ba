"""Posit Connect's content jobs API, under /connect/__api__."""

from jobyard.faces.connect.routes import router

__all__ = ["router"]
