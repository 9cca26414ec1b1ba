"""Basiq's jobs API, under /basiq."""
