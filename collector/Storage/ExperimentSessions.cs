using System.Globalization;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Experiments;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>A DC-Lab experiment session: a named, annotated time window over one bench or all of them.</summary>
public sealed record ExperimentSession(long Id, string Name, string? Notes, string? Sensor, DateTimeOffset Started, DateTimeOffset? Stopped, string StartedBy);

/// <summary>The body of <c>POST /api/v1/experiments</c>.</summary>
public sealed record ExperimentStartRequest(string? Name, string? Notes, string? Sensor, string? By);

/// <summary>
/// Experiment sessions: checks, start, stop and the CSV of a session (the raw dc points of its
/// bench(es) between start and stop). Stored by <see cref="ExperimentStore"/>.
/// </summary>
public sealed class ExperimentSessions
{
    private readonly ExperimentStore _db;
    private readonly SiteModel _site;
    private readonly TimeProvider _clock;

    public ExperimentSessions(SqliteStore store, SiteModel site, TimeProvider clock)
    {
        _db = new ExperimentStore(store);
        _site = site;
        _clock = clock;
    }

    /// <summary>The dc sensors of the site: the benches a session can cover.</summary>
    public IReadOnlyList<string> Benches => _site.Sensors.Where(s => s.Kind == ReadingKinds.Dc).Select(s => s.Id).ToList();

    /// <summary>Whether the raw dc points are kept here (not with <c>Collector:Influx:Mode=Instead</c>), so a CSV can be written.</summary>
    public bool HasRawPoints => _db.KeepsRawDcPoints;

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
        var id = _db.Insert(_site.Site, request.Name!.Trim(), notes, sensor, started.ToUnixTimeMilliseconds(), by);
        return Get(id)!;
    }

    /// <summary>Stops a running session; null when there is no such session, unchanged when it had stopped already.</summary>
    public (ExperimentSession? Session, bool WasRunning) Stop(long id)
    {
        var changed = _db.Stop(_site.Site, id, _clock.GetUtcNow().ToUnixTimeMilliseconds());
        return (Get(id), changed);
    }

    public ExperimentSession? Get(long id) => _db.Get(_site.Site, id);

    /// <summary>The newest sessions first.</summary>
    public IReadOnlyList<ExperimentSession> List(int limit = 200) => _db.List(_site.Site, limit);

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
        foreach (var sensor in sensors)
        {
            long? ts = null;
            var values = new double?[3];
            await foreach (var (t, field, value) in _db.DcPoints(_site.Site, sensor, fields, session.Started.ToUnixTimeMilliseconds(), toMs, cancellationToken).ConfigureAwait(false))
            {
                if (ts is not null && t != ts)
                {
                    await WriteRowAsync(writer, ts.Value, sensor, values).ConfigureAwait(false);
                    Array.Clear(values);
                }

                ts = t;
                values[Array.IndexOf(fields, field)] = value;
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
}
