using NewTechPark.Edge.Contracts.Payloads;
using Parquet;
using Xunit.Abstractions;
using static NewTechPark.Edge.Collector.Tests.DataCommands.DataCommandsRig;

namespace NewTechPark.Edge.Collector.Tests.DataCommands;

/// <summary>
/// An export of a year streams: a series every 10 s for a year (3,153,600 readings) goes to
/// Parquet in a process whose GC heap is capped at 64 MiB. Holding the year (a row list, or the
/// whole file before writing it) would need several times that; the process would end with an
/// OutOfMemoryException instead of exit code 0.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ExportStreamingTests(ITestOutputHelper output)
{
    private const long StepMs = 10_000;
    private const long YearPoints = 365L * 24 * 360;

    [Fact]
    public async Task A_year_goes_to_parquet_in_bounded_memory()
    {
        using var folder = new TempDirectory("ntp-export-year-");
        Store(folder.Path).Dispose();
        var from = Utc("2025-01-01T00:00:00Z").ToUnixTimeMilliseconds();
        // A day either side: the window's edges cut through blocks.
        WriteBlocks(Path.Combine(folder.Path, "collector.db"), "dc-bench-1", ReadingKinds.Dc, "power_w", from - 86_400_000, StepMs, YearPoints + (2 * 8640), i => 30 + (i % 977 * 0.01));
        var file = Path.Combine(folder.Path, "year.parquet");

        var (exit, _, stderr) = await RunAsync(folder.Path, new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x4000000" },
            "export", "--series", "dc-bench-1/power_w", "--from", "2025-01-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z", "--out", file);

        output.WriteLine(stderr);
        Assert.True(exit == 0, stderr);
        Assert.Contains("3,153,600 rows", stderr, StringComparison.Ordinal);
        await using var reader = await ParquetReader.CreateAsync(file);
        Assert.Equal(YearPoints, reader.RowGroups.Sum(g => g.RowCount));
        Assert.All(reader.RowGroups, g => Assert.True(g.RowCount <= 65_536));
        var ts = reader.Schema.GetDataFields()[0];
        using var last = reader.OpenRowGroupReader(reader.RowGroupCount - 1);
        var times = new DateTime[last.RowCount];
        await last.ReadAsync<DateTime>(ts, times);
        Assert.Equal(Utc("2025-12-31T23:59:50Z").UtcDateTime, times[^1]);
    }
}
