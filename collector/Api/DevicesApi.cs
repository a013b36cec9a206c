using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>
/// A device as <c>/api/v1/devices</c> shows it. <c>outbox_*</c> is what the device last reported
/// (readings waiting, the oldest of them, readings it dropped because its outbox was full);
/// <c>first_seq</c>..<c>last_seq</c> is the range of batches received, <c>missing_batches</c> the
/// sequence numbers in that range never received (in <c>gap_count</c> ranges, the newest
/// <see cref="DeliveryLedger.MaxListedGaps"/> listed in <c>gaps</c>). A late batch fills its gap.
/// </summary>
public sealed record DeviceView(
    string Device,
    string State,
    DateTimeOffset? LastSeen,
    string? Version,
    long? OutboxPending,
    IReadOnlyDictionary<string, string>? Sensors,
    ulong? LastSeq,
    long Batches,
    bool InSiteFile,
    DateTimeOffset? OutboxOldest = null,
    long? OutboxDropped = null,
    ulong? FirstSeq = null,
    long Readings = 0,
    ulong MissingBatches = 0,
    long GapCount = 0,
    IReadOnlyList<SeqGap>? Gaps = null);

public static class DevicesApi
{
    /// <summary>Silence after which a device that never said goodbye counts as offline (two missed heartbeats and some).</summary>
    public static readonly TimeSpan OfflineAfter = TimeSpan.FromSeconds(150);

    /// <summary><c>GET /api/v1/devices</c></summary>
    public static RouteGroupBuilder MapDevicesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/devices", (SiteModel site, StoreQueries queries, TimeProvider clock) =>
                TypedResults.Ok(List(site, queries, clock.GetUtcNow(), queries.Deliveries())))
            .WithName("GetDevices").WithSummary("Each device: state, last seen, version, outbox backlog and drops, sensor health, and gaps in its sequence numbers.");
        return api;
    }

    public static IReadOnlyList<DeviceView> List(SiteModel site, StoreQueries queries, DateTimeOffset now, IReadOnlyList<DeviceDelivery>? deliveries = null)
    {
        var delivery = (deliveries ?? []).Where(d => d.Site == site.Site).ToDictionary(d => d.Device, StringComparer.Ordinal);
        var known = site.Devices.ToHashSet(StringComparer.Ordinal);
        var seen = queries.Devices().Where(d => d.Site == site.Site).ToDictionary(d => d.Device, StringComparer.Ordinal);
        return known.Union(seen.Keys).Order(StringComparer.Ordinal).Select(device =>
        {
            if (!seen.TryGetValue(device, out var row))
            {
                return new DeviceView(device, "never-seen", null, null, null, null, null, 0, true);
            }

            var state = row.State == "online" && now - row.LastSeen > OfflineAfter ? "offline" : row.State;
            var view = new DeviceView(device, state, row.LastSeen, row.Version, row.OutboxPending, row.Sensors, row.LastSeq, row.Batches, known.Contains(device));
            return delivery.TryGetValue(device, out var d)
                ? view with
                {
                    OutboxOldest = d.OutboxOldest,
                    OutboxDropped = d.OutboxDropped,
                    FirstSeq = d.FirstSeq,
                    Readings = d.Readings,
                    MissingBatches = d.MissingBatches,
                    GapCount = d.GapCount,
                    Gaps = d.Gaps,
                }
                : view;
        }).ToList();
    }
}
