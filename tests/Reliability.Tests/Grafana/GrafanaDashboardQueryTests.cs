using System.Globalization;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests.Grafana;

/// <summary>
/// Every panel query of every Grafana dashboard, run the way Grafana's Prometheus data source runs
/// it, against a real victoria-metrics that holds what a real collector's line-protocol sink wrote
/// and what it scraped from the collector's /metrics (with the shipped promscrape.yml). The data
/// came in over MQTT through the collector's ingest: three hours of doors (with a counter reset,
/// as after a Pi replacement), meters, climate, DC benches and badge scans, one refused batch and
/// one refused login.
/// </summary>
[Trait("Category", "Slow")]
public sealed class GrafanaDashboardQueryTests(ITestOutputHelper output)
{
    private static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    [Fact]
    public async Task Every_panel_query_of_every_dashboard_answers_with_data_from_the_collectors_sink_and_metrics()
    {
        var started = DateTimeOffset.UtcNow;
        using var folder = new TempDirectory("ntp-grafana-");
        var scrapeConfig = Path.Combine(folder.Path, "promscrape.yml");
        await using var vm = new VictoriaMetricsProcess($"-promscrape.config={scrapeConfig}");
        await using var rig = await FaultRig.StartAsync(BrokerKind.Embedded,
            "--Collector:Influx:Enabled=true",
            $"--Collector:Influx:Url={vm.Url}",
            "--Collector:Influx:RetryMinDelay=00:00:00.100",
            "--Collector:Influx:RetryMaxDelay=00:00:00.500");

        // The shipped scrape configuration, pointed at this collector and scraping every second.
        var shipped = await File.ReadAllTextAsync(Path.Combine(GrafanaDashboard.Folder, "victoriametrics", "promscrape.yml"));
        Assert.Contains("127.0.0.1:8080", shipped, StringComparison.Ordinal);
        await File.WriteAllTextAsync(scrapeConfig, shipped
            .Replace("127.0.0.1:8080", $"127.0.0.1:{rig.HttpPort}", StringComparison.Ordinal)
            .Replace("scrape_interval: 15s", "scrape_interval: 1s", StringComparison.Ordinal));
        await vm.StartAsync();
        output.WriteLine($"collector and victoria-metrics up after {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0} s");
        using var prom = new PromClient(vm.Url);

        // A scrape before the load, so rates over the load have a sample on either side.
        await WaitAsync(prom, async () => (await prom.InstantAsync("ntp_ingest_readings_total", DateTimeOffset.UtcNow)).Count > 0, "the first scrape of /metrics", rig, vm);

        var now = DateTimeOffset.UtcNow;
        output.WriteLine($"first scrape after {(now - started).TotalSeconds:0.0} s");
        var site = SiteData.Make(now.AddHours(-3), now.AddMinutes(-1));
        await PublishAsync(rig, site);
        output.WriteLine($"loaded {site.Readings} readings ({site.Samples} values) over MQTT in {(DateTimeOffset.UtcNow - now).TotalSeconds:0.0} s");

        // Until the sink's points are all in VictoriaMetrics and a scrape saw the whole load.
        var samples = $"sum(count_over_time({{site=\"{FaultRig.Site}\", __name__=~\"door_.*|energy_.*|dc_.*|climate_.*|badge_.*\"}}[4h]))";
        await WaitAsync(prom, async () => await prom.ScalarAsync(samples, DateTimeOffset.UtcNow) >= site.Samples, $"{site.Samples} values in VictoriaMetrics", rig, vm);
        Assert.Equal(site.Samples, await prom.ScalarAsync(samples, DateTimeOffset.UtcNow));
        output.WriteLine($"every value in VictoriaMetrics after {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0} s");
        await WaitAsync(prom, async () => await prom.ScalarAsync("sum(ntp_ingest_readings_total)", DateTimeOffset.UtcNow) >= site.Readings
            && await prom.ScalarAsync("sum(ntp_ingest_rejected_total)", DateTimeOffset.UtcNow) >= 1
            && await prom.ScalarAsync("sum(ntp_broker_refused_total)", DateTimeOffset.UtcNow) >= 1,
            "a scrape after the load, the refused batch and the refused login", rig, vm);

        // Rates need two samples of a series in their window: three scrapes after the last event
        // (the refused login), and a range end (Grafana floors it to the 15 s step) past them. A
        // range's last point comes back empty while it is less than about a second old (measured
        // with 1.79.5), so the test waits until that step is two seconds behind.
        await WaitAsync(prom, async () => await prom.ScalarAsync("sum(count_over_time(ntp_broker_refused_total[1m]))", DateTimeOffset.UtcNow) >= 3,
            "three scrapes after the refused login", rig, vm);
        var step = (long)GrafanaInterpolation.ScrapeInterval.TotalMilliseconds;
        var boundary = (((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / step) + 1) * step) + 2000;
        await Eventually.UntilAsync(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > boundary, "the step after the last scrape", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));

