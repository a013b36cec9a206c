using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Resilience;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Agent.Publishing;

/// <summary>
/// Two loops joined only by the durable <see cref="Outbox"/>. The recorder drains the reading
/// queue into batches (up to 1,000 readings, 256 KiB, or the linger time) and commits them to the
/// outbox with their sequence numbers; it never waits for the network. Every commit is an fsync
/// on an SD card, so the linger follows the rate (<see cref="LingerFor"/>): rare readings wait
/// <c>BatchLinger</c>, a steady stream up to <c>MaxBatchLinger</c>, in fewer, larger commits. The sender publishes what
/// the outbox holds, in sequence order, with QoS 1, and removes a batch only after the broker's
/// PUBACK; after an outage it replays the backlog while the recorder keeps recording.
/// </summary>
public sealed class BatchPublisher(
    IOptions<AgentOptions> options,
    ReadingQueue queue,
    Outbox outbox,
    MqttConnection connection,
    TimeProvider clock,
    LoopHeartbeats heartbeats,
    ILogger<BatchPublisher> logger) : BackgroundService
{
    private const int ReadAhead = 32;

    /// <summary>At or below this rate (readings a second) readings wait only <c>BatchLinger</c>.</summary>
    public const double LowRate = 5;

    /// <summary>At or above this rate they wait <c>MaxBatchLinger</c>.</summary>
    public const double HighRate = 20;

    /// <summary>Acknowledged batches are deleted when idle once the oldest has waited this long.</summary>
    public static readonly TimeSpan IdleDeleteDelay = TimeSpan.FromSeconds(30);

    private double _rate;
    private readonly AgentOptions _options = options.Value;
    private long _published;
    private long _publishedReadings;

    /// <summary>Batches acknowledged by the broker since start.</summary>
    public long PublishedBatches => Interlocked.Read(ref _published);

    /// <summary>Readings acknowledged by the broker since start.</summary>
    public long PublishedReadings => Interlocked.Read(ref _publishedReadings);

    /// <summary>Readings waiting to be acknowledged (in the outbox and in the queue before it).</summary>
    public long PendingReadings => outbox.PendingReadings + queue.Count;

    /// <summary>Time of the oldest reading not yet acknowledged.</summary>
    public DateTimeOffset? OldestPending => outbox.Oldest();

    /// <summary>Readings dropped because the outbox passed its bounds.</summary>
    public long DroppedReadings => outbox.DroppedReadings;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        outbox.Flush();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var record = Task.Run(() => RecordAsync(stoppingToken), stoppingToken);
        var send = Task.Run(() => SendAsync(stoppingToken), stoppingToken);
        try
        {
            await Task.WhenAll(record, send).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Queue → batches → outbox (committed, fsynced). Retries while the disk refuses.</summary>
    private async Task RecordAsync(CancellationToken cancellationToken)
    {
        // Waiting for readings and for a disk that refuses is progress; a commit that never returns is not.
        using var heartbeat = heartbeats.Register("publish: recorder (queue to outbox)");
        var buffer = new List<Reading>(_options.Publishing.MaxReadingsPerBatch);
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), clock, jitter: 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (buffer.Count == 0)
            {
                await CollectAsync(buffer, heartbeat, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                outbox.Append(buffer);
                buffer.Clear();
                backoff.Reset();
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                // Disk full or read-only: keep the readings in memory and try again; the queue
                // before us absorbs the wait (and counts what it cannot take).
                logger.LogError(e, "Cannot write {Count} reading(s) to the outbox; retrying in {Delay}", buffer.Count, backoff.Current);
                await heartbeat.WaitAsync(backoff.WaitAsync(cancellationToken)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// How long a batch waits for more readings at <paramref name="rate"/> readings a second:
    /// <paramref name="linger"/> up to <see cref="LowRate"/>, <paramref name="maxLinger"/> from
    /// <see cref="HighRate"/>, in between in proportion. A commit costs about the same whatever it
    /// holds, so at 40 readings a second this is one commit every 2 s instead of five a second.
    /// </summary>
    public static TimeSpan LingerFor(double rate, TimeSpan linger, TimeSpan maxLinger)
    {
        if (maxLinger <= linger || !(rate > LowRate))
        {
            return linger;
        }

        var share = Math.Min(1, (rate - LowRate) / (HighRate - LowRate));
        return linger + ((maxLinger - linger) * share);
    }

    /// <summary>
    /// Waits for a first reading, then gathers more until the batch is full or the linger time is
    /// over. When stopping, what was gathered is still committed (returns instead of throwing).
    /// </summary>
    private async Task CollectAsync(List<Reading> buffer, Heartbeat heartbeat, CancellationToken cancellationToken)
    {
        var reader = queue.Reader;
        buffer.Add(await heartbeat.WaitAsync(reader.ReadAsync(cancellationToken)).ConfigureAwait(false));
        var started = clock.GetTimestamp();
        var lingerTime = LingerFor(_rate, _options.Publishing.BatchLinger, _options.Publishing.MaxBatchLinger);
        var max = _options.Publishing.MaxReadingsPerBatch;
        try
        {
            while (buffer.Count < max)
            {
                while (buffer.Count < max && reader.TryRead(out var more))
                {
                    buffer.Add(more);
                }

                var left = lingerTime - clock.GetElapsedTime(started);
                if (buffer.Count >= max || left <= TimeSpan.Zero)
                {
                    return;
                }

                using var linger = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                linger.CancelAfter(left);
                try
                {
                    if (!await heartbeat.WaitAsync(reader.WaitToReadAsync(linger.Token)).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException)
                {
                    // Linger over, or stopping: commit what is here.
                    return;
                }
            }
        }
        finally
        {
            // The rate this batch saw (readings over the time they took to gather, at least the
            // base linger so a burst does not read as an endless rate), smoothed over batches.
            var seconds = Math.Max(clock.GetElapsedTime(started).TotalSeconds, Math.Max(_options.Publishing.BatchLinger.TotalSeconds, 0.01));
            _rate = (_rate * 0.5) + (buffer.Count / seconds * 0.5);
        }
    }

    /// <summary>
    /// Outbox → broker, strictly in sequence order, one batch in flight: a batch is published
    /// until the broker acknowledges it (or the outbox drops it for age or size).
    /// </summary>
    private async Task SendAsync(CancellationToken cancellationToken)
    {
        // Waiting for batches, for the broker and in backoff is progress; a publish is bounded
        // by MQTT's 10 s timeout, so one that never returns is a hang.
        using var heartbeat = heartbeats.Register("publish: sender (outbox to broker)");
        var topic = ContractTopics.Readings(_options.Site, _options.Device);
        ulong cursor = 0;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), clock, jitter: 0);
        var window = new Queue<OutboxBatch>();
        var generation = outbox.DropGeneration;
        var replay = new ReplayMeter(clock);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (window.Count == 0)
            {
                outbox.ResetAppendedSignal();
                generation = outbox.DropGeneration;
                foreach (var batch in outbox.ReadAfter(cursor, ReadAhead))
                {
                    window.Enqueue(batch);
                }

                if (window.Count == 0)
                {
                    // Deleting acknowledged batches at every idle moment would be one more fsync
                    // per batch; a crash before the delete only sends them again (seq dedupe).
                    outbox.FlushIfOlderThan(IdleDeleteDelay);
                    await heartbeat.WaitAsync(outbox.WaitAppendedAsync(cancellationToken)).ConfigureAwait(false);
                    continue;
                }
            }

            var next = window.Peek();
            if (!connection.IsConnected)
            {
                replay.Interrupted();
            }

            await heartbeat.WaitAsync(connection.WaitConnectedAsync(cancellationToken)).ConfigureAwait(false);
            if (!outbox.TrySetInFlight(next.Seq, generation))
            {
                // The outbox dropped old batches while this window waited: read it again.
                window.Clear();
                continue;
            }

            bool acknowledged;
            try
            {
                acknowledged = await connection.PublishAsync(topic, next.Payload, retain: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug(e, "Publishing batch {Seq} failed; it stays in the outbox", next.Seq);
                acknowledged = false;
            }

            if (!acknowledged)
            {
                replay.Interrupted();
                // Read the window again after the pause: the outbox may have dropped batches meanwhile.
                window.Clear();
                cursor = next.Seq - 1;
                await heartbeat.WaitAsync(backoff.WaitAsync(cancellationToken)).ConfigureAwait(false);
                continue;
            }

            backoff.Reset();
            window.Dequeue();
            cursor = next.Seq;
            outbox.Acknowledge(next);
            Interlocked.Increment(ref _published);
            Interlocked.Add(ref _publishedReadings, next.Readings);
            if (replay.Delivered(next.Readings, outbox.PendingBatches == 0) is { } done && done.Readings >= _options.Publishing.MaxReadingsPerBatch)
            {
                logger.LogInformation("Backlog delivered after the interruption: {Readings} reading(s) in {Seconds:F1} s ({Rate:F0} readings/s)",
                    done.Readings, done.Elapsed.TotalSeconds, done.Readings / Math.Max(done.Elapsed.TotalSeconds, 0.001));
            }
        }
    }

    /// <summary>Measures how fast a backlog goes out after the connection was interrupted.</summary>
    private sealed class ReplayMeter(TimeProvider clock)
    {
        private bool _interrupted;
        private long? _started;
        private long _readings;

        public void Interrupted()
        {
            _interrupted = true;
            _started = null;
            _readings = 0;
        }

        /// <summary>After each acknowledged batch; returns the totals once the outbox is empty again.</summary>
        public (long Readings, TimeSpan Elapsed)? Delivered(int readings, bool drained)
        {
            if (!_interrupted)
            {
                return null;
            }

            _started ??= clock.GetTimestamp();
            _readings += readings;
            if (!drained)
            {
                return null;
            }

            _interrupted = false;
            return (_readings, clock.GetElapsedTime(_started.Value));
        }
    }
}
