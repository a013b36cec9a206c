using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.CommandLine;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Region;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Tests.Region;
using NewTechPark.Edge.Reliability.Tests.Grafana;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests.Region;

/// <summary>
/// The region tier on a real victoria-metrics (single node: Debian has no vminsert/vmselect; its
/// <c>/influx/...</c> and <c>/prometheus/...</c> prefixes stand in for the cluster's
/// <c>/insert/0/influx</c> and <c>/select/0/prometheus</c>). Three sites, each with its own store,
/// services, raw-point sink (InfluxSink, the collector's own) and region feed, load a week of
/// doors, badge scans and meters; then: no pseudonym anywhere in VictoriaMetrics, every panel of
/// the region dashboard answers with data, visits and kWh per site are what was loaded, and the
/// region yearly report adds the sites up.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RegionTierTests(ITestOutputHelper output)
{
    private static readonly DateOnly FirstDay = new(2026, 11, 23);
    private static readonly string[] Sites = ["noord", "oost", "zuid"];

    [Fact]
    public async Task Three_sites_feed_one_victoria_metrics_the_dashboards_answer_the_report_adds_up_and_no_pseudonym_arrives()
    {
        await using var vm = new VictoriaMetricsProcess();
        await vm.StartAsync();
        var now = RegionSite.Local(FirstDay.AddDays(7), 10, 0).AddSeconds(5);
        var sites = new List<RegionSite>();
        var sinks = new List<InfluxSink>();
        try
        {
            for (var i = 0; i < Sites.Length; i++)
            {
                var site = new RegionSite(Sites[i], now);
                sites.Add(site);
                var raw = new List<NewTechPark.Edge.Collector.Storage.ReadingsItem>();
                for (var d = 0; d < 7; d++)
                {
                    var first = ((d % 3) * 5) + 1;
                    raw.AddRange(site.LoadDay(FirstDay.AddDays(d), 30 + (10 * i) + d, Enumerable.Range(first, 6 + i), gridW: 1000 * (i + 1), solarW: 200));
                }

                raw.Add(site.Enter(now.AddMinutes(-30), 5 + i));
                var options = new CollectorOptions { DataDirectory = site.Folder };
                options.Influx.Enabled = true;
                // The base path is kept: the cluster's vminsert takes /insert/<accountID>/influx/api/v2/write.
                options.Influx.Url = vm.Url + "/influx";
                options.Influx.RetryMinDelay = TimeSpan.FromMilliseconds(100);
                options.Influx.RetryMaxDelay = TimeSpan.FromMilliseconds(500);
                var sink = new InfluxSink(Options.Create(options), new CollectorMetrics(), TimeProvider.System, NullLogger<InfluxSink>.Instance, new NewTechPark.Edge.Collector.Site.SiteCatalog(site.Site));
                sinks.Add(sink);
                sink.Accept(raw);
                var feed = site.Feed(sink.Queue);
                // Twenty minutes of live samples: a dashboard's last step (floored to its interval) and
                // its instant look-back both find some.
                for (var m = 0; m <= 20; m++)
                {
                    feed.Tick(now.AddMinutes(m));
                }

                await sink.StartAsync(CancellationToken.None);
            }

            using var prom = new PromClient(vm.Url);
            var expectedDays = 7 * Sites.Length;
            await Eventually.UntilAsync(async () =>
                {
                    await prom.FlushAsync();
                    return sinks.All(s => s.Queue.Points == 0) && (await vm.ExportAsync("region_visitors_day_visits")).Count >= expectedDays;
                },
                "every site's points in VictoriaMetrics", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));

            // The sink keeps the base path of its URL (vminsert's /insert/<accountID>/influx): one
            // pointed at a path VictoriaMetrics does not serve is refused there (400), by that path.
            using var http = new HttpClient { BaseAddress = new Uri(vm.Url), Timeout = TimeSpan.FromSeconds(30) };
            await BasePathIsKeptAsync(vm, sites[0]);

            await NoPseudonymAsync(http, sites);
            await EveryPanelAnswersAsync(prom, now.AddMinutes(20));
            await FiguresPerSiteAreTheSitesOwnAsync(prom, sites, now.AddMinutes(20));
            await ReportAddsUpAsync(vm.Url, sites);
        }
        finally
        {
            foreach (var sink in sinks)
            {
                await sink.StopAsync(CancellationToken.None);
                sink.Dispose();
            }

            foreach (var site in sites)
            {
                site.Dispose();
            }
        }
    }

    private static async Task BasePathIsKeptAsync(VictoriaMetricsProcess vm, RegionSite site)
    {
        using var dir = new TempDirectory("ntp-region-path-");
        var options = new CollectorOptions { DataDirectory = dir.Path };
        options.Influx.Enabled = true;
        options.Influx.Url = vm.Url + "/not-influx";
        options.Influx.RetryMinDelay = TimeSpan.FromMilliseconds(100);
        using var sink = new InfluxSink(Options.Create(options), new CollectorMetrics(), TimeProvider.System, NullLogger<InfluxSink>.Instance, new NewTechPark.Edge.Collector.Site.SiteCatalog(site.Site));
        var at = RegionSite.Local(FirstDay, 12);
        sink.Accept([new NewTechPark.Edge.Collector.Storage.ReadingsItem(
            new NewTechPark.Edge.Contracts.Topics.TopicAddress(site.Id, "pi-probe", NewTechPark.Edge.Contracts.Topics.TopicChannel.Readings),
            new NewTechPark.Edge.Contracts.Payloads.ReadingsBatch
            {
                Seq = 1,
                Sent = at,
                Readings = [new NewTechPark.Edge.Contracts.Payloads.Reading { Ts = at, Sensor = "probe", Kind = "probe", Values = new() { ["n_total"] = 1 } }],
            },
            at)]);
        await sink.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => sink.Queue.Points == 0, "the refused write set aside", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        await sink.StopAsync(CancellationToken.None);
        // Gone from the queue and not in VictoriaMetrics: refused for good (400, "unsupported path
        // requested: /not-influx/api/v2/write"). Had the client dropped the path, /api/v2/write
        // would have taken it, as it takes the other sinks' /influx/api/v2/write.
        using var prom = new PromClient(vm.Url);
        await prom.FlushAsync();
        Assert.Empty(await vm.ExportAsync("probe_n_total"));
    }

    private async Task NoPseudonymAsync(HttpClient http, List<RegionSite> sites)
    {
        var pseudonyms = sites.SelectMany(s => s.Pseudonyms).ToList();
        Assert.NotEmpty(pseudonyms);
        var seen = new List<string>();
        using (var labels = JsonDocument.Parse(await http.GetStringAsync("/api/v1/labels?start=0")))
        {
            foreach (var label in labels.RootElement.GetProperty("data").EnumerateArray().Select(l => l.GetString()!))
            {
                seen.Add(label);
                using var values = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/label/{Uri.EscapeDataString(label)}/values?start=0"));
                seen.AddRange(values.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!));
            }
        }

        var series = await http.GetStringAsync($"/api/v1/series?start=0&match[]={Uri.EscapeDataString("{__name__=~\".+\"}")}");
        var text = string.Join('\n', seen) + series;
        Assert.Contains("badge_scans", text, StringComparison.Ordinal);
        Assert.All(pseudonyms, p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
        // Nothing per person either: no label named after a visitor.
        Assert.DoesNotContain(seen, l => l.Equals("visitor", StringComparison.OrdinalIgnoreCase));
        output.WriteLine($"{seen.Count} label names and values, {series.Length} bytes of series: none of {pseudonyms.Count} pseudonyms");
    }

    private async Task EveryPanelAnswersAsync(PromClient prom, DateTimeOffset end)
    {
        var dashboards = GrafanaDashboard.In("region");
        Assert.NotEmpty(dashboards);
        var start = RegionSite.Local(FirstDay, 0);
        var failures = new List<string>();
        var ran = 0;
        foreach (var dashboard in dashboards)
        {
            var variables = dashboard.Variables();
            var site = Assert.Single(variables, v => v.Name == "site");
            Assert.True(site.Multi && site.IncludeAll, "the site variable takes several sites");
            var offered = await prom.LabelValuesAsync(site.Query!, start, end);
            Assert.Equal(Sites, offered);
            var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["site"] = GrafanaInterpolation.Format(site, offered) };
            foreach (var target in dashboard.Targets())
            {
                var range = end - start;
                var interval = GrafanaInterpolation.Interval(range, target.MinInterval);
                var all = new Dictionary<string, string>(values, StringComparer.Ordinal);
                foreach (var (k, v) in GrafanaInterpolation.BuiltIns(range, interval))
                {
                    all[k] = v;
                }

                var expr = GrafanaInterpolation.Interpolate(target.Expr, all);
                ran++;
                try
                {
                    var (alignedStart, alignedEnd) = GrafanaInterpolation.Align(start, end, interval, RegionSite.Amsterdam);
                    var result = target.Instant ? await prom.InstantAsync(expr, end) : await prom.RangeAsync(expr, alignedStart, alignedEnd, interval);
                    if (result.Count == 0)
                    {
                        failures.Add($"{dashboard.File} '{target.Panel}' {target.RefId}: empty: {expr}");
                    }
                    else if (expr.Contains("by (site", StringComparison.Ordinal)
                        && result.Select(r => r.GetProperty("metric").GetProperty("site").GetString()).Distinct().Count() != Sites.Length)
                    {
                        failures.Add($"{dashboard.File} '{target.Panel}' {target.RefId}: not every site: {expr}");
                    }
                }
                catch (PromException e)
                {
                    failures.Add($"{dashboard.File} '{target.Panel}' {target.RefId}: {e.Message}: {expr}");
                }
            }
        }

        output.WriteLine($"{ran} region panel queries run");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static async Task FiguresPerSiteAreTheSitesOwnAsync(PromClient prom, List<RegionSite> sites, DateTimeOffset end)
    {
        foreach (var site in sites)
        {
            var visits = await prom.ScalarAsync($"sum(sum_over_time(region_visitors_day_visits{{site=\"{site.Id}\"}}[30d]))", end);
            Assert.Equal(site.Visits.Values.Sum(), visits);
            var own = site.Energy.Report(RegionSite.Local(FirstDay, 0), RegionSite.Local(FirstDay.AddDays(7), 0), CalendarBucket.Day).Totals;
            var kwh = await prom.ScalarAsync($"sum(sum_over_time(region_energy_day_wh{{site=\"{site.Id}\", role=\"use\"}}[30d])) / 1000", end);
            Assert.Equal(own.ConsumptionWh / 1000, kwh, 3);
            Assert.True(kwh > 0);
            var people = await prom.ScalarAsync($"last_over_time(region_building_people{{site=\"{site.Id}\"}}[10m])", end);
            Assert.Equal(site.Occupancy.Snapshot().Building, people);
        }
    }

    private async Task ReportAddsUpAsync(string vmUrl, List<RegionSite> sites)
    {
        using var folder = new TempDirectory("ntp-region-report-");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // The single node's /prometheus prefix, as vmselect's /select/0/prometheus.
        var exit = await CollectorCommandLine.RunAsync(["region", "report", "--year", "2026", "--url", vmUrl + "/prometheus", "--out", folder.Path, "--csv", "en"], stdout, stderr);
        output.WriteLine(stdout.ToString() + stderr);
        Assert.Equal(0, exit);
        var rows = File.ReadAllLines(Path.Combine(folder.Path, "region-2026.csv")).Select(l => l.Split(',')).ToDictionary(r => r[0], StringComparer.Ordinal);
        Assert.Equal(["figure", "description", .. Sites, "total"], rows["figure"]);
        double Cell(string row, int column) => double.Parse(rows[row][column], CultureInfo.InvariantCulture);
        var yearStart = RegionSite.Local(new DateOnly(2026, 1, 1), 0);
        var yearEnd = RegionSite.Local(FirstDay.AddDays(7), 0);
        double visits = 0, unique = 0, use = 0;
        for (var i = 0; i < sites.Count; i++)
        {
            var own = sites[i].Visitors.Report(yearStart, yearEnd, CalendarBucket.Day).Totals;
            var energy = sites[i].Energy.Report(yearStart, yearEnd, CalendarBucket.Day).Totals;
            Assert.Equal(own.Visits, Cell("visits", 2 + i));
            Assert.Equal(own.UniqueVisitors.Value!.Value, Cell("unique", 2 + i));
            Assert.Equal(own.ReturningVisitors.Value!.Value, Cell("returning", 2 + i));
            Assert.Equal(Math.Round(energy.ConsumptionWh / 1000, 3), Cell("use_kwh", 2 + i), 3);
            Assert.Equal(own.Visits, Cell("visits_2026_11", 2 + i));
            visits += own.Visits;
            unique += own.UniqueVisitors.Value!.Value;
            use += energy.ConsumptionWh / 1000;
        }

        Assert.Equal(visits, Cell("visits", 2 + sites.Count));
        Assert.Equal(unique, Cell("unique", 2 + sites.Count));
        Assert.Equal(use, Cell("use_kwh", 2 + sites.Count), 3);
        var html = await File.ReadAllTextAsync(Path.Combine(folder.Path, "region-2026.html"));
        Assert.Contains("<html lang=\"nl\">", html, StringComparison.Ordinal);
        Assert.Contains("telt twee keer", html, StringComparison.Ordinal);
        Assert.Contains("counts twice", html, StringComparison.Ordinal);
    }
}
