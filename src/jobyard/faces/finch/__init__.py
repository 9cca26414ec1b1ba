"""Finch's automated and manual jobs API, under /finch."""

from jobyard.faces.finch.routes import router

__all__ = ["router"]
