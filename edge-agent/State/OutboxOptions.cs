namespace NewTechPark.Edge.Agent.State;

/// <summary>Bounds of the agent's outbox (<c>Agent:Outbox</c>).</summary>
public sealed class OutboxOptions
{
    /// <summary>Batches older than this are dropped (oldest first) and counted; default 14 days.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Payload bytes the outbox may hold; beyond it the oldest batches are dropped and counted. Default 1 GiB.</summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>Acknowledged batches are removed from the file in groups of this many (one fsync per group).</summary>
    public int DeleteGroup { get; set; } = 64;
}
