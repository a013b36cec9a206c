using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage.Schema;

/// <summary>One numbered schema step: applied once, in a transaction, then <c>PRAGMA user_version</c> is its number.</summary>
public sealed record Migration(int Version, string Description, Action<MigrationContext> Apply);

/// <summary>The connection and transaction a migration runs in.</summary>
public sealed class MigrationContext(SqliteConnection connection, SqliteTransaction transaction)
{
    public void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    /// <summary>Adds a column unless the table has it already (stores written before the ledger existed).</summary>
    public void AddColumnIfMissing(string table, string column, string definition)
    {
        using var info = Command("SELECT count(*) FROM pragma_table_info($table) WHERE name = $column");
        info.Parameters.AddWithValue("$table", table);
        info.Parameters.AddWithValue("$column", column);
        if ((long)info.ExecuteScalar()! == 0)
        {
            // DDL takes no parameters; table, column and definition are constants of the migration.
            Execute($"ALTER TABLE {table} ADD COLUMN {column} {definition}");
        }
    }

    /// <summary>Whether the store has the table (one a later step of the ledger, or the conversion at start, drops).</summary>
    public bool TableExists(string table)
    {
        using var command = Command("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $table");
        command.Parameters.AddWithValue("$table", table);
        return (long)command.ExecuteScalar()! > 0;
    }

    private SqliteCommand Command(string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}

/// <summary>A store file whose schema is newer than this program knows: opening it could damage data a newer collector wrote.</summary>
public sealed class StoreVersionException(string message) : Exception(message);

/// <summary>
/// The migration ledger of an SQLite file: <c>PRAGMA user_version</c> holds the number of the last
/// migration applied. Opening a file applies the missing ones in order, each in its own
/// transaction (BEGIN IMMEDIATE, so two processes opening the same file apply a step once), and
/// refuses a file whose version is higher than the newest migration known.
/// </summary>
public static class SchemaLedger
{
    /// <summary>The file's schema version (0: new, or written before the ledger existed).</summary>
    public static int Version(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Brings the file up to the newest migration; returns the migrations applied.</summary>
    /// <exception cref="StoreVersionException">The file was written by a newer program.</exception>
    public static int Migrate(SqliteConnection connection, string file, IReadOnlyList<Migration> migrations)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"migration {i + 1} of {file} is numbered {migrations[i].Version}: the ledger must count 1, 2, 3, ...");
            }
        }

        var newest = migrations.Count;
        var applied = 0;
        foreach (var migration in migrations)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var version = Version(connection, transaction);
            if (version > newest)
            {
                throw new StoreVersionException(
                    $"{file} has schema version {version}, but this collector knows versions up to {newest}: it was written by a newer collector. " +
                    "Run that version (or newer), or restore a backup made by this one; the file was not changed.");
            }

            if (version >= migration.Version)
            {
                continue;
            }

            migration.Apply(new MigrationContext(connection, transaction));
            using (var bump = connection.CreateCommand())
            {
                bump.Transaction = transaction;
                // PRAGMA takes no parameters; the version is an int of the ledger, not input.
                bump.CommandText = FormattableString.Invariant($"PRAGMA user_version = {migration.Version}");
                bump.ExecuteNonQuery();
            }

            transaction.Commit();
            applied++;
        }

        if (migrations.Count == 0 && Version(connection) > 0)
        {
            throw new StoreVersionException($"{file} has schema version {Version(connection)}, but this program knows none.");
        }

        return applied;
    }
}
