"""Staff pages: exports."""
