"""ivrc studio: a local web app over the compiler, the engine and the emulator (diagram, problems, phone, coverage)."""
