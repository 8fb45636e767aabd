"""Database triggers that keep the audit log append-only (ADR 0002), on SQLite and PostgreSQL."""

from .models import CONTENT_COLUMNS

TABLE = "audit_auditentry"
WINDOW = "audit_maintenancewindow"
_WINDOW_OPEN = f"EXISTS (SELECT 1 FROM {WINDOW} WHERE closed_at IS NULL)"


def _unchanged(sqlite: bool) -> str:
    op = "IS" if sqlite else "IS NOT DISTINCT FROM"
    return " AND ".join(f"NEW.{c} {op} OLD.{c}" for c in (*CONTENT_COLUMNS, "id"))


def install_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER audit_no_delete BEFORE DELETE ON {TABLE}
                WHEN NOT {_WINDOW_OPEN}
                BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
            f"""CREATE TRIGGER audit_seal_only BEFORE UPDATE ON {TABLE}
                WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {_unchanged(True)})
                BEGIN SELECT RAISE(ABORT, 'audit rows may only be sealed'); END""",
        ]
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
                IF {_WINDOW_OPEN} THEN
                  RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit log is append-only';
              END IF;
              IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {_unchanged(False)} THEN
                RETURN NEW;
              END IF;
              RAISE EXCEPTION 'audit rows may only be sealed';
            END $$""",
            f"""CREATE TRIGGER audit_guard_rows BEFORE UPDATE OR DELETE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION audit_guard()""",
            f"""CREATE TRIGGER audit_guard_truncate BEFORE TRUNCATE ON {TABLE}
                FOR EACH STATEMENT EXECUTE FUNCTION audit_guard()""",
        ]
    raise NotImplementedError(f"audit triggers for {vendor}")


def drop_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_no_delete", "DROP TRIGGER IF EXISTS audit_seal_only"]
    return [
        f"DROP TRIGGER IF EXISTS audit_guard_rows ON {TABLE}",
        f"DROP TRIGGER IF EXISTS audit_guard_truncate ON {TABLE}",
        "DROP FUNCTION IF EXISTS audit_guard()",
    ]


def append_only_sql(vendor: str, table: str) -> list[str]:
    """Triggers that refuse UPDATE, DELETE and TRUNCATE on another append-only table (life events).

    The audit log's maintenance window is the one way past them (test database teardown).
    """
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                WHEN NOT {_WINDOW_OPEN}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                WHEN NOT {_WINDOW_OPEN}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        ]
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF {_WINDOW_OPEN} THEN
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
              END IF;
              RAISE EXCEPTION '{table} is append-only';
            END $$""",
            f"""CREATE TRIGGER {table}_guard_rows BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_guard()""",
            f"""CREATE TRIGGER {table}_guard_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION {table}_guard()""",
        ]
    raise NotImplementedError(f"append-only triggers for {vendor}")


def drop_append_only_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_delete", f"DROP TRIGGER IF EXISTS {table}_no_update"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_guard_rows ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_guard_truncate ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_guard()",
    ]


def reinstall_append_only(schema_editor, table: str) -> None:
    """For a migration that alters a column of an append-only table: SQLite rebuilds the table to do so,
    dropping its triggers, so the guard is put back (dropped first where it survived)."""
    vendor = schema_editor.connection.vendor
    for sql in drop_append_only_sql(vendor, table) + append_only_sql(vendor, table):
        schema_editor.execute(sql, params=None)
