using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Publishing;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Reliability.LoadAgent;

public sealed class LoadOptions
{
    public const string Section = "Load";

    /// <summary>Readings a second.</summary>
    public int Rate { get; set; } = 1000;

    /// <summary>Readings in all; then the generator stops and the agent keeps delivering its outbox.</summary>
    public long Total { get; set; } = 10_000;

    public string Sensor { get; set; } = "load-1";

    /// <summary>Readings go round-robin to this many sensors (<c>{Sensor}-0</c> …) when above 1, so a store keeps more points per millisecond.</summary>
    public int Sensors { get; set; } = 1;

    /// <summary>Gives every reading of a sensor its own millisecond (needs Rate ≤ 1000 × Sensors), so a time-series store that keys points by time keeps them all.</summary>
    public bool DistinctMilliseconds { get; set; }

    /// <summary>One line per batch committed to the outbox: <c>seq readings</c>.</summary>
    public string RecordFile { get; set; } = "recorded.log";
}

/// <summary>
/// Appends a line per batch the outbox committed, flushed to the OS at once, so a kill -9 keeps
/// every line written (at most the batches of the very last commit can be missing from it).
/// </summary>
public sealed class RecordLog : IDisposable
{
    private readonly StreamWriter _writer;
    private long _readings;

    /// <summary>Readings committed to the outbox by this run.</summary>
    public long Readings => Interlocked.Read(ref _readings);

    public RecordLog(Outbox outbox, IOptions<LoadOptions> options)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Value.RecordFile))!);
        _writer = new StreamWriter(new FileStream(options.Value.RecordFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        outbox.Appended += entries =>
        {
            lock (_writer)
            {
                foreach (var entry in entries)
                {
                    _writer.Write($"{entry.Seq} {entry.Readings}\n");
                    Interlocked.Add(ref _readings, entry.Readings);
                }
            }
        };
    }

    public void Dispose()
    {
        lock (_writer)
        {
            _writer.Dispose();
        }
    }
}

/// <summary>Puts <c>Rate</c> readings a second into the agent's reading queue, <c>Total</c> in all.</summary>
public sealed class LoadGenerator(ReadingQueue queue, RecordLog log, IOptions<LoadOptions> options, TimeProvider clock, ILogger<LoadGenerator> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var started = clock.GetTimestamp();
        long made = 0;
        long refused = 0;
        var last = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10), clock);
        logger.LogInformation("LOAD START rate {Rate}/s total {Total}", o.Rate, o.Total);
        try
        {
            while (made < o.Total && await timer.WaitForNextTickAsync(stoppingToken))
            {
                var due = Math.Min(o.Total, (long)(clock.GetElapsedTime(started).TotalSeconds * o.Rate));
                var now = clock.GetUtcNow();
                while (made < due)
                {
                    made++;
                    var ts = now;
                    var slot = (made - 1) % o.Sensors;
                    if (o.DistinctMilliseconds)
                    {
                        // A new millisecond for each round over the sensors.
                        if (slot == 0)
                        {
                            last = DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(now.ToUnixTimeMilliseconds(), last.ToUnixTimeMilliseconds() + 1));
                        }

                        ts = last;
                    }

                    var reading = new Reading
                    {
                        Ts = ts,
                        Sensor = o.Sensors > 1 ? $"{o.Sensor}-{slot}" : o.Sensor,
                        Kind = "load",
                        Values = new Dictionary<string, double> { ["n_total"] = made },
                    };
                    if (!queue.TryAdd(reading))
                    {
                        refused++;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // Done means: every reading made is in the outbox (the recorder lingers a little).
        while (log.Readings < made - refused && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }

        logger.LogInformation("LOAD DONE made {Made} refused {Refused}", made, refused);
    }
}
