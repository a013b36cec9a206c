using System.Text.Json.Serialization;
using NewTechPark.Edge.Contracts.Serialization;

namespace NewTechPark.Edge.Contracts.Payloads;

/// <summary>
/// Birth, heartbeat and last will, published retained on <c>ntp/v1/{site}/{device}/status</c>.
/// </summary>
public sealed record StatusMessage
{
    public const string Online = "online";
    public const string Offline = "offline";

    [JsonPropertyName("v"), JsonRequired]
    public int V { get; init; } = ReadingsBatch.CurrentVersion;

    /// <summary><see cref="Online"/> or <see cref="Offline"/>.</summary>
    [JsonPropertyName("state"), JsonRequired]
    public string State { get; init; } = Online;

    [JsonPropertyName("ts"), JsonConverter(typeof(NullableUtcTimestampConverter))]
    public DateTimeOffset? Ts { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    /// <summary>Identifies one run of the device software; changes at every start.</summary>
    [JsonPropertyName("boot")]
    public string? Boot { get; init; }

    [JsonPropertyName("uptime_s")]
    public long? UptimeS { get; init; }

    [JsonPropertyName("outbox")]
    public OutboxStatus? Outbox { get; init; }

    /// <summary>Health per sensor id: <c>ok</c> or <c>error: …</c>.</summary>
    [JsonPropertyName("sensors")]
    public Dictionary<string, string>? Sensors { get; init; }

    /// <summary>The retained last will: <c>{ "v": 1, "state": "offline" }</c>.</summary>
    public static StatusMessage LastWill { get; } = new() { State = Offline };
}

/// <summary>What waits in the device's outbox.</summary>
public sealed record OutboxStatus
{
    [JsonPropertyName("pending")]
    public long Pending { get; init; }

    /// <summary>Time of the oldest pending reading; null when the outbox is empty.</summary>
    [JsonPropertyName("oldest"), JsonIgnore(Condition = JsonIgnoreCondition.Never), JsonConverter(typeof(NullableUtcTimestampConverter))]
    public DateTimeOffset? Oldest { get; init; }

    /// <summary>Readings dropped because the outbox was full (oldest first).</summary>
    [JsonPropertyName("dropped")]
    public long? Dropped { get; init; }
}
