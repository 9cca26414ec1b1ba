"""The version, in a module of its own so that every part can read it without loading the rest."""

__version__ = "0.1.0"
