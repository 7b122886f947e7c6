"""Staff pages: judges."""
