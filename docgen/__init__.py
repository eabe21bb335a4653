"""Framework-free core shared by the API and the workers (never imports litestar)."""
