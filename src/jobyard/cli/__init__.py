"""The `jobyard` command."""
