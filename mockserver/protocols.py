"""The HTTP/1.1 protocol `mockserver serve` runs (`--http`): httptools when importable, else h11; same bytes."""

from __future__ import annotations

from mockserver.protocol import EmulatorH11Protocol

__all__ = ["protocol_class"]


def protocol_class(name: str = "auto") -> type:
    """The protocol `--http NAME` serves with: `EmulatorHttpToolsProtocol` (mockserver.protocol_httptools) when
    httptools is importable (auto, the default) or asked for, `EmulatorH11Protocol` (mockserver.protocol) for h11,
    the fallback. Both write the same bytes."""
    if name != "h11":
        try:
            from mockserver.protocol_httptools import EmulatorHttpToolsProtocol
        except ImportError:
            if name == "httptools":
                raise
        else:
            return EmulatorHttpToolsProtocol
    return EmulatorH11Protocol
