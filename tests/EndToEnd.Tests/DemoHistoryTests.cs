using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Demo.History;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests;

/// <summary>
/// The demo's history on first start (issue 16): a short history (a setting) fills through the
/// collector's real ingest with nothing refused; the API's figures are non-zero and agree with
/// each other; the live agents go on from it (no seq gap, counters rising from the history's); a
/// second start does not fill again; an interrupted fill goes on without counting anything twice;
/// <c>--no-history</c> starts empty. The time of a full year is the bench's (<c>bench backfill</c>).
/// </summary>
[Trait("Category", "Slow")]
public sealed class DemoHistoryTests
{
    private const int Days = 9;

    private static string[] History(string data, int days = Days) =>
        ["--Demo:History=true", $"--Demo:HistoryDays={days}", $"--Collector:DataDirectory={data}"];

    [Fact]
    public async Task A_first_start_fills_its_history_through_the_ingest_and_the_live_part_goes_on_from_it()
    {
        using var data = new TempDirectory();
        await using var collector = await RunningCollector.StartAsync(demo: true, extra: History(data.Path));
        var result = collector.Services.GetRequiredService<HistoryFiller>().Result;
        Assert.NotNull(result);
        Assert.Equal(0, result.Refused);
        Assert.True(result.Readings > 10_000, $"{result.Readings} readings");
        Assert.True(result.Registrations > 0 && result.Sessions > 0, $"{result.Registrations} registrations, {result.Sessions} sessions");
        Assert.True(File.Exists(Path.Combine(data.Path, HistoryPlan.FileName)));

        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");
        var today = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).Date;
        var from = Iso(new DateTimeOffset(today.AddDays(-Days), zone.GetUtcOffset(today.AddDays(-Days))));
        var midnight = Iso(new DateTimeOffset(today, zone.GetUtcOffset(today)));

        // Energy: the days sum to the window, and the building used something every day.
        var byDay = await collector.GetAsync<JsonObject>($"/api/v1/energy?bucket=day&from={from}&to={midnight}");
        var days = byDay["buckets"]!.AsArray();
        Assert.Equal(Days, days.Count);
        Assert.All(days, d => Assert.True((double)d!["consumption_wh"]! > 100_000, $"{d}"));
        Assert.Equal((double)byDay["totals"]!["consumption_wh"]!, days.Sum(d => (double)d!["consumption_wh"]!), 3);
        Assert.True((double)byDay["totals"]!["solar_wh"]! > 0);

        // Visitors: entries through the outside doors, badges (unique at most the visits), groups registered.
        var visitors = await collector.GetAsync<JsonObject>($"/api/v1/visitors?bucket=day&from={from}&to={midnight}");
        var totals = visitors["totals"]!;
        var visits = (long)totals["visits"]!;
        var unique = (long)totals["unique_visitors"]!["value"]!;
        Assert.True(visits > 100, $"{visits} visits");
        Assert.InRange(unique, 1, visits);
        Assert.True((long)totals["group_head_count"]! > 0);
        Assert.Equal(visits, visitors["buckets"]!.AsArray().Sum(b => (long)b!["visits"]!));

        // Occupancy: the hall was used on the open days, and everyone left by night.
        var hall = await collector.GetAsync<JsonObject>($"/api/v1/occupancy/history?room={HistoryYear.Hall}&bucket=day&from={from}&to={midnight}");
        Assert.Contains(hall["buckets"]!.AsArray(), b => (long)b!["entries"]! > 0);
        var utilisation = await collector.GetAsync<JsonObject>($"/api/v1/occupancy/utilisation?from={from}&to={midnight}");
        Assert.True((long)utilisation["rooms_in_use"]! > 0);

        // The report of the years the window covers has the measured rows filled.
        var years = Enumerable.Range(0, Days + 1).Select(d => today.AddDays(-d).Year).Distinct();
        var rows = new Dictionary<string, double>();
        foreach (var year in years)
        {
            var report = await collector.GetAsync<JsonObject>($"/api/v1/reports/annual?year={year}");
            foreach (var row in report["rows"]!.AsArray())
            {
                rows[(string)row!["key"]!] = rows.GetValueOrDefault((string)row["key"]!) + ((double?)row["value"] ?? 0);
            }
        }

        Assert.True(rows["visits"] > 0 && rows["energy-used"] > 0 && rows["group-visits"] > 0, string.Join(", ", rows));

        // Live: the agents go on from the history, so the ledger has no gap, and nothing is refused.
        await collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy", o => o.Building > 0, TimeSpan.FromSeconds(30));
        var devices = await collector.EventuallyAsync<List<JsonObject>>("/api/v1/devices",
            list => list.Where(d => (string?)d["device"] != "pi-spare").All(d => (string?)d["state"] == "online"), TimeSpan.FromSeconds(20));
        Assert.All(devices.Where(d => d["first_seq"] is not null), d => Assert.Equal(0UL, (ulong)d["missing_batches"]!));
        var metrics = await collector.Http.GetStringAsync("/metrics");
        Assert.Equal(0, Sum(metrics, "ntp_ingest_rejected_total"));

