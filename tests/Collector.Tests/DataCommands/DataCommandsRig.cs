using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.DataCommands;

/// <summary>
/// The collector's data commands run as processes (<c>dotnet collector.dll export|backup|restore</c>)
/// against a store in a temp folder, with the shipped site file (site newtechpark, Europe/Amsterdam).
/// </summary>
internal static class DataCommandsRig
{
    public const string Site = "newtechpark";
    public const string Device = "pi-dc-lab";

    public static string SiteFile => Path.Combine(AppContext.BaseDirectory, "shipped-site", "default-site.json");

    public static string[] Settings(string dataDirectory) =>
        [$"--Collector:DataDirectory={dataDirectory}", $"--Collector:SiteFile={SiteFile}", "--Logging:LogLevel:Default=Warning"];

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string dataDirectory, params string[] args) =>
        RunAsync(dataDirectory, null, args);

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string dataDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        ChildProcess.RunToEndAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "collector.dll"), .. args, .. Settings(dataDirectory)], TimeSpan.FromSeconds(90),
            environment: new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["DOTNET_gcServer"] = "0", ["NO_COLOR"] = "1" });

    public static SqliteStore Store(string dataDirectory) =>
        new(Path.Combine(dataDirectory, "collector.db"), NullLogger<SqliteStore>.Instance, TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam"));

    public static ReadingsItem Batch(ulong seq, DateTimeOffset received, IReadOnlyList<Reading> readings) =>
        new(new TopicAddress(Site, Device, TopicChannel.Readings), new ReadingsBatch { Seq = seq, Sent = received, Readings = readings }, received);

    public static Reading Reading(string sensor, string kind, DateTimeOffset ts, params (string Field, double Value)[] values) => new()
    {
        Ts = ts,
        Sensor = sensor,
        Kind = kind,
        Values = values.ToDictionary(v => v.Field, v => v.Value),
    };

    /// <summary>
    /// Points of one series written straight into sealed blocks of 1,024 (the codec the writer
    /// uses), a few million a second: a year of a series for the streaming test. The store must have
    /// been opened once (schema); returns the series id.
    /// </summary>
    public static long WriteBlocks(string storePath, string sensor, string kind, string field, long fromMs, long stepMs, long count, Func<long, double> value)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storePath, Pooling = false }.ToString());
        connection.Open();
        using var transaction = connection.BeginTransaction();
        long id;
        using (var series = connection.CreateCommand())
        {
            series.Transaction = transaction;
            series.CommandText = "INSERT INTO series (site, sensor, kind, field) VALUES ($site, $sensor, $kind, $field) RETURNING id";
            series.Parameters.AddWithValue("$site", Site);
            series.Parameters.AddWithValue("$sensor", sensor);
            series.Parameters.AddWithValue("$kind", kind);
            series.Parameters.AddWithValue("$field", field);
            id = (long)series.ExecuteScalar()!;
        }

        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO point_blocks (series_id, start_ms, end_ms, count, data) VALUES ($s, $start, $end, $count, $data)";
        var s = insert.Parameters.Add("$s", SqliteType.Integer);
        var start = insert.Parameters.Add("$start", SqliteType.Integer);
        var end = insert.Parameters.Add("$end", SqliteType.Integer);
        var n = insert.Parameters.Add("$count", SqliteType.Integer);
        var data = insert.Parameters.Add("$data", SqliteType.Blob);
        s.Value = id;
        var ts = new long[1024];
        var values = new double[1024];
        for (long i = 0; i < count; i += 1024)
        {
            var size = (int)Math.Min(1024, count - i);
            for (var j = 0; j < size; j++)
            {
                ts[j] = fromMs + ((i + j) * stepMs);
                values[j] = value(i + j);
            }

            start.Value = ts[0];
            end.Value = ts[size - 1];
            n.Value = size;
            data.Value = PointCodec.Encode(ts.AsSpan(0, size), values.AsSpan(0, size), seal: true);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return id;
    }

    public static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
