using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Energy;

/// <summary>
/// One local day's power curve on the wall clock (slot i starts at i × step minutes after local
/// midnight): the grid meters' power, the solar meters' power and what the building used
/// (grid + solar − export), each the mean over the slot in W, null where nothing was measured;
/// and the day's energy from the meters' counters, with the sun's share of what was used.
/// </summary>
public sealed record DayPowerCurve(
    DateOnly Date,
    DateTimeOffset From,
    DateTimeOffset To,
    double Hours,
    IReadOnlyList<double?> GridW,
    IReadOnlyList<double?> SolarW,
    IReadOnlyList<double?> UseW,
    double UseWh,
    double SolarWh,
    double GridImportWh,
    double GridExportWh,
    double SelfConsumptionWh,
    double? SolarShare,
    double? SelfShare);

/// <summary>A day's power curve and the day before's, on the same wall-clock slots.</summary>
public sealed record PowerCurves(
    DateOnly Date,
    string TimeZone,
    int StepMinutes,
    DateTimeOffset Now,
    IReadOnlyList<string> Slots,
    DayPowerCurve Today,
    DayPowerCurve Yesterday);

/// <summary>
/// Today against yesterday for the kiosk, in one call. The curves are laid on the local wall
/// clock so that 14:00 today sits above 14:00 yesterday, also across a clock change: on the
/// 23-hour spring day the slots of 02:00–03:00 stay empty (that hour does not exist), on the
/// 25-hour autumn day both passes of 02:00–03:00 fall into the same slots (their mean power).
/// The day's energy and the sun's share come from <see cref="EnergyService"/> (the counters'
/// increase over the whole local day, 23, 24 or 25 hours), never from the curve's means.
/// Power is the mean of the meters' <c>power_w</c> per slot (minute buckets, which the store
/// computes from the raw points); a meter that reports no power is drawn from its counter's
/// increase instead.
/// </summary>
public sealed class PowerCurveService(SiteModel site, StoreQueries queries, EnergyService energy)
{
    /// <summary>Slot widths that divide both an hour and a day.</summary>
    public static readonly int[] Steps = [5, 10, 15, 20, 30, 60];

    /// <summary>
    /// How long a finished day's curve is reused: kiosks ask every minute, and yesterday changes
    /// only with late data (which then shows within this time).
    /// </summary>
    public static readonly TimeSpan FinishedDayReuse = TimeSpan.FromMinutes(5);

    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    private readonly Lock _gate = new();

    // One finished day (the last asked for), so the cache stays one entry however it is called.
    private (DateOnly Date, int Step, DateTimeOffset Until, DayPowerCurve Curve)? _finished;

    public TimeZoneInfo Zone => _buckets.Zone;

    /// <summary>The local date of <paramref name="now"/> in the site's time zone.</summary>
    public DateOnly LocalDate(DateTimeOffset now) => _buckets.LocalDay(now.ToUnixTimeMilliseconds());

    public PowerCurves Curves(DateOnly date, int stepMinutes, DateTimeOffset now)
    {
        if (!Steps.Contains(stepMinutes))
        {
            throw new ArgumentOutOfRangeException(nameof(stepMinutes), $"the step must be one of {string.Join(", ", Steps)} minutes");
        }

        var slots = Enumerable.Range(0, 1440 / stepMinutes).Select(i => TimeSpan.FromMinutes(i * stepMinutes).ToString(@"hh\:mm", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return new PowerCurves(date, site.TimeZone, stepMinutes, now, slots, Day(date, stepMinutes, now), FinishedDay(date.AddDays(-1), stepMinutes, now));
    }

    private DayPowerCurve FinishedDay(DateOnly date, int step, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_finished is { } f && f.Date == date && f.Step == step && now < f.Until && now >= f.Curve.To)
            {
                return f.Curve;
            }
        }

        var curve = Day(date, step, now);
        if (now >= curve.To)
        {
            lock (_gate)
            {
                _finished = (date, step, now + FinishedDayReuse, curve);
            }
        }

        return curve;
    }

