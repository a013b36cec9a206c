using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Occupancy;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// Rebuilds live occupancy at start from the door readings stored since the last daily reset and
/// the staff corrections made since then, in time order, so a restarted collector (even after
/// kill -9) shows the same counts as before. Each door's totals are seeded from its last reading
/// before the reset, so gaps are closed the same way as live.
/// </summary>
public sealed class OccupancyReplay(SqliteStore store, OccupancyEngine occupancy, ILogger logger)
{
    public void Run()
    {
        var db = new OccupancyStore(store);
        var since = occupancy.LastReset.ToUnixTimeMilliseconds();
        foreach (var (door, ts, inTotal, outTotal) in db.LastTotalsBefore(since, occupancy.Site.Site))
        {
            occupancy.SeedTotals(door, DateTimeOffset.FromUnixTimeMilliseconds(ts), inTotal, outTotal);
        }

        var corrections = new Queue<(long Ts, string Room, long Count)>(db.Corrections(occupancy.Site.Site, since));
        var crossings = 0L;
        foreach (var r in db.DoorReadings(since, long.MaxValue, occupancy.Site.Site))
        {
            while (corrections.TryPeek(out var c) && c.Ts <= r.Ts)
            {
                occupancy.Correct(corrections.Dequeue().Room, c.Count, DateTimeOffset.FromUnixTimeMilliseconds(c.Ts), publish: false);
            }

            // One row per door reading: its in and out are applied together, as the live ingest
            // does, so a count that touches zero comes out the same after a restart.
            occupancy.Apply(r.Door, r.In, r.Out, r.InTotal, r.OutTotal, DateTimeOffset.FromUnixTimeMilliseconds(r.Ts), publish: false);
            crossings += r.In + r.Out;
        }

        while (corrections.TryDequeue(out var c))
        {
            occupancy.Correct(c.Room, c.Count, DateTimeOffset.FromUnixTimeMilliseconds(c.Ts), publish: false);
        }

        logger.LogInformation("Occupancy rebuilt from {Crossings} crossing(s) since {Reset:u}", crossings, occupancy.LastReset);
    }
}
