"""Data functions over the tables: keyword-only, tenant-scoped, raising typed API errors."""
