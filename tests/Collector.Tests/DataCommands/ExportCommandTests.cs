using System.Globalization;
using System.Text;
using NewTechPark.Edge.Contracts.Payloads;
using Parquet;
using Parquet.Schema;
using static NewTechPark.Edge.Collector.Tests.DataCommands.DataCommandsRig;

namespace NewTechPark.Edge.Collector.Tests.DataCommands;

/// <summary>
/// <c>collector export</c> as a process against a real store: CSV (both dialects, raw and rollups)
/// and Parquet (typed columns read back with Parquet.Net), and the named refusals (exit code 2).
/// </summary>
[Trait("Category", "Slow")]
public sealed class ExportCommandTests : IClassFixture<ExportCommandTests.SeededStore>
{
    /// <summary>Two DC benches (voltage, current, power) every 10 s for two hours, and a grid meter's counter.</summary>
    public sealed class SeededStore : IDisposable
    {
        public static readonly DateTimeOffset T0 = Utc("2026-11-02T08:00:00Z");
        public const int Points = 720;

        public SeededStore()
        {
            using var store = Store(Folder.Path);
            ulong seq = 0;
            for (var batch = 0; batch < Points / 60; batch++)
            {
                var readings = new List<Reading>();
                for (var i = batch * 60; i < (batch + 1) * 60; i++)
                {
                    var ts = T0.AddSeconds(i * 10);
                    readings.Add(Reading("dc-bench-1", ReadingKinds.Dc, ts, ("voltage_v", Voltage(i)), ("current_a", Current(i)), ("power_w", Power(i))));
                    readings.Add(Reading("dc-bench-2", ReadingKinds.Dc, ts, ("voltage_v", 12), ("current_a", 0.5), ("power_w", 6)));
                    readings.Add(Reading("meter-grid", ReadingKinds.Energy, ts, ("energy_wh_total", 1000 + i)));
                }

                store.Commit([Batch(++seq, T0.AddSeconds(batch * 600), readings)]);
            }
        }

        public TempDirectory Folder { get; } = new("ntp-export-");

        public static double Voltage(int i) => 24 + (i * 0.001);

        public static double Current(int i) => 1 + (i % 10 * 0.1);

        public static double Power(int i) => Math.Round(Voltage(i) * Current(i), 6);

        public void Dispose() => Folder.Dispose();
    }

    private readonly SeededStore _seeded;

    public ExportCommandTests(SeededStore seeded) => _seeded = seeded;

    private string Data => _seeded.Folder.Path;

    private string Out(string name) => Path.Combine(Data, $"{Guid.NewGuid():N}-{name}");

