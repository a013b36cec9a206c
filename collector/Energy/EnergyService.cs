using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Energy;

/// <summary>One meter in one bucket: energy (from its counter's increase) and power.</summary>
public sealed record MeterBucket(DateTimeOffset Start, DateTimeOffset End, string Label, double EnergyWh, double? MeanPowerW, double? MaxPowerW, long CounterResets);

/// <summary>One meter over the whole window.</summary>
public sealed record MeterEnergy(string Meter, string Role, string? Room, double TotalWh, double? ExportWh, IReadOnlyList<MeterBucket> Buckets);

/// <summary>The building in one bucket.</summary>
public sealed record EnergyBucket(
    DateTimeOffset Start,
    DateTimeOffset End,
    string Label,
    double Hours,
    double GridImportWh,
    double GridExportWh,
    double SolarWh,
    double SelfConsumptionWh,
    double ConsumptionWh,
    double LabWh,
    double Co2Kg,
    double Co2AvoidedKg);

/// <summary>Energy per local hour, day or month, per meter and for the building.</summary>
public sealed record EnergyReport(
    DateTimeOffset From,
    DateTimeOffset To,
    string Bucket,
    string TimeZone,
    double Co2KgPerKwh,
    IReadOnlyList<MeterEnergy> Meters,
    IReadOnlyList<EnergyBucket> Buckets,
    EnergyBucket Totals);

/// <summary>
/// Energy from the meters' cumulative counters (<c>energy_wh_total</c>): the energy of a bucket is
/// the counter's increase in it, taken from the hour, day and month rollups, which follow the
/// site's time zone, so a local day holds 23 or 25 hours' worth on the days the clocks change.
/// A counter that goes down (meter swapped, device reset) starts a new segment: nothing negative,
/// no spike; a lost reading's energy lands with the next one (its total closes the gap). Grid
/// meters may also report <c>energy_export_wh_total</c>; then self-consumption is solar minus
/// export, otherwise all solar counts as used on site. CO2 uses one configurable factor.
/// </summary>
public sealed class EnergyService(SiteModel site, StoreQueries queries, IOptions<CollectorOptions> options)
{
    public const string ExportField = "energy_export_wh_total";

    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));

    public EnergyReport Report(DateTimeOffset from, DateTimeOffset to, CalendarBucket bucket, string? meter = null)
    {
        var resolution = bucket switch
        {
            CalendarBucket.Hour => Resolution.Hour,
            CalendarBucket.Day => Resolution.Day,
            CalendarBucket.Month => Resolution.Month,
            CalendarBucket.Year => Resolution.Year,
            _ => throw new ArgumentOutOfRangeException(nameof(bucket), "energy buckets are hour, day, month or year"),
        };
        var factor = options.Value.Energy.Co2KgPerKwh;
        var cover = _buckets.Cover(bucket, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var fromMs = cover.Count == 0 ? from.ToUnixTimeMilliseconds() : cover[0].Start;
        var toMs = cover.Count == 0 ? to.ToUnixTimeMilliseconds() : cover[^1].End;
        var meters = new List<MeterEnergy>();
        var exports = new Dictionary<long, double>();
        foreach (var m in site.Meters.Where(m => meter is null || m.Id == meter))
        {
            var energy = Index(queries.SeriesId(site.Site, m.Id, ReadingKinds.EnergyValues.EnergyWhTotal), resolution, fromMs, toMs);
            var power = Index(queries.SeriesId(site.Site, m.Id, ReadingKinds.EnergyValues.PowerW), resolution, fromMs, toMs);
            var export = Index(queries.SeriesId(site.Site, m.Id, ExportField), resolution, fromMs, toMs);
            var buckets = cover.Select(c =>
            {
                var e = energy.GetValueOrDefault(c.Start);
                var p = power.GetValueOrDefault(c.Start);
                return new MeterBucket(At(c.Start), At(c.End), _buckets.Label(bucket, c.Start), Math.Round(e?.Increase ?? 0, 3),
                    p is null ? null : Math.Round(p.Sum / p.Count, 2), p?.Max, e?.Resets ?? 0);
            }).ToList();
            if (m.Role == "grid")
            {
                foreach (var (start, row) in export)
                {
                    exports[start] = exports.GetValueOrDefault(start) + row.Increase;
                }
            }

            meters.Add(new MeterEnergy(m.Id, m.Role, m.Room, Math.Round(buckets.Sum(b => b.EnergyWh), 3),
                export.Count == 0 ? null : Math.Round(export.Values.Sum(r => r.Increase), 3), buckets));
        }

        var building = cover.Select((c, i) =>
        {
            double Role(string role) => meters.Where(m => m.Role == role).Sum(m => m.Buckets[i].EnergyWh);
            return Combine(At(c.Start), At(c.End), _buckets.Label(bucket, c.Start), Role("grid"), exports.GetValueOrDefault(c.Start), Role("solar"), Role("lab"), factor);
        }).ToList();
        var totals = Combine(At(fromMs), At(toMs), "total", building.Sum(b => b.GridImportWh), building.Sum(b => b.GridExportWh), building.Sum(b => b.SolarWh), building.Sum(b => b.LabWh), factor);
        return new EnergyReport(At(fromMs), At(toMs), bucket.Name(), site.TimeZone, factor, meters, building, totals);
    }

    private static EnergyBucket Combine(DateTimeOffset start, DateTimeOffset end, string label, double import, double export, double solar, double lab, double factor)
    {
        var self = Math.Max(0, solar - export);
        var consumption = import + self;
        return new EnergyBucket(start, end, label, Math.Round((end - start).TotalHours, 3), Math.Round(import, 3), Math.Round(export, 3), Math.Round(solar, 3),
            Math.Round(self, 3), Math.Round(consumption, 3), Math.Round(lab, 3), Math.Round(import / 1000 * factor, 3), Math.Round(solar / 1000 * factor, 3));
    }

    private Dictionary<long, RollupRow> Index(long? seriesId, Resolution resolution, long fromMs, long toMs) =>
        seriesId is { } id ? queries.Rollups(id, resolution, fromMs, toMs).ToDictionary(r => r.BucketMs) : [];

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
