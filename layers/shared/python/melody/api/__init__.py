"""The HTTP API: FastAPI routers (one per area), dependencies and the error model."""