        // Every target of every dashboard, as Grafana's Prometheus data source runs it.
        var failures = new List<string>();
        var ran = 0;
        var from = started.AddHours(-3).AddMinutes(-10);
        var queried = DateTimeOffset.UtcNow;
        output.WriteLine($"scrapes and step boundary after {(queried - started).TotalSeconds:0.0} s");
        foreach (var dashboard in GrafanaDashboard.All())
        {
            var end = DateTimeOffset.UtcNow;
            var variables = await ResolveVariablesAsync(prom, dashboard, from, end, failures);
            foreach (var target in dashboard.Targets())
            {
                ran++;
                var where = $"{dashboard.File} · '{target.Panel}' {target.RefId}";
                var range = end - from;
                var interval = GrafanaInterpolation.Interval(range, target.MinInterval);
                var values = new Dictionary<string, string>(variables, StringComparer.Ordinal);
                foreach (var (k, v) in GrafanaInterpolation.BuiltIns(range, interval))
                {
                    values[k] = v;
                }

                var expr = GrafanaInterpolation.Interpolate(target.Expr, values);
                try
                {
                    IReadOnlyList<JsonElement> result;
                    if (target.Instant)
                    {
                        result = await prom.InstantAsync(expr, end);
                    }
                    else
                    {
                        var (start, stop) = GrafanaInterpolation.Align(from, end, interval, Amsterdam);
                        result = await prom.RangeAsync(expr, start, stop, interval);
                    }

                    if (result.Count == 0)
                    {
                        failures.Add($"{where}: empty result for {expr}");
                    }

                    Check(target, result, site, failures, where);
                }
                catch (PromException e)
                {
                    failures.Add($"{where}: {e.Message} for {expr}");
                }
            }
        }

