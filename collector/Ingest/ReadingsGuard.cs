using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// What a contract-valid batch must also pass before it may touch the building's figures: the
/// device writes only its own sensors, no reading is dated ahead of its arrival or inside a
/// closed year, and door and meter figures stay within physics. One broken rule refuses the whole
/// batch (dead-lettered, then acknowledged so the device does not send it for ever). Sensors the
/// site file does not name become plain series of the sending device (<c>{device}/{sensor}</c>):
/// the slash cannot occur in a slug, so they never share a series with a site sensor and never
/// feed occupancy, energy, visitors or the report.
/// </summary>
public sealed class ReadingsGuard
{
    /// <summary>Value name of an unnamed badge reader's plain series: one per scan (the pseudonym is not kept: it would feed nothing).</summary>
    public const string ScanField = "scans";

    /// <summary>The largest counter value taken (far beyond any door or meter, and an exact double).</summary>
    public const double MaxCounter = 1e15;

    private readonly Dictionary<string, Owned> _sensors = new(StringComparer.Ordinal);
    private readonly PlausibilityOptions _bounds;
    private readonly int _maxDoorGap;
    private readonly TimeZoneInfo _zone;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Sensor, string Field), (long Ts, double Value)> _lastTotals = [];

    public ReadingsGuard(SiteModel site, CollectorOptions options)
    {
        _bounds = options.Plausibility;
        _maxDoorGap = options.Occupancy.MaxDoorGap;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        foreach (var s in site.Sensors)
        {
            _sensors[s.Id] = new Owned(s.Device, Role.Sensor);
        }

        foreach (var m in site.Meters)
        {
            _sensors[m.Id] = new Owned(m.Device, Role.Meter);
        }

        foreach (var d in site.Doors)
        {
            _sensors[d.Id] = new Owned(d.Device, Role.Door);
        }
    }

    /// <summary>Rule names of the refusals, as dead letters and the <c>rejected</c> metric show them.</summary>
    public static class Rules
    {
        public const string ForeignSensor = "ForeignSensor";
        public const string AheadOfArrival = "AheadOfArrival";
        public const string ClosedPeriod = "ClosedPeriod";
        public const string ImplausibleDoor = "ImplausibleDoor";
        public const string ImplausibleMeter = "ImplausibleMeter";
        public const string SeriesLimit = "SeriesLimit";
        public const string SiteNotOwned = "SiteNotOwned";
    }

    /// <summary>The start of the earliest year still open at <paramref name="now"/> (UTC): readings of site sensors before it are refused.</summary>
    public DateTimeOffset OpenSince(DateTimeOffset now)
    {
        var year = TimeZoneInfo.ConvertTime(now - _bounds.YearClosesAfter, _zone).Year;
        var local = new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, _zone.GetUtcOffset(local));
    }

    /// <summary>The batch as it may be stored (unnamed sensors renamed to plain series), or the rule it broke and why.</summary>
    public (ReadingsItem? Item, string Rule, string Reason) Check(ReadingsItem item)
    {
        var device = item.Address.Device;
        var received = item.Received;
        var ahead = received + _bounds.MaxClockAhead;
        var openSince = OpenSince(received);
        List<Reading>? renamed = null;
        var pending = new Dictionary<(string, string), (long Ts, double Value)>();
        var readings = item.Batch.Readings;
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i];
            if (!_sensors.TryGetValue(reading.Sensor, out var owned))
            {
                // A plain series feeds no figure: the contract's own time window (5 minutes ahead) is its bound.
                renamed ??= [.. readings.Take(i)];
                renamed.Add(Plain(device, reading));
                continue;
            }

            if (owned.Device is { } owner && !string.Equals(owner, device, StringComparison.Ordinal))
            {
                return Refuse(Rules.ForeignSensor, $"reading {i}: the site file gives sensor '{reading.Sensor}' to device '{owner}', not to '{device}'");
            }

            if (reading.Ts > ahead)
            {
                return Refuse(Rules.AheadOfArrival,
                    $"reading {i} ({reading.Sensor}) is dated {reading.Ts:O}, more than {_bounds.MaxClockAhead} after it arrived ({received:O}); check the device's clock");
            }

            if (reading.Ts < openSince)
            {
                return Refuse(Rules.ClosedPeriod,
                    $"reading {i} ({reading.Sensor}) is dated {reading.Ts:O}, in a year whose report is closed (before {openSince:O}); kept here for staff review");
            }

            var problem = owned.Role switch
            {
                Role.Door => CheckDoor(reading, pending),
                Role.Meter => CheckMeter(reading, pending),
                _ => null,
            };
            if (problem is { } p)
            {
                return Refuse(owned.Role == Role.Door ? Rules.ImplausibleDoor : Rules.ImplausibleMeter, $"reading {i} ({reading.Sensor}): {p}");
            }

            renamed?.Add(reading);
        }

        // Counter baselines move only once the whole batch passed.
        Remember(pending);
        return (renamed is null ? item : item with { Batch = item.Batch with { Readings = renamed } }, string.Empty, string.Empty);
    }

    private static (ReadingsItem?, string, string) Refuse(string rule, string reason) => (null, rule, reason);

    /// <summary>A reading of a sensor the site file does not name: a plain series of the device, feeding nothing.</summary>
    private static Reading Plain(string device, Reading reading) => reading with
    {
        Sensor = $"{device}/{reading.Sensor}",
        Visitor = null,
        Values = reading.Values ?? (reading.Visitor is null ? null : new Dictionary<string, double> { [ScanField] = 1 }),
    };

    private string? CheckDoor(Reading reading, Dictionary<(string, string), (long Ts, double Value)> pending)
    {
        if (reading.Values is not { } v)
        {
            return null;
        }

        foreach (var field in (ReadOnlySpan<string>)[ReadingKinds.DoorValues.In, ReadingKinds.DoorValues.Out])
        {
            if (v.TryGetValue(field, out var crossings) && !(crossings >= 0 && crossings <= _bounds.MaxCrossingsPerReading))
            {
                return $"{field} = {crossings}; a door reading carries at most {_bounds.MaxCrossingsPerReading} crossings (Collector:Plausibility:MaxCrossingsPerReading)";
            }
        }

        foreach (var field in (ReadOnlySpan<string>)[ReadingKinds.DoorValues.InTotal, ReadingKinds.DoorValues.OutTotal])
        {
            if (v.TryGetValue(field, out var total) && JumpProblem(pending, reading, field, total, _bounds.MaxDoorCrossingsPerSecond, _maxDoorGap + _bounds.MaxCrossingsPerReading) is { } jump)
            {
                return $"{jump} (Collector:Plausibility:MaxDoorCrossingsPerSecond)";
            }
        }

        return null;
    }

    private string? CheckMeter(Reading reading, Dictionary<(string, string), (long Ts, double Value)> pending)
    {
        if (reading.Values is not { } v)
        {
            return null;
        }

        foreach (var (field, value) in v)
        {
            if (field.EndsWith("_w", StringComparison.Ordinal) && Math.Abs(value) > _bounds.MaxMeterPowerW)
            {
                return $"{field} = {value}; a meter carries at most {_bounds.MaxMeterPowerW} W (Collector:Plausibility:MaxMeterPowerW)";
            }

            // One second's worth of slack for rounding at the meter.
            if (field.EndsWith("_wh_total", StringComparison.Ordinal)
                && JumpProblem(pending, reading, field, value, _bounds.MaxMeterPowerW / 3600, _bounds.MaxMeterPowerW / 3600) is { } jump)
            {
                return $"{jump} (Collector:Plausibility:MaxMeterPowerW)";
            }
        }

        return null;
    }

    /// <summary>
    /// A counter may rise from its last accepted value (earlier in this batch, or in an earlier
    /// one) by at most <paramref name="perSecond"/> for each second between them, plus
    /// <paramref name="slack"/>; dated before that value, by no more than the slack. A drop is a
    /// reset (a new segment downstream), and the first value seen since start is taken as it is.
    /// </summary>
    private string? JumpProblem(Dictionary<(string, string), (long Ts, double Value)> pending, Reading reading, string field, double value, double perSecond, double slack)
    {
        if (!(value >= 0 && value <= MaxCounter))
        {
            return $"{field} = {value} is beyond any counter ({MaxCounter})";
        }

        var key = (reading.Sensor, field);
        var ts = reading.Ts.ToUnixTimeMilliseconds();
        (long Ts, double Value) last;
        bool known;
        lock (_gate)
        {
            known = pending.TryGetValue(key, out last) || _lastTotals.TryGetValue(key, out last);
        }

        if (!known || ts >= last.Ts)
        {
            pending[key] = (ts, value);
        }

        if (!known || value <= last.Value)
        {
            return null;
        }

        var seconds = Math.Max(0, (ts - last.Ts) / 1000.0);
        var allowed = slack + perSecond * seconds;
        return value - last.Value <= allowed ? null
            : $"{field} rose from {last.Value} to {value} in {seconds:0.###} s; at most {allowed:0.###} is plausible";
    }

    private void Remember(Dictionary<(string, string), (long Ts, double Value)> pending)
    {
        lock (_gate)
        {
            foreach (var (key, mark) in pending)
            {
                if (!_lastTotals.TryGetValue(key, out var last) || mark.Ts >= last.Ts)
                {
                    _lastTotals[key] = mark;
                }
            }
        }
    }

    private enum Role
    {
        Sensor,
        Door,
        Meter,
    }

    private readonly record struct Owned(string? Device, Role Role);
}
