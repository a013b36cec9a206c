using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>The collector's own MQTT subscription (<c>Collector:Ingest</c>).</summary>
public sealed class IngestOptions
{
    /// <summary>The collector's MQTT client id; its persistent session holds what arrives while it is away.</summary>
    [Required]
    public string ClientId { get; set; } = "ntp-collector";

    /// <summary>Unacknowledged messages the broker may send at once (MQTT 5 receive maximum).</summary>
    [Range(1, 65535)]
    public int ReceiveMaximum { get; set; } = 2048;

    /// <summary>Messages committed together in one transaction at most.</summary>
    [Range(1, 100_000)]
    public int MaxMessagesPerCommit { get; set; } = 512;

    /// <summary>How long the broker keeps the collector's session while it is away; above 0, at most MQTT's 4294967295 seconds.</summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(7);
}