    private DayPowerCurve Day(DateOnly date, int step, DateTimeOffset now)
    {
        var fromMs = _buckets.DayStart(date);
        var toMs = _buckets.DayStart(date.AddDays(1));
        // Only minutes that have begun: the current slot is the mean of what has been measured so far.
        var endMs = Math.Min(toMs, TimeBuckets.FloorTo(now.ToUnixTimeMilliseconds(), TimeBuckets.MinuteMs) + TimeBuckets.MinuteMs);
        var count = 1440 / step;
        var slotOfMinute = SlotsOfMinutes(fromMs, endMs, step);

        double?[] Role(string role)
        {
            var sum = new double?[count];
            foreach (var meter in site.Meters.Where(m => m.Role == role))
            {
                var curve = MeterPower(meter.Id, fromMs, endMs, slotOfMinute, count);
                for (var i = 0; i < count; i++)
                {
                    if (curve[i] is { } w)
                    {
                        sum[i] = (sum[i] ?? 0) + w;
                    }
                }
            }

            return sum;
        }

        var grid = Role("grid");
        var solar = Role("solar");
        var export = new double?[count];
        foreach (var meter in site.Meters.Where(m => m.Role == "grid"))
        {
            var curve = CounterPower(queries.SeriesId(site.Site, meter.Id, EnergyService.ExportField), fromMs, endMs, slotOfMinute, count);
            for (var i = 0; i < count; i++)
            {
                if (curve?[i] is { } w)
                {
                    export[i] = (export[i] ?? 0) + w;
                }
            }
        }

        // Use: what came from the grid plus what the roof made, less what went back out. A slot
        // without a grid figure has no use figure (solar alone would understate it).
        var use = new double?[count];
        for (var i = 0; i < count; i++)
        {
            if (grid[i] is { } g)
            {
                use[i] = Math.Max(0, g + (solar[i] ?? 0) - (export[i] ?? 0));
            }
        }

        var totals = energy.Report(DateTimeOffset.FromUnixTimeMilliseconds(fromMs), DateTimeOffset.FromUnixTimeMilliseconds(toMs), CalendarBucket.Day).Totals;
        double? Share(double part) => totals.ConsumptionWh > 0 ? Math.Round(part / totals.ConsumptionWh, 4) : null;
        return new DayPowerCurve(
            date,
            DateTimeOffset.FromUnixTimeMilliseconds(fromMs),
            DateTimeOffset.FromUnixTimeMilliseconds(toMs),
            Math.Round((toMs - fromMs) / 3_600_000.0, 3),
            Round(grid),
            Round(solar),
            Round(use),
            totals.ConsumptionWh,
            totals.SolarWh,
            totals.GridImportWh,
            totals.GridExportWh,
            totals.SelfConsumptionWh,
            Share(totals.SolarWh),
            Share(totals.SelfConsumptionWh));
    }

    /// <summary>For each UTC minute of [from, end), the wall-clock slot it falls in.</summary>
    private int[] SlotsOfMinutes(long fromMs, long endMs, int step)
    {
        var minutes = (int)Math.Max(0, (endMs - fromMs) / TimeBuckets.MinuteMs);
        var slots = new int[minutes];
        var midnight = _buckets.LocalDate(fromMs);
        for (var m = 0; m < minutes; m++)
        {
            var local = _buckets.LocalDate(fromMs + (m * TimeBuckets.MinuteMs));
            var minuteOfDay = (int)Math.Clamp((local - midnight).TotalMinutes, 0, 1439);
            slots[m] = minuteOfDay / step;
        }

        return slots;
    }

    private double?[] MeterPower(string meter, long fromMs, long endMs, int[] slotOfMinute, int count)
    {
        if (queries.SeriesId(site.Site, meter, ReadingKinds.EnergyValues.PowerW) is { } powerId)
        {
            var sum = new double[count];
            var n = new long[count];
            foreach (var row in Minutes(powerId, fromMs, endMs))
            {
                var slot = slotOfMinute[(row.BucketMs - fromMs) / TimeBuckets.MinuteMs];
                sum[slot] += row.Sum;
                n[slot] += row.Count;
            }

            return [.. Enumerable.Range(0, count).Select(i => n[i] > 0 ? sum[i] / n[i] : (double?)null)];
        }

        return CounterPower(queries.SeriesId(site.Site, meter, ReadingKinds.EnergyValues.EnergyWhTotal), fromMs, endMs, slotOfMinute, count) ?? new double?[count];
    }

    /// <summary>Mean power from a counter: the Wh it went up in the slot over the minutes of the slot that have begun.</summary>
    private double?[]? CounterPower(long? seriesId, long fromMs, long endMs, int[] slotOfMinute, int count)
    {
        if (seriesId is not { } id)
        {
            return null;
        }

        var wh = new double[count];
        var seen = new bool[count];
        foreach (var row in Minutes(id, fromMs, endMs))
        {
            var slot = slotOfMinute[(row.BucketMs - fromMs) / TimeBuckets.MinuteMs];
            wh[slot] += row.Increase;
            seen[slot] = true;
        }

        var minutes = new int[count];
        foreach (var slot in slotOfMinute)
        {
            minutes[slot]++;
        }

        return [.. Enumerable.Range(0, count).Select(i => seen[i] && minutes[i] > 0 ? wh[i] * 60 / minutes[i] : (double?)null)];
    }

    private IEnumerable<RollupRow> Minutes(long seriesId, long fromMs, long endMs) =>
        endMs <= fromMs ? [] : queries.Rollups(seriesId, Resolution.Minute, fromMs, endMs).Where(r => r.BucketMs >= fromMs && r.BucketMs < endMs);

    private static double?[] Round(double?[] values) => [.. values.Select(v => v is { } x ? Math.Round(x, 1) : (double?)null)];
}