    [Fact]
    public async Task A_sensor_exports_as_series_csv_writes_it_with_every_digit()
    {
        var file = Out("bench.csv");
        var (exit, _, stderr) = await RunAsync(Data, "export", "--sensor", "dc-bench-1", "--from", "2026-11-02T08:00:00Z", "--to", "2026-11-02T09:00:00Z", "--out", file);

        Assert.True(exit == 0, stderr);
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal("ts_utc,local_time,voltage_v,current_a,power_w", lines[0]);
        Assert.Equal(361, lines.Length);
        for (var i = 0; i < 360; i++)
        {
            var ts = SeededStore.T0.AddSeconds(i * 10);
            Assert.Equal(string.Create(CultureInfo.InvariantCulture,
                $"{ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'},{ts.ToOffset(TimeSpan.FromHours(1)):yyyy-MM-dd HH:mm:ss.fff},{SeededStore.Voltage(i):R},{SeededStore.Current(i):R},{SeededStore.Power(i):R}"), lines[i + 1]);
        }

        Assert.Contains("360 rows", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Data, ".*.tmp"));
    }

    [Fact]
    public async Task The_dutch_dialect_has_a_bom_semicolons_and_decimal_commas()
    {
        var file = Out("bench-nl.csv");
        var (exit, _, stderr) = await RunAsync(Data, "export", "--series", "dc-bench-1/voltage_v", "--from", "2026-11-02T09:00", "--to", "2026-11-02T09:01", "--dialect", "nl", "--out", file);

        Assert.True(exit == 0, stderr);
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        // 09:00 local is 08:00 UTC: the first six readings.
        Assert.Equal(["ts_utc;local_time;voltage_v", "2026-11-02T08:00:00.000Z;2026-11-02 09:00:00.000;24", "2026-11-02T08:00:10.000Z;2026-11-02 09:00:10.000;24,001"], lines[..3]);
        Assert.Equal(7, lines.Length);
    }

    [Fact]
    public async Task A_kind_exports_to_parquet_with_typed_columns()
    {
        var file = Out("dc.parquet");
        var (exit, _, stderr) = await RunAsync(Data, "export", "--kind", "dc", "--from", "2026-11-02", "--to", "2026-11-02", "--out", file);

        Assert.True(exit == 0, stderr);
        await using var reader = await ParquetReader.CreateAsync(file);
        var fields = reader.Schema.GetDataFields();
        Assert.Equal(["ts", "sensor", "voltage_v", "current_a", "power_w"], fields.Select(f => f.Name));
        var ts = Assert.IsType<DateTimeDataField>(fields[0]);
        Assert.Equal(DateTimeFormat.Timestamp, ts.DateTimeFormat);
        Assert.Equal(DateTimeTimeUnit.Micros, ts.Unit);
        Assert.True(ts.IsAdjustedToUTC);
        Assert.False(ts.IsNullable);
        // A UTF-8 string column (Parquet.Net 6 hands it out as ReadOnlyMemory<char> unless asked for strings).
        Assert.Contains(fields[1].ClrType, new[] { typeof(string), typeof(ReadOnlyMemory<char>) });
        Assert.All(fields.Skip(2), f => Assert.Equal(typeof(double), f.ClrType));
        Assert.All(fields.Skip(2), f => Assert.True(f.IsNullable));

        Assert.Equal(1, reader.RowGroupCount);
        using var group = reader.OpenRowGroupReader(0);
        Assert.Equal(2 * SeededStore.Points, group.RowCount);
        Assert.Equal(Parquet.Meta.Type.INT64, group.GetMetadata(fields[0])!.MetaData!.Type);
        Assert.Contains(group.GetMetadata(fields[1])!.MetaData!.Encodings, e => e is Parquet.Meta.Encoding.RLE_DICTIONARY or Parquet.Meta.Encoding.PLAIN_DICTIONARY);

        var times = new DateTime[group.RowCount];
        var sensors = new string[group.RowCount];
        var power = new double?[group.RowCount];
        await group.ReadAsync<DateTime>(fields[0], times);
        await group.ReadAsync(fields[1], sensors);
        await group.ReadAsync<double>(fields[4], power);
        // Sensor by sensor, each by time.
        for (var i = 0; i < SeededStore.Points; i++)
        {
            Assert.Equal(SeededStore.T0.AddSeconds(i * 10).UtcDateTime, times[i]);
            Assert.Equal("dc-bench-1", sensors[i]);
            Assert.Equal(SeededStore.Power(i), power[i]);
            Assert.Equal("dc-bench-2", sensors[SeededStore.Points + i]);
            Assert.Equal(6, power[SeededStore.Points + i]);
        }
    }

    [Fact]
    public async Task Hour_rollups_give_min_max_mean_count_and_a_counters_increase()
    {
        var power = Out("power-hours.csv");
        var counter = Out("meter-hours.csv");
        var results = await Task.WhenAll(
            RunAsync(Data, "export", "--series", "dc-bench-1/power_w", "--resolution", "hour", "--from", "2026-11-02", "--to", "2026-11-02", "--out", power),
            RunAsync(Data, "export", "--sensor", "meter-grid", "--resolution", "minute", "--from", "2026-11-02T08:00Z", "--to", "2026-11-02T08:05Z", "--out", counter));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Stderr));
        var lines = await File.ReadAllLinesAsync(power);
        Assert.Equal("ts_utc,local_time,power_w_min,power_w_max,power_w_mean,power_w_count", lines[0]);
        Assert.Equal(3, lines.Length);
        var first = Enumerable.Range(0, 360).Select(SeededStore.Power).ToList();
        var cells = lines[1].Split(',');
        Assert.Equal("2026-11-02T08:00:00.000Z", cells[0]);
        Assert.Equal(first.Min(), double.Parse(cells[2], CultureInfo.InvariantCulture));
        Assert.Equal(first.Max(), double.Parse(cells[3], CultureInfo.InvariantCulture));
        Assert.Equal(first.Average(), double.Parse(cells[4], CultureInfo.InvariantCulture), 9);
        Assert.Equal("360", cells[5]);

        var minutes = await File.ReadAllLinesAsync(counter);
        Assert.Equal("ts_utc,local_time,energy_wh_total_min,energy_wh_total_max,energy_wh_total_mean,energy_wh_total_count,energy_wh_total_increase", minutes[0]);
        Assert.Equal(6, minutes.Length);
        // Six readings a minute, one Wh each: the first minute has no point before it.
        Assert.Equal("2026-11-02T08:00:00.000Z,2026-11-02 09:00:00.000,1000,1005,1002.5,6,5", minutes[1]);
        Assert.Equal("2026-11-02T08:01:00.000Z,2026-11-02 09:01:00.000,1006,1011,1008.5,6,6", minutes[2]);
    }

    [Fact]
    public async Task Bad_requests_are_refused_by_name_with_exit_code_2()
    {
        var existing = Out("exists.csv");
        await File.WriteAllTextAsync(existing, "keep me");
        var cases = new (string[] Args, string Says)[]
        {
            (["export", "--sensor", "dc-bench-9"], "no sensor dc-bench-9 is stored; stored sensors: dc-bench-1, dc-bench-2, meter-grid"),
            (["export", "--kind", "climate"], "stored kinds: dc, energy"),
            (["export", "--series", "dc-bench-1/power_kw"], "dc-bench-1 has current_a, power_w, voltage_v"),
            (["export", "--sensor", "dc-bench-1", "--value", "lux"], "has no such value"),
            (["export", "--sensor", "dc-bench-1", "--from", "2026-11-02T10:00Z", "--to", "2026-11-02T09:00Z"], "is not before --to"),
            (["export", "--sensor", "dc-bench-1", "--from", "yesterday"], "--from 'yesterday' is not a date or time"),
            (["export", "--sensor", "dc-bench-1", "--format", "xlsx"], "xlsx"),
            (["export", "--sensor", "dc-bench-1", "--format", "parquet"], "Parquet needs a file"),
            (["export", "--sensor", "dc-bench-1", "--out", existing], "exists; add --force"),
            (["export", "--sensor", "dc-bench-1", "--out", Path.Combine(Data, "collector.db")], "the store's own file"),
            (["export"], "say what to export"),
            (["export", "--sensor", "dc-bench-1", "--jsn"], "--jsn"),
        };

        var results = await Task.WhenAll(cases.Select(c => RunAsync(Data, c.Args)));

        for (var i = 0; i < cases.Length; i++)
        {
            Assert.True(results[i].ExitCode == 2, $"{string.Join(' ', cases[i].Args)}: exit {results[i].ExitCode}\n{results[i].Stdout}{results[i].Stderr}");
            Assert.Contains(cases[i].Says, results[i].Stderr + results[i].Stdout, StringComparison.Ordinal);
        }

        Assert.Equal("keep me", await File.ReadAllTextAsync(existing));
    }

    [Fact]
    public async Task Csv_goes_to_stdout_without_out_and_force_replaces_a_file()
    {
        var file = Out("replaced.csv");
        await File.WriteAllTextAsync(file, "old");
        var (stdoutExit, stdout, stdoutErr) = await RunAsync(Data, "export", "--series", "dc-bench-2/power_w", "--from", "2026-11-02T08:00Z", "--to", "2026-11-02T08:00:30Z");
        var (exit, _, stderr) = await RunAsync(Data, "export", "--series", "dc-bench-2/power_w", "--from", "2026-11-02T08:00Z", "--to", "2026-11-02T08:00:30Z", "--out", file, "--force");

        Assert.True(stdoutExit == 0, stdoutErr);
        Assert.True(exit == 0, stderr);
        Assert.Equal("ts_utc,local_time,power_w\n2026-11-02T08:00:00.000Z,2026-11-02 09:00:00.000,6\n2026-11-02T08:00:10.000Z,2026-11-02 09:00:10.000,6\n2026-11-02T08:00:20.000Z,2026-11-02 09:00:20.000,6\n", stdout);
        Assert.Equal(stdout, await File.ReadAllTextAsync(file));
    }
}