        output.WriteLine($"{ran} panel queries of {GrafanaDashboard.All().Count} dashboards run in {(DateTimeOffset.UtcNow - queried).TotalSeconds:0.0} s");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(ran >= 60, $"only {ran} targets found");
    }

    /// <summary>Exact figures for the panels whose value the loader knows: visits across the counter reset, energy, badge scans.</summary>
    private static void Check(PanelTarget target, IReadOnlyList<JsonElement> result, SiteData site, List<string> failures, string where)
    {
        if (!target.Instant || result.Count == 0)
        {
            return;
        }

        double Sum() => result.Sum(r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));
        void Expect(double expected, double tolerance)
        {
            var actual = Sum();
            if (Math.Abs(actual - expected) > tolerance)
            {
                failures.Add($"{where}: {actual} where the loaded data gives {expected}");
            }
        }

        var panel = target.Panel;
        if (panel.StartsWith("Bezoeken deze periode", StringComparison.Ordinal) || panel.StartsWith("Bezoeken per buitendeur", StringComparison.Ordinal))
        {
            Expect(site.OutsideEntries, 0);
        }
        else if (panel.StartsWith("Passcans deze periode", StringComparison.Ordinal))
        {
            Expect(site.BadgeScans, 0);
        }
        else if (panel.StartsWith("Zonne-energie deze periode", StringComparison.Ordinal))
        {
            Expect(site.SolarWh / 1000, 0.001);
        }
        else if (panel.StartsWith("Netafname deze periode", StringComparison.Ordinal))
        {
            Expect(site.GridWh / 1000, 0.001);
        }
    }

    /// <summary>Template variables in order: a datasource variable is the provisioned uid, a query variable its label_values answer (all values for a multi one, as "All").</summary>
    private static async Task<Dictionary<string, string>> ResolveVariablesAsync(PromClient prom, GrafanaDashboard dashboard, DateTimeOffset from, DateTimeOffset to, List<string> failures)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in dashboard.Variables())
        {
            if (variable.Type == "datasource")
            {
                values[variable.Name] = GrafanaDashboard.ProvisionedUid;
                continue;
            }

            var query = GrafanaInterpolation.Interpolate(variable.Query ?? string.Empty, values);
            var found = await prom.LabelValuesAsync(query, from, to);
            if (found.Count == 0)
            {
                failures.Add($"{dashboard.File} · variable {variable.Name}: no values for {query}");
            }

            values[variable.Name] = GrafanaInterpolation.Format(variable, variable.Multi || variable.IncludeAll ? found : found.Take(1).ToList());
        }

        return values;
    }

    private static async Task PublishAsync(FaultRig rig, SiteData site)
    {
        foreach (var (device, batches) in site.Batches)
        {
            using var client = await ConnectAsync(rig, device, TestCredentials.PasswordOf(device));
            foreach (var batch in batches)
            {
                var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic($"ntp/v1/{FaultRig.Site}/{device}/readings")
                    .WithPayload(batch)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build());
                Assert.True(result.IsSuccess, $"{device}: {result.ReasonCode} {result.ReasonString}");
            }

            await client.DisconnectAsync();
        }

        // One refused batch and one refused login, for the collector dashboard's refusal panels.
        using (var entrance = await ConnectAsync(rig, "pi-entrance", TestCredentials.PasswordOf("pi-entrance")))
        {
            await entrance.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"ntp/v1/{FaultRig.Site}/pi-entrance/readings")
                .WithPayload(site.ImplausibleBatch)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build());
            await entrance.DisconnectAsync();
        }

        using (var intruder = new MqttClientFactory().CreateMqttClient())
        {
            var refused = await intruder.ConnectAsync(Options(rig, "pi-entrance", "not-the-password"));
            Assert.NotEqual(MqttClientConnectResultCode.Success, refused.ResultCode);
        }
    }

    private static async Task<IMqttClient> ConnectAsync(FaultRig rig, string user, string password)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options(rig, user, password));
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    private static MqttClientOptions Options(FaultRig rig, string user, string password) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", rig.BrokerPort).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(user).WithCredentials(user, password).WithTimeout(TimeSpan.FromSeconds(10)).Build();

    /// <summary>
    /// Polls with a deadline. VictoriaMetrics makes new series searchable only when it flushes its
    /// in-memory parts (about 10 s after they came): each poll asks it to flush first.
    /// </summary>
    private static async Task WaitAsync(PromClient prom, Func<Task<bool>> condition, string what, FaultRig rig, VictoriaMetricsProcess vm)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await prom.FlushAsync();
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no {what} within 60 s\n{rig.Diagnostics()}\n--- victoria-metrics ---\n{vm.Output}");
            }

            await Task.Delay(200);
        }
    }
}

/// <summary>
/// Three hours of the default site, as the Pis would send them: door crossings with their totals
/// (door-main's counter starts again from 0 halfway, as after a Pi replacement), grid and solar
/// meters every minute, the DC-Lab's meter, two DC benches every 10 s, climate every 5 minutes
/// and badge scans. It knows the figures the dashboards must show.
/// </summary>
public sealed class SiteData
{
    private readonly Dictionary<string, List<Dictionary<string, object>>> _readings = new(StringComparer.Ordinal);

    public List<(string Device, List<byte[]> Batches)> Batches { get; } = [];

    public byte[] ImplausibleBatch { get; private set; } = [];

    public int Readings { get; private set; }

    public int Samples { get; private set; }

    /// <summary>Entries through the outside doors after each door's first reading (the first total is the baseline).</summary>
    public int OutsideEntries { get; private set; }

    public int BadgeScans { get; private set; }

    public double SolarWh { get; private set; }

    public double GridWh { get; private set; }

    public static SiteData Make(DateTimeOffset from, DateTimeOffset to)
    {
        var data = new SiteData();
        data.Build(from, to);
        return data;
    }

