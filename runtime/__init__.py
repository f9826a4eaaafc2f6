"""The ivrc runtime: verifies Sinch callbacks and walks a compiled machine across them."""
