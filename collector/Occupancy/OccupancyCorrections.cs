using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Occupancy;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>A staff correction as the audit trail keeps it.</summary>
public sealed record OccupancyCorrection(long Id, string Room, DateTimeOffset Ts, long Previous, long Count, string Reason, string Actor);

/// <summary>
/// Staff corrections of a room's count: applied to live occupancy at once, stored with who, when,
/// the count replaced and the reason (the audit trail), and replayed after a restart and when the
/// room history is rebuilt.
/// </summary>
public sealed class OccupancyCorrections(SqliteStore store, OccupancyEngine occupancy, TimeProvider clock)
{
    private readonly OccupancyStore _db = new(store);

    /// <summary>Applies and records a correction; null when the room is unknown.</summary>
    public OccupancyCorrection? Correct(string room, long count, string reason, string actor)
    {
        var at = clock.GetUtcNow();
        if (occupancy.Correct(room, count, at) is not { } previous)
        {
            return null;
        }

        var id = _db.AddCorrection(occupancy.Site.Site, room, at.ToUnixTimeMilliseconds(), previous, count, reason, actor);
        return new OccupancyCorrection(id, room, at, previous, count, reason, actor);
    }

    /// <summary>The audit trail in [from, to), oldest first.</summary>
    public IReadOnlyList<OccupancyCorrection> List(DateTimeOffset from, DateTimeOffset to, string? room = null)
    {
        return _db.CorrectionTrail(occupancy.Site.Site, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(), room)
            .Select(c => new OccupancyCorrection(c.Id, c.Room, DateTimeOffset.FromUnixTimeMilliseconds(c.TsMs), c.Previous, c.Count, c.Reason, c.Actor))
            .ToList();
    }
}
