//! Upkeep of the projection schemas around a rebuild: dropping what earlier rebuilds left
//! (unfinished `rebuild_*`, retired projections beyond those kept), and the secondary indexes
//! dropped for the bulk replay and recreated, with fresh planner statistics, before the swap.

use anyhow::Context as _;
use sqlx::{PgPool, Row};
use tracing::{info, warn};

use super::{REBUILD_PREFIX, RETIRED_PREFIX};

/// Drops every retired projection but the newest `keep` (their names carry the swap's time,
/// so they sort oldest first); returns the dropped ones. Each retired schema is a whole copy
/// of the projection, so without this every rebuild would leave another behind.
pub(super) async fn prune_retired(pool: &PgPool, keep: usize) -> anyhow::Result<Vec<String>> {
    let mut retired: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname DESC",
    )
    .bind(RETIRED_PREFIX)
    .fetch_all(pool)
    .await?;
    let dropped = retired.split_off(keep.min(retired.len()));
    for schema in &dropped {
        drop_schema(pool, schema)
            .await
            .with_context(|| format!("dropping the retired projection {schema}"))?;
        info!(%schema, "retired projection dropped");
    }
    Ok(dropped)
}

/// `rebuild_*` schemas left by rebuilds that died (we hold the rebuild lock, so none is in
/// progress).
pub(super) async fn drop_leftovers(pool: &PgPool) -> anyhow::Result<()> {
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname",
    )
    .bind(REBUILD_PREFIX)
    .fetch_all(pool)
    .await?;
    for schema in leftovers {
        warn!(%schema, "dropping the unfinished projection of an earlier rebuild");
        drop_schema(pool, &schema).await?;
    }
    Ok(())
}

pub(super) async fn drop_schema(pool: &PgPool, schema: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quote_ident(schema)
    ))
    .execute(pool)
    .await?;
    Ok(())
}

/// An index to recreate: its name and `CREATE INDEX` statement, fully qualified.
#[derive(Debug)]
pub(super) struct IndexDef {
    name: String,
    create: String,
}

/// Drops the indexes of `schema` that back no constraint (primary keys and unique
/// constraints stay: the upserts and duplicate checks need them) and returns their
/// definitions.
pub(super) async fn drop_secondary_indexes(
    pool: &PgPool,
    schema: &str,
) -> anyhow::Result<Vec<IndexDef>> {
    let mut tx = pool.begin().await?;
    // With only pg_catalog on the path, pg_get_indexdef qualifies every name it prints.
    sqlx::query("SET LOCAL search_path = pg_catalog")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name, pg_get_indexdef(i.indexrelid) AS create \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY c.relname",
    )
    .bind(schema)
    .fetch_all(&mut *tx)
    .await?;
    let mut defs = Vec::with_capacity(rows.len());
    for row in rows {
        let def = IndexDef {
            name: row.try_get("name")?,
            create: row.try_get("create")?,
        };
        sqlx::query(&format!("DROP INDEX {}", def.name))
            .execute(&mut *tx)
            .await?;
        defs.push(def);
    }
    tx.commit().await?;
    Ok(defs)
}

pub(super) async fn recreate_indexes(pool: &PgPool, defs: &[IndexDef]) -> anyhow::Result<()> {
    for def in defs {
        let mut tx = pool.begin().await?;
        sqlx::query("SET LOCAL search_path = pg_catalog")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(&def.create)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("recreating index {}", def.name))?;
        tx.commit().await?;
    }
    Ok(())
}

pub(super) async fn analyze(pool: &PgPool, schema: &str) -> anyhow::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
    )
    .bind(schema)
    .fetch_all(pool)
    .await?;
    if !tables.is_empty() {
        sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// A PostgreSQL identifier, quoted.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("live"), "\"live\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
