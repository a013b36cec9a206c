namespace NewTechPark.Edge.Simulation.Scenario;

/// <summary>Who comes: the groups of ANNUAL-FIGURES.md.</summary>
public enum GroupKind
{
    /// <summary>A primary or VMBO class of 25-30 pupils for Technodiscovery.</summary>
    SchoolClass,

    /// <summary>A weekly MBO group, with student badges, in the labs (DC-Lab among them).</summary>
    MboGroup,

    /// <summary>Visitors of an event day: hundreds, in the event space and the hall.</summary>
    EventVisitors,

    /// <summary>Professionals, companies, walk-ins: a few at a time.</summary>
    WalkIn,

    /// <summary>A primary or VMBO class at the technology festival (Techniekfestival), in the event space.</summary>
    FestivalClass,
}

/// <summary>A group that visits: when it arrives and leaves (local time), how many, where.</summary>
public sealed record VisitGroup(GroupKind Kind, int Size, string Room, DateTimeOffset Arrive, DateTimeOffset Leave, bool Badges);

/// <summary>One day at the centre.</summary>
public sealed record DayPlan(DateOnly Date, bool Open, DateTimeOffset Opens, DateTimeOffset Closes, bool EventDay, IReadOnlyList<VisitGroup> Groups)
{
    public int Visitors => Groups.Sum(g => g.Size);
}

/// <summary>
/// The year at NewTechPark, deterministic for a seed: opening hours (weekdays 08:30-17:00, event
/// Saturdays), school classes for Technodiscovery on most school days (about 4,000 pupils a year),
/// MBO groups on fixed weekdays (about 100 students a week), about 50 event days with 120-450
/// visitors each, the technology festival's three weeks (Techniekfestival: 10-13 classes a
/// weekday in the event space), and walk-ins. The magnitudes follow the centre's annual report.
/// </summary>
public sealed class SiteCalendar(int seed, TimeZoneInfo? timeZone = null)
{
    public static readonly string[] Labs = ["dc-lab", "e-novation-hub", "smart-building", "mobiliteit", "3d-printlab", "it-solutions", "smart-technology", "medical-technology"];

    public TimeZoneInfo TimeZone { get; } = timeZone ?? FindAmsterdam();

