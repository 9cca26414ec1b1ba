"""Finch's automated and manual jobs API, under /finch."""
