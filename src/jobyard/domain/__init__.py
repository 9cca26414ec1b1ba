"""The pure core: entities, states, transitions, filters and policies. No I/O lives here."""
