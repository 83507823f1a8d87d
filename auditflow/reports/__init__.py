"""The summary engine and the report writers."""
