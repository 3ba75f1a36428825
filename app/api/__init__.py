"""HTTP layer: routers, dependencies, error handlers, JSON responses."""
