using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Region;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Tests.Region;

/// <summary>
/// The region feed against a real store and queue file: it catches up, sends every period once
/// (also when the queue file is opened again, as after a restart or kill -9: the watermark is in
/// the same transaction as the points), keeps to its catch-up bound, sends what the site's own
/// services say, and never a pseudonym.
/// </summary>
public sealed class RegionFeedTests
{
    private static readonly DateOnly FirstDay = new(2026, 11, 23);

    /// <summary>A line of line protocol: its series and time (the identity VictoriaMetrics deduplicates on) and its fields.</summary>
    internal sealed record Line(string Measurement, IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, double> Fields, long Ms)
    {
        public string Key => $"{Measurement},{string.Join(',', Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))} {Ms}";

        public static Line Parse(string text)
        {
            var parts = text.Split(' ');
            var head = parts[0].Split(',');
            var tags = head.Skip(1).Select(t => t.Split('=', 2)).ToDictionary(t => t[0], t => t[1], StringComparer.Ordinal);
            var fields = parts[1].Split(',').Select(f => f.Split('=', 2))
                .ToDictionary(f => f[0], f => double.Parse(f[1].TrimEnd('i'), CultureInfo.InvariantCulture), StringComparer.Ordinal);
            return new Line(head[0], tags, fields, long.Parse(parts[2], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void Catches_up_then_sends_each_period_once_across_a_reopened_queue()
    {
        var now = RegionSite.Local(FirstDay.AddDays(7), 10, 0).AddSeconds(5);
        using var site = new RegionSite("site-a", now);
        Load(site);
        site.Enter(now.AddMinutes(-30), 7);
        var path = Path.Combine(site.Folder, "queue.db");
        var lines = new List<Line>();

        using (var queue = Queue(path))
        {
            var feed = site.Feed(queue);
            Assert.True(feed.Tick(now) > 0);
            Assert.Equal(0, feed.Tick(now.AddSeconds(20)));
            lines.AddRange(Drain(queue));
        }

        // Opened again (a restart): nothing of what went is sent again; the next minute and hour are.
        using (var queue = Queue(path))
        {
            var feed = site.Feed(queue);
            Assert.Equal(0, feed.Tick(now.AddSeconds(30)));
            Assert.True(feed.Tick(now.AddHours(1)) > 0);
            lines.AddRange(Drain(queue));
        }

        var duplicates = lines.GroupBy(l => l.Key).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "sent twice: " + string.Join(", ", duplicates.Take(5)));
        Assert.All(lines, l => Assert.Equal("site-a", l.Tags["site"]));

        // Energy: every hour from the catch-up bound to the last settled hour, each once, no gap.
        var buckets = site.Visitors.Buckets;
        var nowMs = now.AddHours(1).ToUnixTimeMilliseconds();
        var first = buckets.Next(Resolution.Hour, buckets.Floor(Resolution.Hour, now.AddDays(-35).ToUnixTimeMilliseconds()));
        var settled = buckets.Floor(Resolution.Hour, nowMs - (long)TimeSpan.FromMinutes(10).TotalMilliseconds);
        var hours = lines.Where(l => l.Measurement == "region_energy_hour" && l.Tags["role"] == "use").Select(l => l.Ms).Order().ToList();
        Assert.Equal(Enumerable.Range(0, (int)((settled - first) / TimeBuckets.HourMs)).Select(i => first + (i * TimeBuckets.HourMs)), hours);

        // The figures are the site's own: energy per day, visits and unique visitors per day.
        var days = Enumerable.Range(0, 7).Select(FirstDay.AddDays).ToList();
        var energy = site.Energy.Report(RegionSite.Local(days[0], 0), RegionSite.Local(days[^1].AddDays(1), 0), CalendarBucket.Day);
        foreach (var day in energy.Buckets)
        {
            var use = Assert.Single(lines, l => l.Measurement == "region_energy_day" && l.Tags["role"] == "use" && l.Ms == day.Start.ToUnixTimeMilliseconds());
            Assert.Equal(day.ConsumptionWh, use.Fields["wh"]);
        }

        var visitors = site.Visitors.Report(RegionSite.Local(days[0], 0), RegionSite.Local(days[^1].AddDays(1), 0), CalendarBucket.Day);
        foreach (var day in visitors.Buckets)
        {
            var line = Assert.Single(lines, l => l.Measurement == "region_visitors_day" && l.Ms == day.Start.ToUnixTimeMilliseconds());
            Assert.Equal(site.Visits[DateOnly.FromDateTime(day.Start.ToOffset(RegionSite.Amsterdam.GetUtcOffset(day.Start)).DateTime)], line.Fields["visits"]);
            Assert.Equal(day.UniqueVisitors.Value, line.Fields.TryGetValue("unique", out var unique) ? (long)unique : null);
            Assert.Equal(day.ReturningVisitors.Value, line.Fields.TryGetValue("returning", out var returning) ? (long)returning : null);
        }

        var lastDay = Assert.Single(lines, l => l.Measurement == "region_visitors_day" && l.Ms == RegionSite.Local(days[^1], 0).ToUnixTimeMilliseconds());
        var year = site.Visitors.Report(RegionSite.Local(new DateOnly(2026, 1, 1), 0), RegionSite.Local(days[^1].AddDays(1), 0), CalendarBucket.Day).Totals;
        Assert.Equal(year.UniqueVisitors.Value, (long)lastDay.Fields["unique_year"]);
        Assert.Equal(year.ReturningVisitors.Value, (long)lastDay.Fields["returning_year"]);
        Assert.Equal(16, (long)lastDay.Fields["unique_year"]);

        // Live minute figures: the building's people, per room, and the devices.
        Assert.Equal(2, lines.Count(l => l.Measurement == "region_building"));
        Assert.All(lines.Where(l => l.Measurement == "region_building"), l => Assert.Equal(7, l.Fields["people"]));
        Assert.Equal(2, lines.Count(l => l.Measurement == "region_devices"));
        Assert.Contains(lines, l => l.Measurement == "region_device" && l.Tags["device"] == "pi-entrance");

        // No pseudonym, in any line.
        var text = string.Join('\n', lines.Select(l => l.Key + string.Join(',', l.Fields.Keys)));
        Assert.All(site.Pseudonyms, p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
    }

    [Fact]
    public void After_downtime_longer_than_the_catch_up_it_starts_at_the_bound_and_skips_nothing_after_it()
    {
        var now = RegionSite.Local(FirstDay.AddDays(7), 10, 0);
        using var site = new RegionSite("site-b", now);
        Load(site);
        var options = new RegionOptions { CatchUp = TimeSpan.FromDays(2) };
        using var queue = Queue(Path.Combine(site.Folder, "queue.db"));
        var feed = site.Feed(queue, options);
        feed.Tick(now);
        var first = Drain(queue).Where(l => l.Measurement == "region_energy_hour").Min(l => l.Ms);
        Assert.True(first >= now.AddDays(-2).ToUnixTimeMilliseconds() && first < now.AddDays(-2).AddHours(2).ToUnixTimeMilliseconds());

        var later = now.AddDays(10);
        feed.Tick(later);
        var after = Drain(queue).Where(l => l.Measurement == "region_energy_hour" && l.Tags["role"] == "use").Select(l => l.Ms).Order().ToList();
        Assert.True(after[0] >= later.AddDays(-2).ToUnixTimeMilliseconds());
        Assert.Equal(Enumerable.Range(0, after.Count).Select(i => after[0] + (i * TimeBuckets.HourMs)), after);
        Assert.Equal(later.AddDays(-2).ToUnixTimeMilliseconds(), queue.Watermark("site-b", RegionFeed.EnergyHourKind)!.Value - (after.Count * TimeBuckets.HourMs), TimeBuckets.HourMs);
    }

    [Fact]
    public void A_minute_is_sampled_once_even_when_the_clock_steps_back()
    {
        var now = RegionSite.Local(FirstDay, 10, 0);
        using var site = new RegionSite("site-c", now);
        using var queue = Queue(Path.Combine(site.Folder, "queue.db"));
        var feed = site.Feed(queue, new RegionOptions { CatchUp = TimeSpan.FromDays(1) });
        feed.Tick(now.AddSeconds(30));
        Drain(queue);
        feed.Tick(now.AddSeconds(-50));
        Assert.DoesNotContain(Drain(queue), l => l.Measurement is "region_building" or "region_devices");
    }

    internal static void Load(RegionSite site)
    {
        // 16 distinct visitors over the week: 1..8 on the first day, then 5..12, 9..16, and the
        // first eight again, so some return.
        for (var d = 0; d < 7; d++)
        {
            var start = ((d % 4) * 4) + 1;
            site.LoadDay(FirstDay.AddDays(d), 20 + d, Enumerable.Range(start, 8).Select(v => ((v - 1) % 16) + 1), gridW: 1000, solarW: 250);
        }
    }

    private static DurableQueue Queue(string path) => new(path, 1L << 30, 5000, NullLogger.Instance);

    private static List<Line> Drain(DurableQueue queue)
    {
        var lines = new List<Line>();
        while (queue.Peek() is { } chunk)
        {
            lines.AddRange(chunk.Lines().Select(Line.Parse));
            queue.Remove(chunk);
        }

        return lines;
    }
}
