"""motorpool: a self-hosted connected-car platform and its Python SDK."""
