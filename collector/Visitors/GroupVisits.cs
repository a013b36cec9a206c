using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Storage.Visitors;

namespace NewTechPark.Edge.Collector.Visitors;

/// <summary>A group visit as registered by staff: a school class has no badges.</summary>
public sealed record GroupVisit(long Id, DateOnly Date, string Programme, string TargetGroup, int HeadCount, string? Room, bool Event, string? Note, DateTimeOffset Created);

/// <summary>The body of <c>POST /api/v1/visitors/groups</c>.</summary>
public sealed record GroupVisitRequest(DateOnly? Date, string? Programme, string? TargetGroup, int? HeadCount, string? Room, bool? Event, string? Note);

/// <summary>Registered group visits: date, programme, target group and head count.</summary>
public sealed class GroupVisits(SqliteStore store, SiteModel site, TimeProvider clock)
{
    /// <summary>Target groups of the annual report; matched without regard to case.</summary>
    public static readonly string[] TargetGroups = ["PO", "VO", "MBO", "HBO/WO", "vakmensen", "zij-instromers", "bedrijven"];

    /// <summary>Programmes the annual report counts separately; any other name is kept as given.</summary>
    public static readonly string[] KnownProgrammes = ["Technodiscovery", "Techniek Tastbaar", "Techniekfestival"];

    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    private readonly GroupVisitsStore _db = new(store);

    /// <summary>Every problem with a registration, in words; empty when it can be stored.</summary>
    public List<string> Check(GroupVisitRequest request)
    {
        var problems = new List<string>();
        if (request.Date is not { } date)
        {
            problems.Add("date is missing (yyyy-mm-dd, local)");
        }
        else if (date.Year is < 2000 or > 2100)
        {
            problems.Add($"date {date:yyyy-MM-dd} is not a plausible visit date");
        }

        if (string.IsNullOrWhiteSpace(request.Programme) || request.Programme.Trim().Length > 80)
        {
            problems.Add($"programme is missing or longer than 80 characters (such as {string.Join(", ", KnownProgrammes)})");
        }

        if (Canonical(request.TargetGroup) is null)
        {
            problems.Add($"target_group '{request.TargetGroup}' is not one of {string.Join(", ", TargetGroups)}");
        }

        if (request.HeadCount is not (> 0 and <= 100_000))
        {
            problems.Add("head_count must be between 1 and 100000");
        }

        if (request.Room is not null && site.Rooms.All(r => r.Id != request.Room))
        {
            problems.Add($"room '{request.Room}' is not a room of the site");
        }

        if (request.Note is { Length: > 500 })
        {
            problems.Add("note is longer than 500 characters");
        }

        return problems;
    }

    public GroupVisit Register(GroupVisitRequest request)
    {
        var date = request.Date!.Value;
        var programme = KnownProgrammes.FirstOrDefault(p => string.Equals(p, request.Programme!.Trim(), StringComparison.OrdinalIgnoreCase)) ?? request.Programme!.Trim();
        var created = clock.GetUtcNow();
        var id = _db.Add(site.Site, date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), _buckets.DayStart(date), programme,
            Canonical(request.TargetGroup)!, request.HeadCount!.Value, request.Room, request.Event == true, request.Note, created.ToUnixTimeMilliseconds());
        return new GroupVisit(id, date, programme, Canonical(request.TargetGroup)!, request.HeadCount.Value, request.Room, request.Event == true, request.Note, created);
    }

    public bool Delete(long id) => _db.Delete(site.Site, id);

    /// <summary>Group visits on the local days that start in [from, to).</summary>
    public IReadOnlyList<GroupVisit> List(long fromMs, long toMs) =>
        _db.List(site.Site, fromMs, toMs).Select(v => new GroupVisit(v.Id, DateOnly.ParseExact(v.Date, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            v.Programme, v.TargetGroup, v.HeadCount, v.Room, v.Event, v.Note, DateTimeOffset.FromUnixTimeMilliseconds(v.CreatedMs))).ToList();

    public long DayStart(DateOnly date) => _buckets.DayStart(date);

    private static string? Canonical(string? group) =>
        group is null ? null : TargetGroups.FirstOrDefault(g => string.Equals(g, group.Trim(), StringComparison.OrdinalIgnoreCase));
}
