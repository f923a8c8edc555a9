"""Models: routes and store (base catalog models and tuned models)."""
