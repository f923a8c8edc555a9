"""API keys → tenants (organization + project): derived from the key by default, or read from a keys file."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from contracts import errors
from mockserver.ids import base62

__all__ = ["Tenant", "KeyRing", "KeysFileError"]

_WELL_FORMED = re.compile(r"^sk-[A-Za-z0-9_\-]{1,200}$")


class KeysFileError(ValueError):
    """The keys file cannot be read; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Tenant:
    """Who a request acts for; `key` scopes every stored object."""

    organization_id: str
    organization_name: str
    project_id: str

    @property
    def key(self) -> str:
        return f"{self.organization_id}/{self.project_id}"

    @property
    def model_slug(self) -> str:
        """The organization part of `ft:` model names: the org name, or `personal`."""
        slug = re.sub(r"[^a-z0-9-]+", "-", self.organization_name.lower()).strip("-")
        return slug or "personal"


def derived_tenant(api_key: str) -> Tenant:
    """Each unknown key gets an organization of its own, stable across restarts and processes."""
    digest = hashlib.sha256(api_key.encode()).digest()
    return Tenant(organization_id="org-" + base62(digest, 24), organization_name="personal",
                  project_id="proj_" + base62(digest[::-1], 24))


class KeyRing:
    """Resolves the Authorization header to a Tenant, or raises the real 401."""

    def __init__(self, known: dict[str, Tenant] | None = None, *, require_known: bool = False) -> None:
        self.known = known or {}
        self.require_known = require_known

    @classmethod
    def from_file(cls, path: Path | None, *, require_known: bool = False) -> KeyRing:
        return cls(_read_keys_file(path) if path else None, require_known=require_known)

    def authenticate(self, authorization: str | None) -> Tenant:
        if not authorization:
            raise errors.missing_api_key()
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise errors.missing_api_key()
        tenant = self.known.get(key)
        if tenant is not None:
            return tenant
        if self.require_known or not _WELL_FORMED.match(key):
            raise errors.invalid_api_key(key)
        return derived_tenant(key)


def _read_keys_file(path: Path) -> dict[str, Tenant]:
    text = Path(path).read_text(encoding="utf-8")
    try:
        if Path(path).suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import tomllib

            data = tomllib.loads(text)
    except ValueError as e:
        raise KeysFileError(f"{path}: cannot parse: {e}") from None
    entries = data.get("keys", data) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise KeysFileError(f"{path}: expected a table of keys (`[keys.\"sk-...\"]` or {{\"sk-...\": {{...}}}})")
    return {key: _tenant_entry(path, key, entry) for key, entry in entries.items()}


def _tenant_entry(path: Path, key: str, entry: object) -> Tenant:
    if not isinstance(entry, dict):
        raise KeysFileError(f"{path}: entry for {key[:6]}… must be a table")
    derived = derived_tenant(key)
    org = entry.get("organization_id") or entry.get("organization") or derived.organization_id
    return Tenant(organization_id=str(org),
                  organization_name=str(entry.get("organization_name") or entry.get("name") or "personal"),
                  project_id=str(entry.get("project_id") or entry.get("project") or derived.project_id))
