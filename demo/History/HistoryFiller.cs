using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Readers.Energy;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Experiments;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Demo.History;

/// <summary>What a fill did: its size, time, refusals, and where the time went.</summary>
public sealed record HistoryFillResult(int Days, int DaysSkipped, long Readings, long Batches, long Registrations, long Sessions, long Refused, TimeSpan Elapsed,
    TimeSpan Generating, TimeSpan Checking, TimeSpan WaitingForRoom, string? FirstRefusal)
{
    public double ReadingsPerSecond => Elapsed.TotalSeconds > 0 ? Readings / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Fills the demo's history before the demo goes live: the <see cref="HistoryYear"/>'s batches go,
/// as each device's JSON message with its own sequence numbers, through the very entry the
/// embedded broker hands a device's publish to (<see cref="IngestIntake.Read"/>: the contract's
/// parser and validation, then the site's trust rules; then <see cref="IngestPipeline.EnqueueAsync"/>,
/// the single writer, which commits, dedupes on (site, device, seq) and feeds occupancy), with no
/// MQTT in between: a message arrives (its <c>received</c> time) a second after its last reading,
/// as it would have. The day's group registrations go through <see cref="GroupVisits"/> and its
/// experiment sessions into the experiment store. It runs in the host's start, before the web
/// server listens and before the simulated agents start, so nothing live mixes with the past.
/// Afterwards each live agent's state file is set to go on from the history: its next sequence
/// number above the history's, its door and pulse counters where the history left them.
/// A day is generated while the one before it is serialised, parsed and checked (in parallel)
/// and committed (on the pipeline's thread).
/// </summary>
public sealed class HistoryFiller(
    HistoryStart start,
    SiteModel site,
    IngestIntake intake,
    IngestPipeline pipeline,
    GroupVisits groups,
    SqliteStore store,
    IOptions<CollectorOptions> options,
    ILogger<HistoryFiller> logger) : IHostedService
{
    /// <summary>The contract's largest batch; every history reading is well under 250 bytes, so a batch stays under the 256 KiB limit.</summary>
    public const int ReadingsPerBatch = 1000;

    /// <summary>Set once the fill is done (or was not needed); the live agents start after it.</summary>
    public HistoryFillResult? Result { get; private set; }

    /// <summary>Where the console progress goes (tests and the bench redirect it).</summary>
    public TextWriter Output { get; set; } = Console.Out;

    public bool OutputIsTerminal { get; set; } = !Console.IsOutputRedirected;

    /// <summary>Called with the last day marked as committed in the plan (a test stops the fill there, as Ctrl+C would).</summary>
    public Action<DateOnly>? DayFilled { get; set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (start.Plan is not { } plan)
        {
            return;
        }

        try
        {
            Result = await FillAsync(plan, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C during the fill: the plan stays unfinished, the next start goes on with it.
            Output.WriteLine();
            logger.LogWarning("The demo's history fill was stopped; the next start goes on with it ({Marker})", Path.Combine(options.Value.DataDirectory, HistoryPlan.FileName));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<HistoryFillResult> FillAsync(HistoryPlan plan, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var year = new HistoryYear(site, plan.Seed, plan.From, plan.To);
        var (first, last) = year.Days;
        var totalDays = last.DayNumber - first.DayNumber + 1;
        var skipThrough = plan.FilledThroughDate ?? DateOnly.MinValue;
        logger.LogWarning("Demo: {Action} {Days} days of history ({From:yyyy-MM-dd} to {To:yyyy-MM-dd HH:mm} UTC) through the collector's ingest; the web server and the live agents start when it is in",
            plan.Resumed ? "going on with the fill of" : "filling", totalDays, plan.From, plan.To);
        var progress = new FillProgress(Output, OutputIsTerminal, totalDays);
        var seqs = year.Devices.ToDictionary(d => d, _ => (ulong)plan.From.ToUnixTimeMilliseconds() * 1000, StringComparer.Ordinal);
        var days = Channel.CreateBounded<DayWork>(new BoundedChannelOptions(3) { SingleReader = true, SingleWriter = true });
        long generatingTicks = 0;
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var date = first; date <= last; date = date.AddDays(1))
                {
                    var started = Stopwatch.GetTimestamp();
                    var day = year.Day(date);
                    generatingTicks += Stopwatch.GetTimestamp() - started;
                    var skip = date <= skipThrough;
                    var chunks = new List<Chunk>();
                    foreach (var device in year.Devices)
                    {
                        var readings = day.Readings[device];
                        for (var i = 0; i < readings.Count; i += ReadingsPerBatch)
                        {
                            // Numbered even when skipped: a resumed fill gives every batch the number it had.
                            var seq = ++seqs[device];
                            if (!skip)
                            {
                                chunks.Add(new Chunk(device, seq, readings.GetRange(i, Math.Min(ReadingsPerBatch, readings.Count - i))));
                            }
                        }
                    }

                    await days.Writer.WriteAsync(new DayWork(day, skip, chunks), cancellationToken).ConfigureAwait(false);
                }

                days.Writer.Complete();
            }
            catch (Exception e)
            {
                days.Writer.Complete(e);
            }
        }, cancellationToken);

        var existingSessions = new ExperimentStore(store).List(site.Site, 100_000).Select(s => s.Started.ToUnixTimeMilliseconds()).ToHashSet();
        var pending = new Queue<(DateOnly Date, DayTracker Tracker)>();
        long readingsDone = 0, batches = 0, registrations = 0, sessions = 0, refused = 0, checkingTicks = 0, waitingTicks = 0;
        var daysDone = 0;
        var skipped = 0;
        string? firstRefusal = null;
        await foreach (var work in days.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var tracker = new DayTracker(work.Chunks.Count);
            // Serialising, parsing and checking, in parallel: the JSON a device would send, read as the broker's intake reads it.
            var items = new IngestItem[work.Chunks.Count];
            var sizes = new int[work.Chunks.Count];
            var started = Stopwatch.GetTimestamp();
            Parallel.For(0, work.Chunks.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                var chunk = work.Chunks[i];
                var received = chunk.Readings[^1].Ts.AddSeconds(1);
                var payload = JsonSerializer.SerializeToUtf8Bytes(new ReadingsBatch { Seq = chunk.Seq, Sent = received, Readings = chunk.Readings }, ContractJsonContext.Default.ReadingsBatch);
                sizes[i] = payload.Length;
                items[i] = intake.Read(ContractTopics.Readings(site.Site, chunk.Device), new ReadOnlySequence<byte>(payload), received);
            });
            var checkedAt = Stopwatch.GetTimestamp();
            checkingTicks += checkedAt - started;
            for (var i = 0; i < items.Length; i++)
            {
                if (items[i] is DeadLetterItem dead)
                {
                    refused++;
                    firstRefusal ??= $"{dead.Rule}: {dead.Reason}";
                }

                var count = work.Chunks[i].Readings.Count;
                await pipeline.EnqueueAsync(items[i], sizes[i], _ =>
                {
                    Interlocked.Add(ref readingsDone, count);
                    tracker.Committed();
                    return Task.CompletedTask;
                }, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                batches++;
            }

            waitingTicks += Stopwatch.GetTimestamp() - checkedAt;

            if (!work.Skip)
            {
                registrations += Register(work.Day);
                sessions += RecordSessions(work.Day, existingSessions);
            }
            else
            {
                skipped++;
            }

            pending.Enqueue((work.Day.Date, tracker));
            daysDone += Advance(pending, plan);
            progress.Report(daysDone, Interlocked.Read(ref readingsDone));
        }

        while (pending.Count > 0)
        {
            await pending.Peek().Tracker.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            daysDone += Advance(pending, plan);
            progress.Report(daysDone, Interlocked.Read(ref readingsDone));
        }

        await producer.ConfigureAwait(false);
        // Stopped after the last commit: the plan stays unfinished and the next start hands over.
        cancellationToken.ThrowIfCancellationRequested();
        progress.Finish(daysDone, Interlocked.Read(ref readingsDone));
        HandOver(year, seqs);
        (plan with { Done = true, FilledThrough = last.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) }).Save(options.Value.DataDirectory);
        var result = new HistoryFillResult(totalDays, skipped, Interlocked.Read(ref readingsDone), batches, registrations, sessions, refused, watch.Elapsed,
            Stopwatch.GetElapsedTime(0, generatingTicks), Stopwatch.GetElapsedTime(0, checkingTicks), Stopwatch.GetElapsedTime(0, waitingTicks), firstRefusal);
        logger.LogWarning("Demo: history in: {Readings:N0} readings in {Batches:N0} batches, {Registrations} group registrations, {Sessions} experiment sessions, {Refused} refused, in {Seconds:F1} s ({Rate:N0} readings/s)",
            result.Readings, result.Batches, result.Registrations, result.Sessions, result.Refused, result.Elapsed.TotalSeconds, result.ReadingsPerSecond);
        logger.LogInformation("Demo: history time: generating {Generating:F1} s (beside the rest), serialising, parsing and checking {Checking:F1} s, handing to the single writer {Waiting:F1} s",
            result.Generating.TotalSeconds, result.Checking.TotalSeconds, result.WaitingForRoom.TotalSeconds);
        if (firstRefusal is not null)
        {
            logger.LogWarning("Demo: the collector refused {Refused} history batches, the first: {Reason}", refused, firstRefusal);
        }

        return result;
    }

    /// <summary>Marks the days whose batches are all committed (in order) in the plan; returns how many.</summary>
    private int Advance(Queue<(DateOnly Date, DayTracker Tracker)> pending, HistoryPlan plan)
    {
        DateOnly? through = null;
        var count = 0;
        while (pending.Count > 0 && pending.Peek().Tracker.Done.Task.IsCompleted)
        {
            through = pending.Dequeue().Date;
            count++;
        }

        // Only days whose batches are all committed (and whose registrations are made) move the mark: a restart skips only what is in.
        if (through is { } d)
        {
            (plan with { FilledThrough = d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) }).Save(options.Value.DataDirectory);
            DayFilled?.Invoke(d);
        }

        return count;
    }

    /// <summary>The day's group registrations, unless the day has some already (a resumed fill).</summary>
    private int Register(HistoryDay day)
    {
        if (day.Registrations.Count == 0 || groups.List(groups.DayStart(day.Date), groups.DayStart(day.Date.AddDays(1))).Count > 0)
        {
            return 0;
        }

        foreach (var request in day.Registrations)
        {
            var problems = groups.Check(request);
            if (problems.Count > 0)
            {
                throw new InvalidOperationException($"history registration refused: {string.Join("; ", problems)}");
            }

            groups.Register(request);
        }

        return day.Registrations.Count;
    }

    private int RecordSessions(HistoryDay day, HashSet<long> existing)
    {
        var db = new ExperimentStore(store);
        var count = 0;
        foreach (var session in day.Sessions)
        {
            var started = session.Started.ToUnixTimeMilliseconds();
            if (!existing.Add(started))
            {
                continue;
            }

            var id = db.Insert(site.Site, session.Name, "Demo history / geschiedenis", session.Sensor, started, "docent");
            db.Stop(site.Site, id, session.Stopped.ToUnixTimeMilliseconds());
            count++;
        }

        return count;
    }

    /// <summary>
    /// Each live agent goes on where its history ended: its state file (replaced: its past is the
    /// history) holds the last sequence number the history used and the door and pulse totals, so
    /// its first live batch is the next number and its counters rise from the history's.
    /// </summary>
    private void HandOver(HistoryYear year, Dictionary<string, ulong> seqs)
    {
        var directory = Path.Combine(options.Value.DataDirectory, DemoRunner.AgentsFolder);
        Directory.CreateDirectory(directory);
        var pulses = year.MeterPulses;
        foreach (var device in year.Devices)
        {
            var path = Path.Combine(directory, $"agent-{device}.db");
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }

            // A new state file starts at its clock's microseconds: one below the history's last, then taken.
            var last = seqs[device];
            using var state = new AgentStateStore(path, new FixedClock(DateTimeOffset.UnixEpoch.AddTicks((long)(last - 1) * 10)));
            foreach (var door in site.Doors.Where(d => d.Device == device))
            {
                if (year.DoorTotals.TryGetValue(door.Id, out var totals))
                {
                    state.SetCounter(door.Id, ReadingKinds.DoorValues.InTotal, totals.In);
                    state.SetCounter(door.Id, ReadingKinds.DoorValues.OutTotal, totals.Out);
                }
            }

            foreach (var meter in site.Meters.Where(m => m.Device == device))
            {
                state.SetCounter(meter.Id, S0MeterReader.PulsesCounter, pulses[meter.Id]);
            }

            state.NextSequence();
        }
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed record Chunk(string Device, ulong Seq, List<Reading> Readings);

    private sealed record DayWork(HistoryDay Day, bool Skip, List<Chunk> Chunks);

    /// <summary>Counts a day's batches down to their commits.</summary>
    private sealed class DayTracker
    {
        private int _left;

        public DayTracker(int batches)
        {
            _left = batches;
            if (batches == 0)
            {
                Done.TrySetResult();
            }
        }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Committed()
        {
            if (Interlocked.Decrement(ref _left) == 0)
            {
                Done.TrySetResult();
            }
        }
    }
}
