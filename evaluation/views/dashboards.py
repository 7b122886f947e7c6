"""Staff pages: dashboards."""
