using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Agent.Publishing;

/// <summary>
/// Drains the reading queue into contract batches (up to 1,000 readings, 256 KiB, or the linger
/// time), gives each a durable sequence number and publishes it with QoS 1, in order, waiting for
/// the broker's PUBACK before the next. While the broker is away, batches wait here in order.
/// </summary>
public sealed class BatchPublisher(
    IOptions<AgentOptions> options,
    ReadingQueue queue,
    AgentStateStore state,
    MqttConnection connection,
    TimeProvider clock,
    ILogger<BatchPublisher> logger) : BackgroundService
{
    private readonly AgentOptions _options = options.Value;
    private readonly Queue<PendingBatch> _pending = new();
    private long _published;
    private long _pendingReadings;

    /// <summary>Batches acknowledged by the broker since start.</summary>
    public long PublishedBatches => Interlocked.Read(ref _published);

    /// <summary>Readings waiting to be acknowledged (in batches and in the queue).</summary>
    public long PendingReadings => Interlocked.Read(ref _pendingReadings) + queue.Count;

    /// <summary>Time of the oldest reading not yet acknowledged.</summary>
    public DateTimeOffset? OldestPending { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var topic = ContractTopics.Readings(_options.Site, _options.Device);
        var buffer = new List<Reading>(_options.Publishing.MaxReadingsPerBatch);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await CollectAsync(buffer, stoppingToken).ConfigureAwait(false);
                foreach (var batch in Seal(buffer))
                {
                    _pending.Enqueue(batch);
                    Interlocked.Add(ref _pendingReadings, batch.Readings);
                    OldestPending ??= batch.Oldest;
                }

                buffer.Clear();
                await PublishPendingAsync(topic, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits for a first reading, then gathers more until the batch is full or the linger time is over.</summary>
    private async Task CollectAsync(List<Reading> buffer, CancellationToken cancellationToken)
    {
        var reader = queue.Reader;
        buffer.Add(await reader.ReadAsync(cancellationToken).ConfigureAwait(false));
        var deadline = clock.GetTimestamp();
        var max = _options.Publishing.MaxReadingsPerBatch;
        while (buffer.Count < max)
        {
            while (buffer.Count < max && reader.TryRead(out var more))
            {
                buffer.Add(more);
            }

            var left = _options.Publishing.BatchLinger - clock.GetElapsedTime(deadline);
            if (buffer.Count >= max || left <= TimeSpan.Zero)
            {
                return;
            }

            using var linger = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            linger.CancelAfter(left);
            try
            {
                if (!await reader.WaitToReadAsync(linger.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Turns readings into serialized batches, each with the next durable sequence number; splits
    /// a batch that would break the 256 KiB limit.
    /// </summary>
    private IEnumerable<PendingBatch> Seal(List<Reading> readings)
    {
        var parts = new Stack<Reading[]>();
        parts.Push([.. readings]);
        while (parts.Count > 0)
        {
            var part = parts.Pop();
            var seq = state.NextSequence();
            var batch = new ReadingsBatch { Seq = seq, Sent = clock.GetUtcNow(), Readings = part };
            var payload = JsonSerializer.SerializeToUtf8Bytes(batch, ContractJsonContext.Default.ReadingsBatch);
            if (payload.Length > ContractLimits.MaxMessageBytes && part.Length > 1)
            {
                // Too big: split in two, the first half goes first (a stack: push the second half first).
                // The number just taken stays unused, which the collector sees as a harmless gap.
                parts.Push(part[(part.Length / 2)..]);
                parts.Push(part[..(part.Length / 2)]);
                continue;
            }

            yield return new PendingBatch(seq, payload, part.Length, part.Min(r => r.Ts));
        }
    }

    private async Task PublishPendingAsync(string topic, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (_pending.TryPeek(out var batch))
        {
            await connection.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
            bool acknowledged;
            try
            {
                acknowledged = await connection.PublishAsync(topic, batch.Payload, retain: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug("Publishing batch {Seq} failed: {Problem}; it stays pending", batch.Seq, e.Message);
                acknowledged = false;
            }

            if (!acknowledged)
            {
                await Task.Delay(delay, clock, cancellationToken).ConfigureAwait(false);
                delay = delay * 2 > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : delay * 2;
                continue;
            }

            delay = TimeSpan.FromMilliseconds(100);
            _pending.Dequeue();
            Interlocked.Add(ref _pendingReadings, -batch.Readings);
            Interlocked.Increment(ref _published);
            OldestPending = _pending.TryPeek(out var next) ? next.Oldest : null;
        }
    }

    private sealed record PendingBatch(ulong Seq, byte[] Payload, int Readings, DateTimeOffset Oldest);
}
