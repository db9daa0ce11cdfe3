"""SQL storage: models, engine and sessions, Alembic migrations, catalog and plan import, queries."""