        // The grid meter's counter went on from the history's: today has no spike at the hand-over.
        var todayEnergy = await collector.EventuallyAsync<JsonObject>($"/api/v1/energy?bucket=hour&from={midnight}&to={Iso(DateTimeOffset.UtcNow.AddHours(1))}",
            e => (double)e["totals"]!["grid_import_wh"]! > 0, TimeSpan.FromSeconds(10));
        Assert.All(todayEnergy["buckets"]!.AsArray(), b => Assert.InRange((double)b!["grid_import_wh"]!, 0, 60_000));
    }

    [Fact]
    public async Task A_second_start_does_not_fill_again_and_an_interrupted_fill_goes_on_without_counting_twice()
    {
        using var data = new TempDirectory();
        // Interrupted: the host is stopped while the fill runs (Ctrl+C), after some days are in.
        var first = NewTechPark.Edge.Demo.DemoHost.Build(["--urls", "http://127.0.0.1:0", "--Collector:Broker:Port=0", "--Logging:LogLevel:Default=Warning",
            $"--Collector:SiteFile={TestSite.Shipped}", .. History(data.Path, 12)]);
        var filler = first.Services.GetRequiredService<HistoryFiller>();
        filler.Output = TextWriter.Null;
        using (var stop = new CancellationTokenSource())
        {
            // Stopped as soon as the first days are marked as committed, from inside the fill, so it cannot finish first.
            filler.DayFilled = _ => stop.Cancel();
            var starting = first.StartAsync(stop.Token);
            try
            {
                await starting;
            }
            catch (OperationCanceledException)
            {
                // The host's start stopped with the fill.
            }
        }

        Assert.Null(filler.Result);
        Assert.Contains("\"filled_through\": \"", File.ReadAllText(Path.Combine(data.Path, HistoryPlan.FileName)), StringComparison.Ordinal);
        await first.StopAsync();
        await first.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // Started again: it goes on with the same plan, and skips the days that are in.
        JsonObject resumed;
        await using (var second = await RunningCollector.StartAsync(demo: true, extra: History(data.Path, 12)))
        {
            var result = second.Services.GetRequiredService<HistoryFiller>().Result;
            Assert.NotNull(result);
            Assert.True(result.DaysSkipped > 0, "no day was skipped");
            Assert.Equal(0, result.Refused);
            resumed = await Figures(second);
        }

        // Once more: no fill.
        await using (var third = await RunningCollector.StartAsync(demo: true, extra: History(data.Path, 12)))
        {
            Assert.Null(third.Services.GetRequiredService<HistoryFiller>().Result);
            var again = await Figures(third);
            Assert.Equal(resumed["visits"]!.ToJsonString(), again["visits"]!.ToJsonString());
            Assert.Equal(resumed["groups"]!.ToJsonString(), again["groups"]!.ToJsonString());
        }

        // The same history filled in one go gives the same figures: nothing was counted twice.
        using var fresh = new TempDirectory();
        var plan = File.ReadAllText(Path.Combine(data.Path, HistoryPlan.FileName));
        File.WriteAllText(Path.Combine(fresh.Path, HistoryPlan.FileName), System.Text.RegularExpressions.Regex.Replace(
            plan.Replace("\"done\": true", "\"done\": false", StringComparison.Ordinal), "\"filled_through\": \"[0-9-]+\"", "\"filled_through\": null"));
        await using var whole = await RunningCollector.StartAsync(demo: true, extra: History(fresh.Path, 12));
        Assert.Equal(0, whole.Services.GetRequiredService<HistoryFiller>().Result!.DaysSkipped);
        var reference = await Figures(whole);
        Assert.Equal(reference.ToJsonString(), resumed.ToJsonString());
    }

    [Theory]
    [InlineData("Demo:HistoryDays", "0")]
    [InlineData("Demo:HistoryDays", "367")]
    [InlineData("Demo:HistoryDays", "many")]
    [InlineData("Demo:History", "maybe")]
    public async Task A_wrong_history_setting_stops_the_demo_with_exit_code_2_naming_it(string setting, string value)
    {
        using var data = new TempDirectory();
        var (exit, stderr, printed) = await SettingsWalker.RunProgramAsync("demo.dll", data.Path, [$"--Collector:DataDirectory={data.Path}", "--urls=http://127.0.0.1:0", $"--{setting}={value}"]);
        Assert.Equal(2, exit);
        Assert.Contains("The demo cannot start:", stderr, StringComparison.Ordinal);
        Assert.Contains(setting, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data.Path, HistoryPlan.FileName)));
    }

    [Fact]
    public async Task No_history_starts_empty()
    {
        using var data = new TempDirectory();
        await using var collector = await RunningCollector.StartAsync(demo: true, extra: [$"--Collector:DataDirectory={data.Path}", "--Demo:History=true", "--no-history"]);
        Assert.Null(collector.Services.GetRequiredService<HistoryFiller>().Result);
        Assert.False(File.Exists(Path.Combine(data.Path, HistoryPlan.FileName)));
        var yesterday = Iso(DateTimeOffset.UtcNow.AddDays(-2));
        var visitors = await collector.GetAsync<JsonObject>($"/api/v1/visitors?bucket=day&from={yesterday}&to={Iso(DateTimeOffset.UtcNow.AddDays(-1))}");
        Assert.Equal(0, (long)visitors["totals"]!["visits"]!);
    }

    /// <summary>Visits, registrations and energy of the history's days, as the API gives them.</summary>
    private static async Task<JsonObject> Figures(RunningCollector collector)
    {
        var midnight = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        var to = Iso(midnight.AddDays(-1));
        var from = Iso(midnight.AddDays(-11));
        var visitors = await collector.GetAsync<JsonObject>($"/api/v1/visitors?bucket=day&from={from}&to={to}");
        var energy = await collector.GetAsync<JsonObject>($"/api/v1/energy?bucket=day&from={from}&to={to}");
        return new JsonObject
        {
            ["visits"] = visitors["totals"]!["visits"]!.DeepClone(),
            ["unique"] = visitors["totals"]!["unique_visitors"]!.DeepClone(),
            ["groups"] = visitors["totals"]!["group_head_count"]!.DeepClone(),
            ["energy"] = energy["totals"]!["consumption_wh"]!.DeepClone(),
            ["solar"] = energy["totals"]!["solar_wh"]!.DeepClone(),
        };
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static double Sum(string metrics, string name) => metrics.Split('\n')
        .Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
