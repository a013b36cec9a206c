using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>One message on its way into the store.</summary>
public abstract record IngestItem(DateTimeOffset Received);

/// <summary>A valid readings batch from a device.</summary>
public sealed record ReadingsItem(TopicAddress Address, ReadingsBatch Batch, DateTimeOffset Received) : IngestItem(Received);

/// <summary>A valid status message (birth, heartbeat or last will).</summary>
public sealed record StatusItem(TopicAddress Address, StatusMessage Status, DateTimeOffset Received) : IngestItem(Received);

/// <summary>
/// A refused message, kept with the reason it was refused. <see cref="Payload"/> may be the first
/// <see cref="MaxStoredPayloadBytes"/> of a larger message; <see cref="PayloadLength"/> is the length that arrived.
/// </summary>
public sealed record DeadLetterItem(string Topic, string Rule, string Reason, byte[] Payload, DateTimeOffset Received) : IngestItem(Received)
{
    /// <summary>
    /// The most of a refused payload that is kept: enough to see what a device sent, while a flood
    /// of multi-megabyte junk cannot fill the disk at the rate it arrives.
    /// </summary>
    public const int MaxStoredPayloadBytes = 64 * 1024;

    /// <summary>The length of the message as it arrived (more than <see cref="Payload"/> holds when it was cut).</summary>
    public long PayloadLength { get; init; } = Payload.Length;
}

/// <summary>What the commit did with an item.</summary>
public enum CommitOutcome
{
    Stored,

    /// <summary>A batch whose (site, device, seq) was stored before: nothing was written again.</summary>
    Duplicate,

    /// <summary>A valid batch the store refused whole (a series cap): kept as a dead letter, nothing else written.</summary>
    Refused,
}
