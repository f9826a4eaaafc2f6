"""The callback server: signed Sinch callbacks over HTTP, answered by the engine; logs and metrics."""
