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
    OccupancyEngine occupancy,
    LiveEventHub hub,
    CollectorMetrics metrics,
    IOptions<CollectorOptions> options,
    TimeProvider clock,
    ILogger<IngestPipeline> logger,
    IEnumerable<IIngestSink>? sinks = null) : BackgroundService
{
    private readonly Channel<PendingMessage> _queue = Channel.CreateUnbounded<PendingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Func<CancellationToken, Task>> _acknowledgements =
        Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly IIngestSink[] _sinks = [.. sinks ?? []];
    private long _committed;
    private long _queued;

    /// <summary>Messages committed since start (stored, duplicate or dead letter).</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>Messages handed over and not yet committed.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Hands a message over; <paramref name="acknowledge"/> runs after it is committed.</summary>
    public void Enqueue(IngestItem item, Func<CancellationToken, Task>? acknowledge)
    {
        Interlocked.Increment(ref _queued);
        _queue.Writer.TryWrite(new PendingMessage(item, acknowledge));
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        new OccupancyReplay(store, occupancy, logger).Run();
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
                while (group.Count < max && _queue.Reader.TryRead(out var message))
                {
                    group.Add(message);
                    items.Add(message.Item);
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
                Interlocked.Add(ref _queued, -group.Count);
                Apply(items, outcomes);
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

    private void Apply(List<IngestItem> items, CommitOutcome[] outcomes)
    {
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
                            occupancy.Apply(reading);
                        }

                        if (live)
                        {
                            hub.Publish(new ReadingEvent(r.Address.Device, reading.Sensor, reading.Kind, reading.Ts, reading.Values));
                        }
                    }

                    break;
                case StatusItem s:
                    metrics.Messages.WithLabels("status").Inc();
                    hub.Publish(new DeviceEvent(s.Address.Device, s.Status.State, s.Status.Ts ?? s.Received));
                    break;
                case DeadLetterItem d:
                    metrics.Messages.WithLabels("rejected").Inc();
                    metrics.Rejected.WithLabels(d.Rule).Inc();
                    break;
            }
        }
    }

    private readonly record struct PendingMessage(IngestItem Item, Func<CancellationToken, Task>? Acknowledge);
}
