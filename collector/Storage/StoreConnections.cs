using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>The connections of the store's classes, named for what they do.</summary>
internal static class StoreConnections
{
    /// <summary>
    /// A pooled connection that writes beside the ingest writer: admin actions and housekeeping
    /// (each listed in Storage/README.md). WAL lets it run beside the readers; SQLite's write lock
    /// serialises it with the ingest's commits (waiting up to the command timeout, 30 s).
    /// </summary>
    public static SqliteConnection OpenSecondWriter(this SqliteStore store)
    {
        var connection = store.OpenReader();
        // The connection that starts the WAL over cuts the file back to this size.
        WalCheckpointer.LimitJournal(connection);
        return connection;
    }
}
