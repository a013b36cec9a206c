using System.Text.Json.Serialization;

namespace NewTechPark.Edge.Collector.Notifications;

/// <summary>The events a webhook can get.</summary>
public static class NotificationEvents
{
    /// <summary>A room at or over its capacity.</summary>
    public const string RoomFull = "room-full";

    /// <summary>A device offline (last will, or silent) longer than <c>Collector:Notifications:OfflineAfter</c>.</summary>
    public const string DeviceOffline = "device-offline";

    /// <summary>A door counter reports both beams blocked (its sensor health in the device's status).</summary>
    public const string DoorStuck = "door-stuck";

    /// <summary>The data directory's disk is nearly full.</summary>
    public const string DiskLow = "disk-low";

    public static readonly IReadOnlyList<string> All = [RoomFull, DeviceOffline, DoorStuck, DiskLow];
}

/// <summary>
/// A condition that holds now: <paramref name="Event"/> for <paramref name="Subject"/> (a room,
/// device, door sensor or <c>store</c>) since <paramref name="Since"/> when known, with what to say.
/// </summary>
public sealed record Condition(
    string Event,
    string Subject,
    string Severity,
    DateTimeOffset? Since,
    string MessageNl,
    string MessageEn,
    string ResolvedNl,
    string ResolvedEn,
    IReadOnlyDictionary<string, double>? Values = null);

/// <summary>
/// The JSON body of a webhook POST (snake_case, stable: fields are only ever added).
/// <c>text</c> is what a Slack, Mattermost or Discord-compatible incoming webhook shows as the message.
/// </summary>
public sealed record Notification(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("site")] string Site,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("since")] DateTimeOffset? Since,
    [property: JsonPropertyName("ts")] DateTimeOffset Ts,
    [property: JsonPropertyName("message_nl")] string MessageNl,
    [property: JsonPropertyName("message_en")] string MessageEn,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("values")] IReadOnlyDictionary<string, double>? Values)
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Notification))]
internal sealed partial class NotificationJson : JsonSerializerContext
{
    /// <summary>
    /// A webhook body is not HTML: accents, emoji and the '+' of a time offset are written as
    /// they are (UTF-8) instead of \u escapes, so a receiver's log reads like the message.
    /// </summary>
    public static NotificationJson Body { get; } = new(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
