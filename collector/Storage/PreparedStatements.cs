using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>
/// The statements of one write transaction: each SQL text is prepared once and reused for every
/// row, and all of them are disposed together with the transaction.
/// </summary>
internal sealed class PreparedStatements(SqliteConnection connection, SqliteTransaction transaction) : IDisposable
{
    private readonly List<SqliteCommand> _commands = [];

    /// <summary>A command in the transaction with the named parameters, not prepared; the caller disposes it.</summary>
    public SqliteCommand Command(string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    /// <summary>A prepared command, owned (and disposed) by this set.</summary>
    public SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = Command(sql, parameters);
        command.Prepare();
        _commands.Add(command);
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
