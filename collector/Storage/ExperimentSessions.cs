using System.Globalization;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>A DC-Lab experiment session: a named, annotated time window over one bench or all of them.</summary>
public sealed record ExperimentSession(long Id, string Name, string? Notes, string? Sensor, DateTimeOffset Started, DateTimeOffset? Stopped, string StartedBy);

/// <summary>The body of <c>POST /api/v1/experiments</c>.</summary>
public sealed record ExperimentStartRequest(string? Name, string? Notes, string? Sensor, string? By);

/// <summary>
/// Experiment sessions in their own table (<c>experiment_sessions</c>) of the collector's store,
/// written through a connection of their own (WAL lets it run beside the ingest writer). A
/// session's CSV holds the raw dc points of its bench(es) between start and stop.
/// </summary>
public sealed class ExperimentSessions
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS experiment_sessions (
            id INTEGER PRIMARY KEY, site TEXT NOT NULL, name TEXT NOT NULL, notes TEXT, sensor TEXT,
            started_ms INTEGER NOT NULL, stopped_ms INTEGER, started_by TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS experiment_sessions_started ON experiment_sessions (site, started_ms);
        """;

    private readonly SqliteStore _store;
    private readonly SiteModel _site;
    private readonly TimeProvider _clock;

    public ExperimentSessions(SqliteStore store, SiteModel site, TimeProvider clock)
    {
        _store = store;
        _site = site;
        _clock = clock;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = Schema;
        command.ExecuteNonQuery();
    }

    /// <summary>The dc sensors of the site: the benches a session can cover.</summary>
    public IReadOnlyList<string> Benches => _site.Sensors.Where(s => s.Kind == ReadingKinds.Dc).Select(s => s.Id).ToList();

    /// <summary>Every problem with a start request, in words; empty when it can start.</summary>
    public List<string> Check(ExperimentStartRequest request)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 100)
        {
            problems.Add("name is missing or longer than 100 characters");
        }

        if (request.Notes is { Length: > 2000 })
        {
            problems.Add("notes are longer than 2000 characters");
        }

        if (!string.IsNullOrEmpty(request.Sensor) && !Benches.Contains(request.Sensor))
        {
            problems.Add($"sensor '{request.Sensor}' is not a dc bench of the site ({string.Join(", ", Benches)})");
        }

        if (request.By is { Length: > 100 })
        {
            problems.Add("by is longer than 100 characters");
        }

        return problems;
    }

    public ExperimentSession Start(ExperimentStartRequest request)
    {
        var started = _clock.GetUtcNow();
        var sensor = string.IsNullOrEmpty(request.Sensor) ? null : request.Sensor;
        var notes = string.IsNullOrWhiteSpace(request.Notes) ? null : request.Notes.Trim();
        var by = string.IsNullOrWhiteSpace(request.By) ? "admin" : request.By.Trim();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO experiment_sessions (site, name, notes, sensor, started_ms, started_by)
            VALUES ($site, $name, $notes, $sensor, $started, $by) RETURNING id
            """;
        command.Parameters.AddWithValue("$site", _site.Site);
        command.Parameters.AddWithValue("$name", request.Name!.Trim());
        command.Parameters.AddWithValue("$notes", (object?)notes ?? DBNull.Value);
        command.Parameters.AddWithValue("$sensor", (object?)sensor ?? DBNull.Value);
        command.Parameters.AddWithValue("$started", started.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$by", by);
        var id = (long)command.ExecuteScalar()!;
        return Get(id)!;
    }

    /// <summary>Stops a running session; null when there is no such session, unchanged when it had stopped already.</summary>
    public (ExperimentSession? Session, bool WasRunning) Stop(long id)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE experiment_sessions SET stopped_ms = $now WHERE site = $site AND id = $id AND stopped_ms IS NULL";
        command.Parameters.AddWithValue("$site", _site.Site);
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds());
        var changed = command.ExecuteNonQuery() == 1;
        return (Get(id), changed);
    }

    public ExperimentSession? Get(long id) => Query("WHERE site = $site AND id = $id", ("$id", id)).FirstOrDefault();

    /// <summary>The newest sessions first.</summary>
    public IReadOnlyList<ExperimentSession> List(int limit = 200) =>
        Query("WHERE site = $site ORDER BY started_ms DESC, id DESC LIMIT $limit", ("$limit", limit));

    /// <summary>
    /// Writes the session's raw dc readings as CSV (<c>ts_utc,sensor,voltage_v,current_a,power_w</c>),
    /// one row per bench and reading time, in time order per bench.
    /// </summary>
    public async Task WriteCsvAsync(ExperimentSession session, TextWriter writer, CancellationToken cancellationToken)
    {
        string[] fields = [ReadingKinds.DcValues.VoltageV, ReadingKinds.DcValues.CurrentA, ReadingKinds.DcValues.PowerW];
        await writer.WriteLineAsync("ts_utc,sensor,voltage_v,current_a,power_w").ConfigureAwait(false);
        var sensors = session.Sensor is null ? Benches : [session.Sensor];
        var toMs = (session.Stopped ?? _clock.GetUtcNow()).ToUnixTimeMilliseconds();
        using var connection = Open();
        foreach (var sensor in sensors)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT p.ts_ms, s.field, p.value FROM points p JOIN series s ON s.id = p.series_id
                WHERE s.site = $site AND s.sensor = $sensor AND s.field IN ($v, $a, $w) AND p.ts_ms >= $from AND p.ts_ms <= $to
                ORDER BY p.ts_ms
                """;
            command.Parameters.AddWithValue("$site", _site.Site);
            command.Parameters.AddWithValue("$sensor", sensor);
            command.Parameters.AddWithValue("$v", fields[0]);
            command.Parameters.AddWithValue("$a", fields[1]);
            command.Parameters.AddWithValue("$w", fields[2]);
            command.Parameters.AddWithValue("$from", session.Started.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$to", toMs);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            long? ts = null;
            var values = new double?[3];
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var t = reader.GetInt64(0);
                if (ts is not null && t != ts)
                {
                    await WriteRowAsync(writer, ts.Value, sensor, values).ConfigureAwait(false);
                    Array.Clear(values);
                }

                ts = t;
                values[Array.IndexOf(fields, reader.GetString(1))] = reader.GetDouble(2);
            }

            if (ts is not null)
            {
                await WriteRowAsync(writer, ts.Value, sensor, values).ConfigureAwait(false);
            }
        }
    }

    private static Task WriteRowAsync(TextWriter writer, long ts, string sensor, double?[] values) =>
        writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{DateTimeOffset.FromUnixTimeMilliseconds(ts):yyyy-MM-ddTHH:mm:ss.fffZ},{sensor},{values[0]},{values[1]},{values[2]}"));

    private IReadOnlyList<ExperimentSession> Query(string where, params (string Name, object Value)[] parameters)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, name, notes, sensor, started_ms, stopped_ms, started_by FROM experiment_sessions {where}";
        command.Parameters.AddWithValue("$site", _site.Site);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

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

    private SqliteConnection Open() => _store.OpenReader();
}
