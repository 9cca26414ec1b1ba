"""Examples that the README tour and the tests run."""