    private void Build(DateTimeOffset from, DateTimeOffset to)
    {
        var minutes = (int)(to - from).TotalMinutes;
        var doors = new[] { ("door-main", "pi-entrance", 2), ("door-side", "pi-entrance", 7), ("door-technodiscovery", "pi-hall-north", 3), ("door-dc-lab", "pi-dc-lab", 4) };
        foreach (var (door, device, every) in doors)
        {
            double inTotal = door == "door-main" ? 5000 : 1200, outTotal = inTotal - 3;
            var first = true;
            for (var m = 0; m < minutes; m += every)
            {
                if (door == "door-main" && m == (minutes / 2) - ((minutes / 2) % every))
                {
                    inTotal = 0; // the Pi was replaced: its counter starts again
                    outTotal = 0;
                }

                var entering = (m / every) % 3 != 2;
                inTotal += entering ? 1 : 0;
                outTotal += entering ? 0 : 1;
                if (!first && door is "door-main" or "door-side")
                {
                    OutsideEntries += entering ? 1 : 0;
                }

                first = false;
                Add(device, from.AddMinutes(m), door, "door", new() { ["in"] = entering ? 1 : 0, ["out"] = entering ? 0 : 1, ["in_total"] = inTotal, ["out_total"] = outTotal });
            }
        }

        var meters = new[] { ("meter-grid", "pi-entrance", 4200.0, 823_000.0), ("meter-solar", "pi-entrance", 1800.0, 95_000.0), ("meter-dc-lab", "pi-dc-lab", 350.0, 12_000.0) };
        foreach (var (meter, device, watts, start) in meters)
        {
            var total = start;
            for (var m = 0; m < minutes; m++)
            {
                var power = watts * (1 + (0.2 * Math.Sin(m / 17.0)));
                if (m > 0)
                {
                    var wh = Math.Round(power / 60, 3);
                    total += wh;
                    SolarWh += meter == "meter-solar" ? wh : 0;
                    GridWh += meter == "meter-grid" ? wh : 0;
                }

                Dictionary<string, object> values = new() { ["power_w"] = Math.Round(power, 1), ["energy_wh_total"] = Math.Round(total, 3) };
                if (meter == "meter-grid")
                {
                    values["energy_export_wh_total"] = 40.0 + m;
                }

                Add(device, from.AddMinutes(m), meter, "energy", values);
            }
        }

        foreach (var bench in (string[])["dc-bench-1", "dc-bench-2"])
        {
            for (var s = 0; s < minutes * 60; s += 10)
            {
                var volts = bench == "dc-bench-1" ? 24 + Math.Sin(s / 300.0) : 12 + (0.5 * Math.Cos(s / 200.0));
                var amps = 1.5 + Math.Sin(s / 120.0);
                Add("pi-dc-lab", from.AddSeconds(s), bench, "dc", new() { ["voltage_v"] = Math.Round(volts, 3), ["current_a"] = Math.Round(amps, 3), ["power_w"] = Math.Round(volts * amps, 3) });
            }
        }

        var climate = new[] { ("climate-cer", "pi-climate"), ("climate-technodiscovery", "pi-hall-north"), ("climate-dc-lab", "pi-dc-lab"), ("climate-entrance", "pi-entrance") };
        foreach (var (sensor, device) in climate)
        {
            for (var m = 0; m < minutes; m += 5)
            {
                Add(device, from.AddMinutes(m), sensor, "climate", new()
                {
                    ["temperature_c"] = Math.Round(20.5 + Math.Sin(m / 40.0), 2),
                    ["humidity_pct"] = Math.Round(45 + (5 * Math.Cos(m / 50.0)), 1),
                    ["pressure_hpa"] = 1013.2,
                    ["co2_ppm"] = 450 + (m * 2),
                });
            }
        }

        for (var m = 3; m < minutes; m += 15)
        {
            BadgeScans++;
            Add("pi-entrance", from.AddMinutes(m), "badge-entrance", "badge", null, $"Zk3J9aQ2mX0pR7tV1wY{m % 1000:000}");
        }

        foreach (var (device, readings) in _readings.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var ordered = readings.OrderBy(r => (string)r["ts"], StringComparer.Ordinal).ToList();
            var batches = ordered.Chunk(500).Select((chunk, i) => Batch(i + 1, chunk)).ToList();
            Batches.Add((device, batches));
            if (device == "pi-entrance")
            {
                // door-main carries 1,000 crossings in one reading: refused (ImplausibleDoor), dead-lettered.
                ImplausibleBatch = Batch(batches.Count + 1,
                [
                    new() { ["ts"] = Timestamp(to), ["sensor"] = "door-main", ["kind"] = "door", ["values"] = new Dictionary<string, object> { ["in"] = 1000 } },
                ]);
            }
        }
    }

