"""Use cases. The native API, every face, the dashboard and the CLI reach data only through here."""
