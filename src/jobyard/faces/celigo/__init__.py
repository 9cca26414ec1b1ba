"""Celigo integrator.io's job API, under /celigo/v1."""
