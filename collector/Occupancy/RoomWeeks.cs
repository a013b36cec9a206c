using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Occupancy;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>One local day of a room: hours with someone present, peak count, entries, and the share of opening hours in use (null on a closed day).</summary>
public sealed record RoomDayUse(DateOnly Date, double HoursInUse, long Peak, long Entries, double? Utilisation);

/// <summary>A room's week (Monday to Sunday, local), or a part of it: the days and their totals.</summary>
public sealed record RoomWeekUse(DateOnly From, DateOnly To, double HoursInUse, long Peak, long Entries, double? Utilisation, IReadOnlyList<RoomDayUse> Days);

/// <summary>
/// A room this week against last week. <c>last_week_to_date</c> is last week up to the same day of
/// the week as <c>this_week</c> has got to (the fair comparison while a week is under way);
/// <c>change_pct</c> is this week's hours in use against it, null when last week had none.
/// </summary>
public sealed record RoomWeekComparison(string Room, string NameNl, string NameEn, int Capacity, RoomWeekUse ThisWeek, RoomWeekUse LastWeek, RoomWeekUse LastWeekToDate, double? ChangePct);

/// <summary>Every room's week against the week before; <c>days_so_far</c> is how many days of this week have begun (7 for a past week).</summary>
public sealed record RoomWeeksView(DateOnly WeekStart, DateOnly LastWeekStart, int DaysSoFar, IReadOnlyList<RoomWeekComparison> Rooms);

/// <summary>
/// Week over week for the facility page: two weeks of the stored day sums (<c>room_days</c>, kept
/// up to date incrementally by <see cref="OccupancyHistory"/>), one indexed read of at most 14 rows
/// per room; nothing walks door readings.
/// </summary>
public sealed class RoomWeeks(SqliteStore store, SiteModel site, OccupancyHistory history, TimeProvider clock)
{
    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    private readonly OccupancyHistoryStore _db = new(store);

    /// <summary>The local date now.</summary>
    public DateOnly Today => _buckets.LocalDay(clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>The Monday on or before <paramref name="day"/>.</summary>
    public static DateOnly Monday(DateOnly day) => day.AddDays(-(((int)day.DayOfWeek + 6) % 7));

    /// <summary>The week holding <paramref name="day"/> against the week before, for every room or one.</summary>
    public RoomWeeksView Compare(DateOnly day, string? room)
    {
        var monday = Monday(day);
        var lastMonday = monday.AddDays(-7);
        var today = Today;
        var daysSoFar = today < monday ? 0 : Math.Min(7, today.DayNumber - monday.DayNumber + 1);
        history.Refresh();
        var rows = _db.Days(site.Site, room, _buckets.DayStart(lastMonday), _buckets.DayStart(monday.AddDays(7)))
            .ToLookup(r => r.Room, StringComparer.Ordinal);
        var rooms = site.Rooms.Where(r => room is null || r.Id == room).Select(r =>
        {
            var byDay = rows[r.Id].ToDictionary(row => _buckets.LocalDay(row.Hour));
            var thisWeek = Week(monday, 7, byDay);
            var lastWeek = Week(lastMonday, 7, byDay);
            var toDate = Week(lastMonday, Math.Max(daysSoFar, 1), byDay);
            double? change = toDate.HoursInUse > 0 ? Math.Round(100 * (thisWeek.HoursInUse - toDate.HoursInUse) / toDate.HoursInUse, 1) : null;
            return new RoomWeekComparison(r.Id, r.Name.Nl, r.Name.En, r.Capacity, thisWeek, lastWeek, toDate, change);
        }).ToList();
        return new RoomWeeksView(monday, lastMonday, daysSoFar, rooms);
    }

    private static RoomWeekUse Week(DateOnly from, int days, Dictionary<DateOnly, RoomHourRow> byDay)
    {
        var list = new List<RoomDayUse>(days);
        long open = 0, occupiedOpen = 0, occupied = 0;
        for (var i = 0; i < days; i++)
        {
            var date = from.AddDays(i);
            if (byDay.TryGetValue(date, out var row))
            {
                open += row.OpenMs;
                occupied += row.OccupiedMs;
                occupiedOpen += row.OccupiedOpenMs;
                list.Add(new RoomDayUse(date, Hours(row.OccupiedMs), row.MaxCount, row.Entries, row.OpenMs == 0 ? null : Math.Round((double)row.OccupiedOpenMs / row.OpenMs, 4)));
            }
            else
            {
                list.Add(new RoomDayUse(date, 0, 0, 0, null));
            }
        }

        return new RoomWeekUse(from, from.AddDays(days - 1), Hours(occupied), list.Max(d => d.Peak), list.Sum(d => d.Entries),
            open == 0 ? null : Math.Round((double)occupiedOpen / open, 4), list);
    }

    private static double Hours(long ms) => Math.Round(ms / 3_600_000.0, 2);
}
