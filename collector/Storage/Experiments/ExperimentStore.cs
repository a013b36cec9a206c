using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Storage.Experiments;

/// <summary>
/// The SQL of DC-Lab experiment sessions (<c>experiment_sessions</c>) and of their CSV (the raw dc
/// points). Start and stop write through a pooled connection of their own, a documented second
/// writer (Storage/README.md): one row per admin action, which SQLite's write lock serialises with
/// the ingest.
/// </summary>
public sealed class ExperimentStore(SqliteStore store)
{
    private const string Columns = "id, name, notes, sensor, started_ms, stopped_ms, started_by";

    /// <summary>Whether dc points are in the points table (not with Influx Mode=Instead).</summary>
    public bool KeepsRawDcPoints => store.KeepsRawPoints(ReadingKinds.Dc);

    public long Insert(string site, string name, string? notes, string? sensor, long startedMs, string startedBy)
    {
        using var connection = store.OpenSecondWriter();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO experiment_sessions (site, name, notes, sensor, started_ms, started_by)
            VALUES ($site, $name, $notes, $sensor, $started, $by) RETURNING id
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$notes", (object?)notes ?? DBNull.Value);
        command.Parameters.AddWithValue("$sensor", (object?)sensor ?? DBNull.Value);
        command.Parameters.AddWithValue("$started", startedMs);
        command.Parameters.AddWithValue("$by", startedBy);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Sets the stop time of a running session; false when there is none of that id, or it had stopped.</summary>
    public bool Stop(string site, long id, long nowMs)
    {
        using var connection = store.OpenSecondWriter();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE experiment_sessions SET stopped_ms = $now WHERE site = $site AND id = $id AND stopped_ms IS NULL";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$now", nowMs);
        return command.ExecuteNonQuery() == 1;
    }

    public ExperimentSession? Get(string site, long id)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM experiment_sessions WHERE site = $site AND id = $id";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$id", id);
        return Read(command).FirstOrDefault();
    }

    /// <summary>The newest sessions first.</summary>
    public IReadOnlyList<ExperimentSession> List(string site, int limit)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM experiment_sessions WHERE site = $site ORDER BY started_ms DESC, id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$limit", limit);
        return Read(command);
    }

    /// <summary>The raw points of one bench's fields in [from, to] (both inclusive), in time order.</summary>
    public async IAsyncEnumerable<(long TsMs, string Field, double Value)> DcPoints(
        string site, string sensor, IReadOnlyList<string> fields, long fromMs, long toMs,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var connection = store.OpenReader();
        var ids = new List<(long Id, string Field)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, field FROM series WHERE site = $site AND sensor = $sensor AND field IN ($v, $a, $w) ORDER BY id";
            command.Parameters.AddWithValue("$site", site);
            command.Parameters.AddWithValue("$sensor", sensor);
            command.Parameters.AddWithValue("$v", fields[0]);
            command.Parameters.AddWithValue("$a", fields[1]);
            command.Parameters.AddWithValue("$w", fields[2]);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }

        // Each field's points in time order (blocks decoded as they are reached), merged by time.
        var until = toMs == long.MaxValue ? long.MaxValue : toMs + 1;
        var cursors = new List<(IEnumerator<RawPoint> Points, string Field)>();
        try
        {
            foreach (var (id, field) in ids)
            {
                var points = PointReader.Range(connection, null, id, fromMs, until).GetEnumerator();
                if (points.MoveNext())
                {
                    cursors.Add((points, field));
                }
                else
                {
                    points.Dispose();
                }
            }

            while (cursors.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var first = 0;
                for (var i = 1; i < cursors.Count; i++)
                {
                    if (cursors[i].Points.Current.Ts < cursors[first].Points.Current.Ts)
                    {
                        first = i;
                    }
                }

                var (points, field) = cursors[first];
                yield return (points.Current.Ts, field, points.Current.Value);
                if (!points.MoveNext())
                {
                    points.Dispose();
                    cursors.RemoveAt(first);
                }
            }
        }
        finally
        {
            foreach (var (points, _) in cursors)
            {
                points.Dispose();
            }
        }
    }

    private static List<ExperimentSession> Read(Microsoft.Data.Sqlite.SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var list = new List<ExperimentSession>();
        while (reader.Read())
        {
            list.Add(new ExperimentSession(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.GetString(6)));
        }

        return list;
    }
}
