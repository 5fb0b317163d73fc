"""Alembic migration scripts (script_location); run them through services.schema."""
