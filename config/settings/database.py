"""The database: DATABASE_URL (PostgreSQL in production), a SQLite file in the project by default."""

from config.env import BASE_DIR, env

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; a busy timeout makes
    # concurrent writers wait instead of failing with "database is locked".
    # secure_delete overwrites deleted content with zeros, so an erased customer's
    # data does not linger in free pages of the file (customer_delete also checkpoints the WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Parameters bound on the server, and each statement a connection has run twice
    # prepared: PostgreSQL then skips parsing and planning it. This halved the
    # database CPU of a create and of a retrieve (docs/SCALING.md). Set
    # DATABASE_PREPARED_STATEMENTS=0 behind a pooler in transaction mode that cannot
    # keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 2})