    public DayPlan Plan(DateOnly date)
    {
        var random = new Random(Mix(seed, date.DayNumber));
        var weekday = date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
        var holiday = IsSchoolHoliday(date);
        // About 60 events a year: a quarter of the weekdays outside the summer, and some Saturdays.
        var eventDay = (weekday && !holiday && random.NextDouble() < 0.2) || (date.DayOfWeek == DayOfWeek.Saturday && random.NextDouble() < 0.15);
        var festival = weekday && IsFestivalWeek(date);
        eventDay |= festival;
        var open = weekday || eventDay;
        var opens = Local(date, new TimeOnly(8, 30));
        var closes = Local(date, eventDay && !weekday ? new TimeOnly(16, 0) : new TimeOnly(17, 0));
        var groups = new List<VisitGroup>();
        if (!open)
        {
            return new DayPlan(date, false, opens, closes, false, groups);
        }

        if (weekday && !holiday)
        {
            // Technodiscovery: three quarters of school days one class, sometimes two.
            var classes = random.NextDouble() < 0.75 ? (random.NextDouble() < 0.12 ? 2 : 1) : 0;
            for (var i = 0; i < classes; i++)
            {
                var arrive = opens.AddMinutes(30 + (i * 180) + random.Next(30));
                groups.Add(new VisitGroup(GroupKind.SchoolClass, random.Next(25, 31), "technodiscovery", arrive, arrive.AddMinutes(150), Badges: false));
            }

            // MBO: four groups a week (Monday-Thursday), about 25 students each, with badges.
            if (date.DayOfWeek is >= DayOfWeek.Monday and <= DayOfWeek.Thursday)
            {
                var arrive = opens.AddMinutes(15 + random.Next(30));
                groups.Add(new VisitGroup(GroupKind.MboGroup, random.Next(20, 31), Labs[((int)date.DayOfWeek - 1) % 4 == 0 ? 0 : random.Next(Labs.Length)], arrive, arrive.AddHours(6), Badges: true));
            }
        }

        // On a festival day the festival is the day's event.
        if (eventDay && !festival)
        {
            var size = random.Next(120, 451);
            var arrive = opens.AddHours(1 + random.Next(3));
            groups.Add(new VisitGroup(GroupKind.EventVisitors, size, "technodiscovery-2", arrive, arrive.AddHours(3), Badges: true));
        }

        if (festival)
        {
            // The festival's own draw, so the rest of the day is the same as without it.
            // About 320 pupils a day in waves of three classes, 100 minutes each.
            var fair = new Random(Mix(seed, date.DayNumber, 13));
            var classes = fair.Next(10, 14);
            for (var i = 0; i < classes; i++)
            {
                var arrive = opens.AddMinutes(30 + (i / 3 * 110) + (i % 3 * 10) + fair.Next(5));
                groups.Add(new VisitGroup(GroupKind.FestivalClass, fair.Next(25, 31), "technodiscovery-2", arrive, arrive.AddMinutes(100), Badges: false));
            }
        }

        // Walk-ins: professionals, companies, career changers.
        var walkIns = random.Next(weekday ? 4 : 1, weekday ? 16 : 6);
        for (var i = 0; i < walkIns; i++)
        {
            var arrive = opens.AddMinutes(random.Next((int)(closes - opens).TotalMinutes - 60));
            groups.Add(new VisitGroup(GroupKind.WalkIn, random.Next(1, 4), Labs[random.Next(Labs.Length)], arrive, arrive.AddMinutes(30 + random.Next(150)), Badges: true));
        }

        groups.Sort((a, b) => a.Arrive.CompareTo(b.Arrive));
        return new DayPlan(date, true, opens, closes, eventDay, groups);
    }

    /// <summary>A seed for one day that is the same in every process (HashCode.Combine is randomised per process).</summary>
    public static int Mix(int seed, int value, int salt = 0) => unchecked((seed * 1_000_003) ^ (value * 7_919) ^ (salt * 104_729));

    /// <summary>
    /// The technology festival's three weeks: ISO weeks 40-42 (October, around the national
    /// "Week van de Techniek", before the autumn holiday), Monday to Friday; about 3,500 PO and
    /// VMBO and 1,300 VO pupils (ANNUAL-FIGURES.md).
    /// </summary>
    public static bool IsFestivalWeek(DateOnly date) =>
        System.Globalization.ISOWeek.GetWeekOfYear(date.ToDateTime(TimeOnly.MinValue)) is >= 40 and <= 42;

    /// <summary>Dutch school holidays (region midden), roughly: summer, autumn, Christmas, spring, May.</summary>
    public static bool IsSchoolHoliday(DateOnly date) =>
        (date.Month == 7 && date.Day >= 20) || (date.Month == 8) || (date.Month == 9 && date.Day < 2)
        || (date.Month == 10 && date.Day >= 19 && date.Day <= 27) || (date.Month == 12 && date.Day >= 21) || (date.Month == 1 && date.Day <= 4)
        || (date.Month == 2 && date.Day >= 15 && date.Day <= 23) || (date.Month == 4 && date.Day >= 26) || (date.Month == 5 && date.Day <= 4);

    private DateTimeOffset Local(DateOnly date, TimeOnly time)
    {
        var local = date.ToDateTime(time);
        return new DateTimeOffset(local, TimeZone.GetUtcOffset(local));
    }

    private static TimeZoneInfo FindAmsterdam()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");
        }
        catch (TimeZoneNotFoundException)
        {
            return TimeZoneInfo.Utc;
        }
    }
}
