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

    /// <summary>
    /// Messages handed to the ingest and not yet committed, at most: a few seconds of a busy site.
    /// QoS 0 messages may fill half of it (past that they are dropped and counted); QoS 1
    /// publishers wait for room, so the other half is kept for what a device will send again.
    /// </summary>
    [Range(100, 10_000_000)]
    public int MaxQueuedMessages { get; set; } = 10_000;

    /// <summary>Payload bytes of the messages waiting to be committed, at most (parsed, they take a few times as much memory); half for QoS 0, as above.</summary>
    // Doubles in the attribute: 2^34 (16 GiB) survives the settings test's decimal conversion exactly.
    [Range(1 << 20, 17_179_869_184d)]
    public long MaxQueuedBytes { get; set; } = 32L << 20;
}
