using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Instruments;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Tests.Http;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Instruments;

/// <summary>
/// <c>/api/v1/series/stats</c> and <c>/api/v1/series.csv</c> over known synthetic points of a DC
/// bench: exact figures, a gap, an empty window, the minute rollups past the raw cutoff, hostile
/// parameters, streaming, the row limit and the export gate.
/// </summary>
public sealed class InstrumentsApiTests
{
    private const string Token = "instruments-admin-token";

    // Winter time: Amsterdam is UTC+1, so local_time is an hour ahead.
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static string Q(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));

    private static void Store(InProcessCollector collector, ulong seq, params (double Seconds, double Volts, double Amps, double Watts)[] points)
    {
        var store = collector.Services.GetRequiredService<SqliteStore>();
        var readings = points.Select(p => new Reading
        {
            Ts = T0.AddSeconds(p.Seconds),
            Sensor = "dc-bench-1",
            Kind = ReadingKinds.Dc,
            Values = new() { ["voltage_v"] = p.Volts, ["current_a"] = p.Amps, ["power_w"] = p.Watts },
        }).ToArray();
        store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-dc-lab", TopicChannel.Readings), new ReadingsBatch { Seq = seq, Sent = T0, Readings = readings }, T0)]);
    }

    /// <summary>Four points a second apart, then a 97 s gap, then two more.</summary>
    private static readonly (double, double, double, double)[] Bench =
    [
        (0, 12, 1, 10), (1, 12, 2, 20), (2, 12, 3, 30), (3, 12, 4, 40),
        (100, 11.5, 5, 50), (101, 12.5, 6, 60),
    ];

    [Fact]
    public async Task Statistics_are_exact_over_known_points_and_a_gap_is_not_bridged()
    {
        await using var collector = await InProcessCollector.StartAsync();
        Store(collector, 1, Bench);

        var stats = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}"));
        Assert.Equal("raw", stats.GetProperty("source").GetString());
        Assert.Equal("dc", stats.GetProperty("kind").GetString());
        Assert.Equal(10, stats.GetProperty("max_gap_s").GetDouble());
        var power = stats.GetProperty("fields").GetProperty("power_w");
        Assert.Equal(6, power.GetProperty("count").GetInt64());
        Assert.Equal(10, power.GetProperty("min").GetDouble());
        Assert.Equal(60, power.GetProperty("max").GetDouble());
        Assert.Equal(35, power.GetProperty("mean").GetDouble());
        Assert.Equal(T0, power.GetProperty("first").GetDateTimeOffset());
        Assert.Equal(T0.AddSeconds(101), power.GetProperty("last").GetDateTimeOffset());
        var voltage = stats.GetProperty("fields").GetProperty("voltage_v");
        Assert.Equal(11.5, voltage.GetProperty("min").GetDouble());
        Assert.Equal(12.5, voltage.GetProperty("max").GetDouble());
        Assert.Equal(72.0 / 6, voltage.GetProperty("mean").GetDouble(), 12);

        // Trapezoids: 15 + 25 + 35 W·s over the first 3 s, the 97 s gap skipped, 55 W·s over the last second.
        Assert.Equal((15 + 25 + 35 + 55) / 3600.0, stats.GetProperty("energy_wh").GetDouble(), 12);
        Assert.Equal((1.5 + 2.5 + 3.5 + 5.5) / 3600.0, stats.GetProperty("charge_ah").GetDouble(), 12);
        Assert.Equal(4, stats.GetProperty("covered_s").GetDouble());
        Assert.Equal(1, stats.GetProperty("gaps").GetInt64());

        // With a bound longer than the gap, it is bridged: + (40 + 50) / 2 · 97 W·s.
        var bridged = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}&max_gap=120"));
        Assert.Equal((130 + (45 * 97)) / 3600.0, bridged.GetProperty("energy_wh").GetDouble(), 12);
        Assert.Equal(0, bridged.GetProperty("gaps").GetInt64());
        Assert.Equal(101, bridged.GetProperty("covered_s").GetDouble());

        // Bounded in readings, not only days (a 100 Hz bench stores twenty times a 5 Hz one's): a named refusal beyond it.
        var statistics = collector.Services.GetRequiredService<BenchStatistics>();
        statistics.MaxRawPoints = 5;
        var tooMany = await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal("window has too many readings", (await Json(tooMany)).GetProperty("title").GetString());
        statistics.MaxRawPoints = 6;
        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}")).StatusCode);
        statistics.MaxRawPoints = BenchStatistics.DefaultMaxRawPoints;

        // The window is [from, to): the point at to is left out, the one at from is in.
        var head = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0.AddSeconds(1))}&to={Q(T0.AddSeconds(3))}"));
        Assert.Equal(2, head.GetProperty("fields").GetProperty("power_w").GetProperty("count").GetInt64());
        Assert.Equal(25 / 3600.0, head.GetProperty("energy_wh").GetDouble(), 12);
    }

    [Fact]
    public async Task An_empty_window_has_counts_of_zero_and_no_figures()
    {
        await using var collector = await InProcessCollector.StartAsync();
        Store(collector, 1, Bench);

        var empty = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0.AddHours(1))}&to={Q(T0.AddHours(2))}"));
        var power = empty.GetProperty("fields").GetProperty("power_w");
        Assert.Equal(0, power.GetProperty("count").GetInt64());
        Assert.Equal(JsonValueKind.Null, power.GetProperty("min").ValueKind);
        Assert.Equal(JsonValueKind.Null, power.GetProperty("mean").ValueKind);
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("energy_wh").ValueKind);
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("charge_ah").ValueKind);
        Assert.Equal(0, empty.GetProperty("covered_s").GetDouble());

        // A bench of the site file that has stored nothing yet: counts of zero, not a 404 (the page asks for every bench).
        var quiet = await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-2&from={Q(T0)}&to={Q(T0.AddHours(1))}");
        Assert.Equal(HttpStatusCode.OK, quiet.StatusCode);
        Assert.Equal(0, (await Json(quiet)).GetProperty("fields").GetProperty("current_a").GetProperty("count").GetInt64());
        Assert.Equal("ts_utc,local_time,voltage_v,current_a,power_w", (await collector.Http.GetStringAsync($"/api/v1/series.csv?sensor=dc-bench-2&from={Q(T0)}&to={Q(T0.AddHours(1))}")).Trim());

        // One point: a mean, but nothing to integrate.
        var single = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddSeconds(1))}"));
        Assert.Equal(10, single.GetProperty("fields").GetProperty("power_w").GetProperty("mean").GetDouble());
        Assert.Equal(JsonValueKind.Null, single.GetProperty("energy_wh").ValueKind);
    }

    [Fact]
    public async Task Before_the_raw_cutoff_the_minute_rollups_are_used_and_the_response_says_so()
    {
        // Raw points kept for ever: the retention leaves the cutoff to this test.
        await using var collector = await InProcessCollector.StartAsync("--Collector:Retention:Raw=00:00:00");
        var store = collector.Services.GetRequiredService<SqliteStore>();
        // As the retention does: points before the cutoff go into stored minute rows.
        store.Rollups.RawCutoffMs = T0.AddMinutes(1).ToUnixTimeMilliseconds();
        Store(collector, 1, (0, 12, 1, 10), (30, 12, 3, 30));
        Store(collector, 2, (60, 12, 2, 20), (61, 12, 2, 20));

        var minute = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(1))}"));
        Assert.Equal("minute", minute.GetProperty("source").GetString());
        var power = minute.GetProperty("fields").GetProperty("power_w");
        Assert.Equal(2, power.GetProperty("count").GetInt64());
        Assert.Equal(20, power.GetProperty("mean").GetDouble());
        Assert.Equal(30, power.GetProperty("max").GetDouble());
        // A minute with readings counts as a whole minute at its mean: 20 W · 60 s.
        Assert.Equal(20 * 60 / 3600.0, minute.GetProperty("energy_wh").GetDouble(), 12);

        var both = await Json(await collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(2))}"));
        Assert.Equal("minute+raw", both.GetProperty("source").GetString());
        Assert.Equal(4, both.GetProperty("fields").GetProperty("power_w").GetProperty("count").GetInt64());
        Assert.Equal(((20 * 60) + 20) / 3600.0, both.GetProperty("energy_wh").GetDouble(), 12);
    }

    [Theory]
    [InlineData("", 400, "sensor is missing or not a slug")]
    [InlineData("sensor=..%2Fetc", 400, "sensor is missing or not a slug")]
    [InlineData("sensor=dc-bench-1'%20OR%201%3D1", 400, "sensor is missing or not a slug")]
    [InlineData("sensor=a/b/c", 400, "sensor is missing or not a slug")]
    [InlineData("sensor=dc-bench-9", 404, "no such sensor")]
    [InlineData("sensor=dc-bench-1&from=2026-11-30T11:00:00Z&to=2026-11-30T10:00:00Z", 400, "from is not before to")]
    [InlineData("sensor=dc-bench-1&from=2026-10-01T00:00:00Z&to=2026-11-30T00:00:00Z", 400, "window too long")]
    [InlineData("sensor=dc-bench-1&from=0001-01-01T00:00:00Z&to=2026-11-30T00:00:00Z", 400, "from is out of range")]
    [InlineData("sensor=dc-bench-1&to=9999-12-31T00:00:00Z", 400, "to is out of range")]
    [InlineData("sensor=dc-bench-1&from=yesterday", 400, null)]
    [InlineData("sensor=dc-bench-1&max_gap=0", 400, "max_gap is out of range")]
    [InlineData("sensor=dc-bench-1&max_gap=NaN", 400, "max_gap is out of range")]
    [InlineData("sensor=dc-bench-1&max_gap=-5", 400, "max_gap is out of range")]
    [InlineData("sensor=dc-bench-1&max_gap=1e308", 400, "max_gap is out of range")]
    public async Task Hostile_parameters_get_a_named_refusal(string query, int status, string? title)
    {
        await using var collector = await InProcessCollector.StartAsync();
        Store(collector, 1, Bench);
        foreach (var path in new[] { "/api/v1/series/stats?", "/api/v1/series.csv?" })
        {
            if (path.EndsWith(".csv?", StringComparison.Ordinal) && query.Contains("max_gap", StringComparison.Ordinal))
            {
                continue;
            }

            var response = await collector.Http.GetAsync(path + query);
            Assert.Equal((HttpStatusCode)status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            if (title is not null)
            {
                Assert.Equal(title, (await Json(response)).GetProperty("title").GetString());
            }
        }
    }

    [Fact]
    public async Task The_CSV_of_a_window_needs_no_token_and_has_every_value_per_reading_time()
    {
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}");
        Store(collector, 1, Bench);

        var response = await collector.Http.GetAsync($"/api/v1/series.csv?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("dc-bench-1-20261130T100000Z-20261130T100500Z.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.NotEqual(0xEF, bytes[0]); // no byte order mark by default
        var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("ts_utc,local_time,voltage_v,current_a,power_w", lines[0]);
        Assert.Equal(7, lines.Length);
        Assert.Equal("2026-11-30T10:00:00.000Z,2026-11-30 11:00:00.000,12,1,10", lines[1]);
        Assert.Equal("2026-11-30T10:01:40.000Z,2026-11-30 11:01:40.000,11.5,5,50", lines[5]);

        var dutch = await collector.Http.GetAsync($"/api/v1/series.csv?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}&dialect=excel-nl");
        var dutchBytes = await dutch.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xEF, 0xBB, 0xBF], dutchBytes[..3]);
        var dutchLines = Encoding.UTF8.GetString(dutchBytes[3..]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("ts_utc;local_time;voltage_v;current_a;power_w", dutchLines[0]);
        Assert.Equal("2026-11-30T10:01:40.000Z;2026-11-30 11:01:40.000;11,5;5;50", dutchLines[5]);

        Assert.Equal(HttpStatusCode.BadRequest, (await collector.Http.GetAsync($"/api/v1/series.csv?sensor=dc-bench-1&dialect=excel")).StatusCode);
        // An empty window: the header only.
        var empty = await collector.Http.GetStringAsync($"/api/v1/series.csv?sensor=dc-bench-1&from={Q(T0.AddHours(1))}&to={Q(T0.AddHours(2))}");
        Assert.Equal("ts_utc,local_time,voltage_v,current_a,power_w", empty.Trim());
    }

    [Fact]
    public async Task The_CSV_is_streamed_and_refused_beyond_its_row_limit()
    {
        await using var collector = await InProcessCollector.StartAsync();
        // 20,000 readings at 10 Hz: many blocks, more than one write buffer.
        var points = Enumerable.Range(0, 20_000).Select(i => (i / 10.0, 12.0, 2.0, 24.0)).ToArray();
        Store(collector, 1, points);
        var url = $"/api/v1/series.csv?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddHours(1))}";

        using (var response = await collector.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            // Sent as it is written: no length known up front.
            Assert.Null(response.Content.Headers.ContentLength);
            Assert.True(response.Headers.TransferEncodingChunked);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var rows = 0;
            while (await reader.ReadLineAsync() is { } line)
            {
                rows++;
            }

            Assert.Equal(20_001, rows);
        }

        var exports = collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Site.SiteServicesCatalog>().Default.GetRequiredService<SeriesExports>();
        exports.MaxRows = 19_999;
        var refused = await collector.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await Json(refused);
        Assert.Equal("window has too many rows", problem.GetProperty("title").GetString());
        Assert.Contains("20,000 readings", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        exports.MaxRows = 20_000;
        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
    }

    [Fact]
    public async Task A_third_export_at_once_gets_429_with_Retry_After()
    {
        await using var collector = await InProcessCollector.StartAsync();
        Store(collector, 1, Bench);
        var exports = collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Site.SiteServicesCatalog>().Default.GetRequiredService<SeriesExports>();
        for (var i = 0; i < SeriesExports.MaxConcurrent; i++)
        {
            Assert.True(exports.TryEnter());
        }

        var busy = await collector.Http.GetAsync($"/api/v1/series.csv?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}");
        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), busy.Headers.RetryAfter?.Delta);
        for (var i = 0; i < SeriesExports.MaxConcurrent; i++)
        {
            exports.Exit();
        }

        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync($"/api/v1/series.csv?sensor=dc-bench-1&from={Q(T0)}&to={Q(T0.AddMinutes(5))}")).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_names_both_endpoints()
    {
        await using var collector = await InProcessCollector.StartAsync();
        var openApi = await collector.Http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/v1/series/stats\"", openApi, StringComparison.Ordinal);
        Assert.Contains("\"/api/v1/series.csv\"", openApi, StringComparison.Ordinal);
    }
}
