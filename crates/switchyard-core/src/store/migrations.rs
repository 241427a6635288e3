//! The schema migrations in `migrations/`, embedded with `include_str!` and handed to sqlx's
//! `Migrator`. sqlx's `migrate!` macro would read the folder itself, but it needs sqlx's
//! `macros` feature, which builds sqlx-macros and, in release builds, SQLite a second time.
//!
//! What sqlx records for a migration (version, description, SHA-384 of the file) must stay what
//! `migrate!` recorded, or databases made by earlier builds would refuse to open with a checksum
//! mismatch: the tests below resolve the folder with sqlx's own reader and compare.

use std::sync::LazyLock;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Every migration as `(version, description, SQL)`: the version and description are what sqlx
/// reads from the file name `<version>_<description>.sql` (underscores become spaces).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "requests",
        include_str!("../../migrations/0001_requests.sql"),
    ),
    (
        2,
        "sessions",
        include_str!("../../migrations/0002_sessions.sql"),
    ),
    (3, "steps", include_str!("../../migrations/0003_steps.sql")),
    (
        4,
        "responses",
        include_str!("../../migrations/0004_responses.sql"),
    ),
    (
        5,
        "routing",
        include_str!("../../migrations/0005_routing.sql"),
    ),
];

/// The migrator the store runs at open; built once (each migration's SHA-384 is computed here).
pub(super) static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    // As sqlx reads it: a file may opt out of the transaction.
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect(),
    )
});

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sha2::{Digest as _, Sha384};
    use sqlx::migrate::Migrator;

    use super::MIGRATOR;

    fn folder() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
    }

    /// The folder as `migrate!` saw it, read by sqlx's own resolver (the one the macro calls at
    /// compile time, with no `sqlx.toml`): same migrations, versions, descriptions, types,
    /// transaction settings, SQL and checksums. A file added to the folder but not to
    /// `MIGRATIONS` fails here.
    #[tokio::test]
    async fn the_embedded_migrations_are_what_migrate_macro_recorded() {
        let resolved = Migrator::new(folder()).await.unwrap();
        let ours = &*MIGRATOR;
        assert_eq!(ours.migrations.len(), resolved.migrations.len());
        for (a, b) in ours.migrations.iter().zip(resolved.migrations.iter()) {
            assert_eq!(a.version, b.version);
            assert_eq!(a.description, b.description);
            assert_eq!(a.migration_type, b.migration_type);
            assert_eq!(a.no_tx, b.no_tx);
            assert_eq!(a.sql.as_str(), b.sql.as_str());
            assert_eq!(a.checksum, b.checksum, "migration {}", a.version);
        }
        assert_eq!(ours.table_name, "_sqlx_migrations");
        assert!(ours.locking);
        assert!(!ours.ignore_missing);
    }

    /// The checksum sqlx stores in `_sqlx_migrations` is SHA-384 of the file's bytes.
    #[test]
    fn checksums_are_sha384_of_the_files() {
        let mut files: Vec<_> = std::fs::read_dir(folder())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATOR.migrations.len());
        for (file, migration) in files.iter().zip(MIGRATOR.migrations.iter()) {
            let bytes = std::fs::read(file).unwrap();
            assert_eq!(
                migration.checksum.as_ref(),
                &Sha384::digest(&bytes)[..],
                "{}",
                file.display()
            );
        }
    }

    /// A database migrated by an earlier build (rows written as `migrate!` wrote them) opens
    /// and is not migrated again.
    #[tokio::test]
    async fn a_database_migrated_by_the_macro_opens() {
        let dir = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("old.db"))
            .create_if_missing(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        Migrator::new(folder())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, i64::try_from(MIGRATOR.migrations.len()).unwrap());
    }
}
