"""Jobyard: a self-hosted jobs service. Hand work to workers and follow every job while it runs."""

__version__ = "0.1.0"
