using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>A device as <c>/api/v1/devices</c> shows it.</summary>
public sealed record DeviceView(
    string Device,
    string State,
    DateTimeOffset? LastSeen,
    string? Version,
    long? OutboxPending,
    IReadOnlyDictionary<string, string>? Sensors,
    ulong? LastSeq,
    long Batches,
    bool InSiteFile);

public static class DevicesApi
{
    /// <summary>Silence after which a device that never said goodbye counts as offline (two missed heartbeats and some).</summary>
    public static readonly TimeSpan OfflineAfter = TimeSpan.FromSeconds(150);

    /// <summary><c>GET /api/v1/devices</c></summary>
    public static RouteGroupBuilder MapDevicesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/devices", (SiteModel site, StoreQueries queries, TimeProvider clock) => TypedResults.Ok(List(site, queries, clock.GetUtcNow())))
            .WithName("GetDevices").WithSummary("Each device: state, last seen, version, outbox backlog, sensor health.");
        return api;
    }

    public static IReadOnlyList<DeviceView> List(SiteModel site, StoreQueries queries, DateTimeOffset now)
    {
        var known = site.Devices.ToHashSet(StringComparer.Ordinal);
        var seen = queries.Devices().Where(d => d.Site == site.Site).ToDictionary(d => d.Device, StringComparer.Ordinal);
        return known.Union(seen.Keys).Order(StringComparer.Ordinal).Select(device =>
        {
            if (!seen.TryGetValue(device, out var row))
            {
                return new DeviceView(device, "never-seen", null, null, null, null, null, 0, true);
            }

            var state = row.State == "online" && now - row.LastSeen > OfflineAfter ? "offline" : row.State;
            return new DeviceView(device, state, row.LastSeen, row.Version, row.OutboxPending, row.Sensors, row.LastSeq, row.Batches, known.Contains(device));
        }).ToList();
    }
}
