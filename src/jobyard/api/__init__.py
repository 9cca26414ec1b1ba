"""The native HTTP API (`/v1`)."""
