"""What runs compiled flows: the engine, the callback server, the emulator and flow tests, the Sinch REST client."""
