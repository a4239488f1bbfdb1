"""Persistence: Tortoise ORM models over one SQLite file, migrated in place at start."""
