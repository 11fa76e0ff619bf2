"""Solution.claim_count and claim_expires_first, kept by triggers on the claim table (PostgreSQL and SQLite).

The queue reads them instead of counting each candidate's claims (annotations.selectors.workbench
`live_claims_expression`). A trigger recounts a solution's claims from the claim table whenever one is
added, one that may still be live is deleted, or an expiry moves earlier. Renewals (a later expiry) and
deleting expired claims skip it: they can only leave `claim_expires_first` at or before the true earliest
expiry, which sends the queue to its exact per-row count. On PostgreSQL the trigger locks the solution row
before recounting, so the recount's snapshot sees every claim committed before it.
"""

from django.db import migrations, models

RECOUNT = """UPDATE annotations_solution SET
 claim_count = (SELECT COUNT(*) FROM annotations_claim WHERE solution_id = {target}),
 claim_expires_first = (SELECT MIN(expires_at) FROM annotations_claim WHERE solution_id = {target})
 WHERE id = {target}"""

POSTGRESQL_CREATE = [
    f"""CREATE FUNCTION annotations_solution_claims_recount(target bigint) RETURNS void AS $$
BEGIN
  PERFORM 1 FROM annotations_solution WHERE id = target FOR UPDATE;
  {RECOUNT.format(target="target")};
END $$ LANGUAGE plpgsql""",
    """CREATE FUNCTION annotations_claim_changed() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM annotations_solution_claims_recount(NEW.solution_id);
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.expires_at > now() THEN
      PERFORM annotations_solution_claims_recount(OLD.solution_id);
    END IF;
  ELSE
    PERFORM annotations_solution_claims_recount(NEW.solution_id);
    IF NEW.solution_id <> OLD.solution_id THEN
      PERFORM annotations_solution_claims_recount(OLD.solution_id);
    END IF;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER annotations_claim_inserted AFTER INSERT ON annotations_claim
 FOR EACH ROW EXECUTE FUNCTION annotations_claim_changed()""",
    # Only the triggers write the two columns: a write of a stale copy from the application keeps the stored values.
    """CREATE FUNCTION annotations_solution_claims_kept() RETURNS trigger AS $$
BEGIN
  NEW.claim_count := OLD.claim_count;
  NEW.claim_expires_first := OLD.claim_expires_first;
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER annotations_solution_claims_kept BEFORE UPDATE ON annotations_solution
 FOR EACH ROW WHEN (pg_trigger_depth() = 0 AND (NEW.claim_count IS DISTINCT FROM OLD.claim_count
   OR NEW.claim_expires_first IS DISTINCT FROM OLD.claim_expires_first))
 EXECUTE FUNCTION annotations_solution_claims_kept()""",
    """CREATE TRIGGER annotations_claim_deleted AFTER DELETE ON annotations_claim
 FOR EACH ROW EXECUTE FUNCTION annotations_claim_changed()""",
    """CREATE TRIGGER annotations_claim_moved AFTER UPDATE ON annotations_claim
 FOR EACH ROW WHEN (NEW.expires_at < OLD.expires_at OR NEW.solution_id <> OLD.solution_id)
 EXECUTE FUNCTION annotations_claim_changed()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS annotations_solution_claims_kept ON annotations_solution",
    "DROP FUNCTION IF EXISTS annotations_solution_claims_kept()",
    "DROP TRIGGER IF EXISTS annotations_claim_moved ON annotations_claim",
    "DROP TRIGGER IF EXISTS annotations_claim_deleted ON annotations_claim",
    "DROP TRIGGER IF EXISTS annotations_claim_inserted ON annotations_claim",
    "DROP FUNCTION IF EXISTS annotations_claim_changed()",
    "DROP FUNCTION IF EXISTS annotations_solution_claims_recount(bigint)",
]
# SQLite has no row locks (writers are serialized), so every delete recounts and nothing needs locking.
SQLITE_CREATE = [
    f"""CREATE TRIGGER annotations_claim_inserted AFTER INSERT ON annotations_claim
 BEGIN {RECOUNT.format(target="NEW.solution_id")}; END""",
    f"""CREATE TRIGGER annotations_claim_deleted AFTER DELETE ON annotations_claim
 BEGIN {RECOUNT.format(target="OLD.solution_id")}; END""",
    f"""CREATE TRIGGER annotations_claim_moved AFTER UPDATE ON annotations_claim
 WHEN NEW.expires_at < OLD.expires_at OR NEW.solution_id <> OLD.solution_id
 BEGIN {RECOUNT.format(target="NEW.solution_id")}; {RECOUNT.format(target="OLD.solution_id")}; END""",
    # A write of a stale copy of the two columns is recounted at once (the recount's own update does not recurse).
    f"""CREATE TRIGGER annotations_solution_claims_kept AFTER UPDATE OF claim_count, claim_expires_first
 ON annotations_solution
 WHEN NEW.claim_count IS NOT OLD.claim_count OR NEW.claim_expires_first IS NOT OLD.claim_expires_first
 BEGIN {RECOUNT.format(target="NEW.id")}; END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS annotations_solution_claims_kept",
    "DROP TRIGGER IF EXISTS annotations_claim_moved",
    "DROP TRIGGER IF EXISTS annotations_claim_deleted",
    "DROP TRIGGER IF EXISTS annotations_claim_inserted",
]
FILL = RECOUNT.format(target="annotations_solution.id") + " AND id IN (SELECT solution_id FROM annotations_claim)"


def _statements(vendor, postgresql, sqlite):
    if vendor == "postgresql":
        return postgresql
    if vendor == "sqlite":
        return sqlite
    raise NotImplementedError(f"Claim-count triggers exist for PostgreSQL and SQLite, not {vendor}.")


def create_triggers(apps, schema_editor):
    # The existing rows first: once the guard trigger is there, only the claim triggers may write the columns.
    for statement in [FILL, *_statements(schema_editor.connection.vendor, POSTGRESQL_CREATE, SQLITE_CREATE)]:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, POSTGRESQL_DROP, SQLITE_DROP):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0010_solution_waiting_for_reformat"),
    ]

    operations = [
        migrations.AddField(
            model_name="solution",
            name="claim_count",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, help_text="Claims on it (live or not)."
            ),
        ),
        migrations.AddField(
            model_name="solution",
            name="claim_expires_first",
            field=models.DateTimeField(
                blank=True, editable=False, help_text="The earliest expiry among its claims (null: none).", null=True
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
