"""Each face driven by its vendor's official client against a live server."""
