using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Contracts.Resilience;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// The single writer: takes validated messages, commits them to the store in groups (one
/// transaction each: everything that arrived from every connection while the previous commit
/// ran), then acknowledges them to the broker, then feeds occupancy and the live stream with what
/// was new. A message is acknowledged only once it is durable; a batch seen before is
/// acknowledged and not applied again. Acknowledgements are sent by their own loop, in commit
/// order, so the next commit starts while the previous group's PUBACKs go out.
/// </summary>
public sealed class IngestPipeline(
    SqliteStore store,
    OccupancyEngines occupancy,
    LiveEventHub hub,
    CollectorMetrics metrics,
    IOptions<CollectorOptions> options,
    TimeProvider clock,
    ILogger<IngestPipeline> logger,
    IEnumerable<IIngestSink>? sinks = null) : BackgroundService
{
    /// <summary>Queue-full refusals are logged at most once in this time, with how many there were.</summary>
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    // Bounded by the accounting below (messages and payload bytes), not by the channel.
    private readonly Channel<PendingMessage> _queue = Channel.CreateUnbounded<PendingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Func<CancellationToken, Task>> _acknowledgements =
        Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly IIngestSink[] _sinks = [.. sinks ?? []];
    private readonly int _maxMessages = options.Value.Ingest.MaxQueuedMessages;
    private readonly long _maxBytes = options.Value.Ingest.MaxQueuedBytes;
    private readonly Lock _gate = new();
    private readonly LogThrottle _dropLog = new(clock, RefusalLogInterval);
    private readonly LogThrottle _timeoutLog = new(clock, RefusalLogInterval);
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _committed;
    private long _queued;
    private long _queuedBytes;
    private long _dropped;
    private long _lastDropTicks;
    private int _waiting;

    /// <summary>Messages committed since start (stored, duplicate or dead letter).</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>Messages handed over and not yet committed.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>The queue as the health check and metrics see it.</summary>
    public IngestQueueState State()
    {
        lock (_gate)
        {
            var lastDrop = Interlocked.Read(ref _lastDropTicks);
            return new IngestQueueState(_queued, _queuedBytes, _maxMessages, _maxBytes, Committed, Interlocked.Read(ref _dropped),
                lastDrop == 0 ? null : new DateTimeOffset(lastDrop, TimeSpan.Zero), Volatile.Read(ref _waiting));
        }
    }

    /// <summary>
    /// Hands a message over whatever the queue holds: for in-process producers that bound
    /// themselves (tests, tools). Devices' messages come through <see cref="TryEnqueue"/> and
    /// <see cref="EnqueueAsync"/>. <paramref name="acknowledge"/> runs after it is committed.
    /// </summary>
    public void Enqueue(IngestItem item, Func<CancellationToken, Task>? acknowledge)
    {
        var bytes = EstimatedBytes(item);
        lock (_gate)
        {
            Reserve(bytes);
        }

        Write(item, bytes, acknowledge);
    }

    /// <summary>
    /// A QoS 0 message (nothing to acknowledge, nobody sends it again): taken while the queue is
    /// under half of both bounds, otherwise dropped, counted and logged once per interval. The
    /// upper half stays for QoS 1 messages, so a QoS 0 flood cannot starve acknowledged delivery.
    /// </summary>
    public bool TryEnqueue(IngestItem item, long payloadBytes)
    {
        lock (_gate)
        {
            if (!TryReserve(payloadBytes, _maxMessages / 2, _maxBytes / 2))
            {
                Drop();
                return false;
            }
        }

        Write(item, payloadBytes, null);
        return true;
    }

    /// <summary>
    /// A message that is acknowledged after its commit: waits for room up to <paramref name="wait"/>
    /// (back-pressure: the caller holds its connection meanwhile). False when there was none in
    /// time; the message was not taken and must not be acknowledged (the sender sends it again).
    /// </summary>
    public async ValueTask<bool> EnqueueAsync(IngestItem item, long payloadBytes, Func<CancellationToken, Task> acknowledge, TimeSpan wait, CancellationToken cancellationToken)
    {
        Task room;
        bool reserved;
        lock (_gate)
        {
            reserved = TryReserve(payloadBytes, _maxMessages, _maxBytes);
            room = _room.Task;
            if (!reserved)
            {
                _waiting++;
            }
        }

        if (reserved)
        {
            Write(item, payloadBytes, acknowledge);
            return true;
        }

        var started = clock.GetTimestamp();
        try
        {
            while (true)
            {
                var left = wait == Timeout.InfiniteTimeSpan ? wait : wait - clock.GetElapsedTime(started);
                if (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero)
                {
                    TimedOut(wait);
                    return false;
                }

                try
                {
                    await room.WaitAsync(left, clock, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    TimedOut(wait);
                    return false;
                }

                lock (_gate)
                {
                    if (TryReserve(payloadBytes, _maxMessages, _maxBytes))
                    {
                        break;
                    }

                    room = _room.Task;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _waiting--;
            }
        }

        metrics.IngestWaits.WithLabels("admitted").Inc();
        Write(item, payloadBytes, acknowledge);
        return true;
    }

    /// <summary>What a message costs the byte bound when the caller does not know its payload (in-process producers).</summary>
    private static long EstimatedBytes(IngestItem item) => item switch
    {
        ReadingsItem r => 64 + (r.Batch.Readings.Count * 128L),
        DeadLetterItem d => d.PayloadLength,
        _ => 256,
    };

    /// <summary>An empty queue takes any message, so one larger than a bound still gets through.</summary>
    private bool TryReserve(long bytes, long maxMessages, long maxBytes)
    {
        if (_queued > 0 && (_queued >= maxMessages || _queuedBytes + bytes > maxBytes))
        {
            return false;
        }

        Reserve(bytes);
        return true;
    }

    private void Reserve(long bytes)
    {
        _queued++;
        _queuedBytes += bytes;
        metrics.IngestQueueMessages.Set(_queued);
        metrics.IngestQueueBytes.Set(_queuedBytes);
    }

    private void Write(IngestItem item, long bytes, Func<CancellationToken, Task>? acknowledge) =>
        _queue.Writer.TryWrite(new PendingMessage(item, acknowledge, bytes));

    /// <summary>Gives the room of a committed group back and wakes the publishers waiting for it.</summary>
    private void Release(int messages, long bytes)
    {
        TaskCompletionSource waking;
        lock (_gate)
        {
            _queued -= messages;
            _queuedBytes -= bytes;
            metrics.IngestQueueMessages.Set(_queued);
            metrics.IngestQueueBytes.Set(_queuedBytes);
            waking = _room;
            _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        waking.TrySetResult();
    }

    private void Drop()
    {
        var dropped = Interlocked.Increment(ref _dropped);
        Interlocked.Exchange(ref _lastDropTicks, clock.GetUtcNow().UtcTicks);
        metrics.IngestDropped.WithLabels("queue_full").Inc();
        if (_dropLog.TryTake(out var held))
        {
            logger.LogWarning("The ingest queue is half full ({Messages} of {MaxMessages} messages, {Bytes} of {MaxBytes} bytes; Collector:Ingest:MaxQueuedMessages, MaxQueuedBytes): QoS 0 messages are dropped ({Held} more since the last line, {Dropped} since start; ntp_ingest_dropped_total)",
                _queued, _maxMessages, _queuedBytes, _maxBytes, held, dropped);
        }
    }

    private void TimedOut(TimeSpan wait)
    {
        metrics.IngestWaits.WithLabels("timed_out").Inc();
        if (_timeoutLog.TryTake(out var held))
        {
            logger.LogWarning("The ingest queue stayed full for {Wait}: a QoS 1 message was refused and will be sent again ({Held} more since the last line; the store does not keep up)",
                wait, held);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var engine in occupancy.All)
        {
            new OccupancyReplay(store, engine, logger).Run();
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var acknowledging = AcknowledgeAsync(stoppingToken);
        try
        {
            await CommitLoopAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _acknowledgements.Writer.TryComplete();
            await acknowledging.ConfigureAwait(false);
        }
    }

    private async Task CommitLoopAsync(CancellationToken stoppingToken)
    {
        var max = options.Value.Ingest.MaxMessagesPerCommit;
        var group = new List<PendingMessage>(max);
        var items = new List<IngestItem>(max);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                long bytes = 0;
                while (group.Count < max && _queue.Reader.TryRead(out var message))
                {
                    group.Add(message);
                    items.Add(message.Item);
                    bytes += message.Bytes;
                }

                var outcomes = await CommitWithRetryAsync(items, stoppingToken).ConfigureAwait(false);
                await AcceptWithRetryAsync(items, outcomes, stoppingToken).ConfigureAwait(false);
                foreach (var message in group)
                {
                    if (message.Acknowledge is { } acknowledge)
                    {
                        _acknowledgements.Writer.TryWrite(acknowledge);
                    }
                }

                Interlocked.Add(ref _committed, group.Count);
                Apply(items, outcomes);
                // The room is given back once the group is let go of: the bounds are memory bounds.
                Release(group.Count, bytes);
                group.Clear();
                items.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Acknowledges committed messages in commit order, beside the commit loop.</summary>
    private async Task AcknowledgeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var acknowledge in _acknowledgements.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await acknowledge(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The connection dropped after the commit: the broker sends it again and the
                    // (site, device, seq) check keeps it from being stored twice.
                    logger.LogDebug(e, "Acknowledgement lost");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Commits, retrying with backoff while the disk refuses (full, read-only); nothing is acknowledged meanwhile.</summary>
    private async Task<CommitOutcome[]> CommitWithRetryAsync(List<IngestItem> items, CancellationToken cancellationToken)
    {
        // No jitter: one writer per store, nobody to fall in lockstep with.
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), clock, jitter: 0);
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var outcomes = store.Commit(items);
                metrics.CommitSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                return outcomes;
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                metrics.CommitFailures.Inc();
                logger.LogError(e, "Cannot commit {Count} message(s) to {Store}; retrying in {Delay} (nothing is acknowledged until then)",
                    items.Count, store.FilePath, backoff.Current);
                await backoff.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Hands the readings to the durable sinks (InfluxDB's queue) after the store's commit and
    /// before the acknowledgement. Duplicates go too: a crash between the store's commit and the
    /// sink's would otherwise leave the sink without them, and a point written twice to InfluxDB
    /// is the same point (same series and time).
    /// </summary>
    private async Task AcceptWithRetryAsync(List<IngestItem> items, CommitOutcome[] outcomes, CancellationToken cancellationToken)
    {
        if (_sinks.Length == 0)
        {
            return;
        }

        var batches = items.Where((item, i) => outcomes[i] != CommitOutcome.Refused).OfType<ReadingsItem>().ToList();
        if (batches.Count == 0)
        {
            return;
        }

        foreach (var sink in _sinks)
        {
            var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), clock, jitter: 0);
            while (true)
            {
                try
                {
                    sink.Accept(batches);
                    break;
                }
                catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
                {
                    logger.LogError(e, "Cannot queue {Count} batch(es) for {Sink}; retrying in {Delay} (nothing is acknowledged until then)",
                        batches.Count, sink.GetType().Name, backoff.Current);
                    await backoff.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Metrics, occupancy and the live events of a committed group; the group's events go to the fan-out as one batch.</summary>
    private void Apply(List<IngestItem> items, CommitOutcome[] outcomes)
    {
        using var gathering = hub.Gather();
        var live = hub.Subscribers > 0;
        for (var i = 0; i < items.Count; i++)
        {
            switch (items[i])
            {
                case ReadingsItem r when outcomes[i] == CommitOutcome.Duplicate:
                    metrics.Messages.WithLabels("duplicate").Inc();
                    break;
                case ReadingsItem when outcomes[i] == CommitOutcome.Refused:
                    metrics.Messages.WithLabels("rejected").Inc();
                    metrics.Rejected.WithLabels(SqliteStore.SeriesLimitRule).Inc();
                    break;
                case ReadingsItem r:
                    metrics.Messages.WithLabels("stored").Inc();
                    metrics.Readings.Inc(r.Batch.Readings.Count);
                    foreach (var reading in r.Batch.Readings)
                    {
                        if (reading.Kind == ReadingKinds.Door && reading.Values is { } v)
                        {
                            occupancy.For(r.Address.Site)?.Apply(reading);
                        }

                        if (live)
                        {
                            hub.Publish(new ReadingEvent(r.Address.Device, reading.Sensor, reading.Kind, reading.Ts, reading.Values) { Site = r.Address.Site });
                        }
                    }

                    break;
                case StatusItem s:
                    metrics.Messages.WithLabels("status").Inc();
                    hub.Publish(new DeviceEvent(s.Address.Device, s.Status.State, s.Status.Ts ?? s.Received) { Site = s.Address.Site });
                    break;
                case DeadLetterItem d:
                    metrics.Messages.WithLabels("rejected").Inc();
                    metrics.Rejected.WithLabels(d.Rule).Inc();
                    break;
            }
        }
    }

    private readonly record struct PendingMessage(IngestItem Item, Func<CancellationToken, Task>? Acknowledge, long Bytes);
}

/// <summary>The ingest queue: what waits, its bounds, QoS 0 messages dropped, QoS 1 publishers waiting for room.</summary>
public readonly record struct IngestQueueState(long Messages, long Bytes, int MaxMessages, long MaxBytes, long Committed, long Dropped, DateTimeOffset? LastDrop, int Waiting);
