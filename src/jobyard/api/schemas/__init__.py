"""Wire shapes of the native API: requests refuse unknown fields, answers list every field."""
