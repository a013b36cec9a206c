using Xunit.Abstractions;
using System.Diagnostics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Trust;

/// <summary>
/// One message full of new series (680 readings × 32 values = 21,760, about the 256 KiB limit):
/// the store looks each new series up in constant time, so the commit grows with the series, not
/// with their square.
/// </summary>
public sealed class NewSeriesCostTests(ITestOutputHelper output) : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    public static ReadingsItem ManyNewSeries(string device, ulong seq, int readings, int fields, string prefix = "x")
    {
        var list = new Reading[readings];
        for (var r = 0; r < readings; r++)
        {
            var values = new Dictionary<string, double>(fields);
            for (var f = 0; f < fields; f++)
            {
                values[$"v{f}_w"] = f;
            }

            list[r] = new Reading { Ts = T0.AddMilliseconds(r), Sensor = $"{prefix}-{seq}-{r}", Kind = "custom", Values = values };
        }

        return Batch(device, seq, T0.AddSeconds(1), list);
    }

    [Fact]
    public void A_message_of_21760_new_series_commits_with_every_series_found_in_a_dictionary()
    {
        using var store = new SqliteStore(_dir.File("collector.db"), Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteStore>.Instance)
        {
            SeriesLimits = new() { MaxNewSeriesPerDevicePerHour = 100_000, MaxSeries = 100_000 },
        };
        var started = Stopwatch.GetTimestamp();
        store.Commit([ManyNewSeries("pi-dc-lab", 1, 680, 32)]);
        var elapsed = Stopwatch.GetElapsedTime(started);
        // Printed, not asserted: on the shared machine the wall time follows the load, not the code.
        output.WriteLine($"21,760 new series in one message: commit {elapsed.TotalMilliseconds:F0} ms (load average {LoadAverage()})");
        Assert.Equal(21_760L, new StoreQueries(store).Counts().Item2);
    }
}
