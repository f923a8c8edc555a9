"""Chat and completions: request parsing, the answer engine, wire shapes, fixtures, the hot-path cache."""