    private void Add(string device, DateTimeOffset ts, string sensor, string kind, Dictionary<string, object>? values, string? visitor = null)
    {
        Dictionary<string, object> reading = new() { ["ts"] = Timestamp(ts), ["sensor"] = sensor, ["kind"] = kind };
        if (values is not null)
        {
            reading["values"] = values;
        }

        if (visitor is not null)
        {
            reading["visitor"] = visitor;
        }

        if (!_readings.TryGetValue(device, out var list))
        {
            _readings[device] = list = [];
        }

        list.Add(reading);
        Readings++;
        Samples += values?.Count ?? 1; // a badge scan becomes badge_scans=1 at the sink
    }

    private static byte[] Batch(int seq, IEnumerable<Dictionary<string, object>> readings) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["v"] = 1,
            ["seq"] = seq,
            ["sent"] = Timestamp(DateTimeOffset.UtcNow),
            ["readings"] = readings.ToList(),
        }));

    private static string Timestamp(DateTimeOffset ts) => ts.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}

/// <summary>The Prometheus query API as Grafana calls it (VictoriaMetrics answers it).</summary>
public sealed class PromClient(string url) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

    public Task<IReadOnlyList<JsonElement>> RangeAsync(string expr, DateTimeOffset start, DateTimeOffset end, TimeSpan step) =>
        QueryAsync("/api/v1/query_range", new()
        {
            ["query"] = expr,
            ["start"] = Seconds(start),
            ["end"] = Seconds(end),
            ["step"] = GrafanaInterpolation.Duration(step),
        });

    public Task<IReadOnlyList<JsonElement>> InstantAsync(string expr, DateTimeOffset time) =>
        QueryAsync("/api/v1/query", new() { ["query"] = expr, ["time"] = Seconds(time) });

    /// <summary>One number: the single series' value, 0 when there is none.</summary>
    public async Task<double> ScalarAsync(string expr, DateTimeOffset time)
    {
        var result = await InstantAsync(expr, time);
        return result.Count == 0 ? 0 : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Grafana's <c>label_values(selector, label)</c> and <c>label_values(label)</c>: <c>/api/v1/label/&lt;label&gt;/values</c>.</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string query, DateTimeOffset start, DateTimeOffset end)
    {
        var inner = query.Trim();
        if (!inner.StartsWith("label_values(", StringComparison.Ordinal) || !inner.EndsWith(')'))
        {
            throw new PromException($"not a label_values query: {query}");
        }

        inner = inner["label_values(".Length..^1];
        var comma = inner.LastIndexOf(',');
        var label = (comma < 0 ? inner : inner[(comma + 1)..]).Trim();
        var selector = comma < 0 ? null : inner[..comma].Trim();
        var path = $"/api/v1/label/{Uri.EscapeDataString(label)}/values?start={Seconds(start)}&end={Seconds(end)}"
            + (selector is null ? string.Empty : "&match[]=" + Uri.EscapeDataString(selector));
        using var response = await _http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        if (json.RootElement.GetProperty("status").GetString() != "success")
        {
            throw new PromException($"{(int)response.StatusCode} {body}");
        }

        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal)];
    }

    /// <summary><c>/internal/force_flush</c>: what VictoriaMetrics holds in memory becomes searchable now.</summary>
    public async Task FlushAsync()
    {
        using var response = await _http.GetAsync("/internal/force_flush");
        response.EnsureSuccessStatusCode();
    }

    public void Dispose() => _http.Dispose();

    private static string Seconds(DateTimeOffset t) => (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private async Task<IReadOnlyList<JsonElement>> QueryAsync(string path, Dictionary<string, string> form)
    {
        // POST, as the provisioned data source sends (httpMethod: POST): long expressions fit.
        using var response = await _http.PostAsync(path, new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        if (!response.IsSuccessStatusCode || json.RootElement.GetProperty("status").GetString() != "success")
        {
            throw new PromException($"{(int)response.StatusCode} {body}");
        }

        // Series whose every value is NaN draw nothing in Grafana: count them as absent.
        return [.. json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .Where(HasNumber).Select(r => r.Clone())];
    }

    private static bool HasNumber(JsonElement series)
    {
        IEnumerable<JsonElement> values = series.TryGetProperty("values", out var many) ? many.EnumerateArray() : [series.GetProperty("value")];
        return values.Any(v => double.TryParse(v[1].GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d));
    }
}

public sealed class PromException(string message) : Exception(message);
