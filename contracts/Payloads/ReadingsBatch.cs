using System.Text.Json.Serialization;
using NewTechPark.Edge.Contracts.Serialization;

namespace NewTechPark.Edge.Contracts.Payloads;

/// <summary>A batch of readings published on <c>ntp/v1/{site}/{device}/readings</c>.</summary>
public sealed record ReadingsBatch
{
    public const int CurrentVersion = 1;

    /// <summary>Contract version; always 1 on <c>ntp/v1</c>.</summary>
    [JsonPropertyName("v"), JsonRequired]
    public int V { get; init; } = CurrentVersion;

    /// <summary>Per-device sequence number, strictly increasing for the device's whole life.</summary>
    [JsonPropertyName("seq"), JsonRequired]
    public ulong Seq { get; init; }

    /// <summary>When the device sent the batch (UTC).</summary>
    [JsonPropertyName("sent"), JsonRequired, JsonConverter(typeof(UtcTimestampConverter))]
    public DateTimeOffset Sent { get; init; }

    [JsonPropertyName("readings"), JsonRequired]
    public IReadOnlyList<Reading> Readings { get; init; } = [];
}

/// <summary>One reading: what one sensor measured at one moment.</summary>
public sealed record Reading
{
    /// <summary>When the reading was made (UTC), not when it was sent.</summary>
    [JsonPropertyName("ts"), JsonRequired, JsonConverter(typeof(UtcTimestampConverter))]
    public DateTimeOffset Ts { get; init; }

    [JsonPropertyName("sensor"), JsonRequired]
    public string Sensor { get; init; } = string.Empty;

    /// <summary>One of <see cref="ReadingKinds"/>, or any other slug, stored as a plain series.</summary>
    [JsonPropertyName("kind"), JsonRequired]
    public string Kind { get; init; } = string.Empty;

    /// <summary>Named numbers whose names end in their unit (<c>power_w</c>); finite only.</summary>
    [JsonPropertyName("values"), JsonConverter(typeof(ReadingValuesConverter))]
    public Dictionary<string, double>? Values { get; init; }

    /// <summary>For <c>badge</c> readings: base64url HMAC-SHA256(site key, card UID), 22 characters.</summary>
    [JsonPropertyName("visitor")]
    public string? Visitor { get; init; }
}

/// <summary>Reading kinds the collector interprets beyond storing them.</summary>
public static class ReadingKinds
{
    public const string Door = "door";
    public const string Energy = "energy";
    public const string Dc = "dc";
    public const string Climate = "climate";
    public const string Badge = "badge";

    /// <summary>Value names of a door reading.</summary>
    public static class DoorValues
    {
        public const string In = "in";
        public const string Out = "out";
        public const string InTotal = "in_total";
        public const string OutTotal = "out_total";
    }

    /// <summary>Value names of an energy reading.</summary>
    public static class EnergyValues
    {
        public const string PowerW = "power_w";
        public const string EnergyWhTotal = "energy_wh_total";
    }

    /// <summary>Value names of a DC reading.</summary>
    public static class DcValues
    {
        public const string VoltageV = "voltage_v";
        public const string CurrentA = "current_a";
        public const string PowerW = "power_w";
    }

    public static class BadgeValues
    {
        /// <summary>
        /// An anonymous scan: a card or phone with a random UID, which identifies no visitor. Its
        /// badge reading has no <c>visitor</c> and counts such scans of the reader cumulatively.
        /// </summary>
        public const string AnonymousScansTotal = "anonymous_scans_total";
    }
}
