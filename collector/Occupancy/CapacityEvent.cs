using NewTechPark.Edge.Collector.Live;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// A room crossed a capacity threshold (stream event <c>capacity</c>): <c>warning</c> at 90 % of
/// its capacity, <c>full</c> at 100 %, <c>ok</c> when it falls back below 90 %. Sent on a change of
/// level only.
/// </summary>
public sealed record CapacityEvent(string Room, string Level, long Count, int Capacity, DateTimeOffset Ts) : LiveEvent
{
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Full = "full";

    public override string Type => "capacity";
}
