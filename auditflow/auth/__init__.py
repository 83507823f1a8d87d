"""Sign-in: password hashing and the session."""
