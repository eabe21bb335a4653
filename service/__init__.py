"""The HTTP API (Litestar): validate → record job → enqueue → report status → redirect downloads."""
