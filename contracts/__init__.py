"""The wire contract shared by the emulator and the client: limits, model catalog, errors, shapes."""
