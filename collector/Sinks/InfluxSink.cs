using System.Net;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;
using InfluxDB.Client.Writes;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Resilience;
using Prometheus;

namespace NewTechPark.Edge.Collector.Sinks;

/// <summary>
/// A durable destination beside the SQLite store. The ingest pipeline calls <see cref="Accept"/>
/// after its commit and before it acknowledges the messages: when it returns, the data is on disk
/// in the sink's own queue.
/// </summary>
public interface IIngestSink
{
    /// <summary>Queues the batches durably; throws when it cannot (nothing is acknowledged then).</summary>
    void Accept(IReadOnlyList<ReadingsItem> batches);
}

/// <summary>
/// Writes every batch to InfluxDB 2/3 as line protocol (measurement = reading kind; tags site,
/// device, sensor; one field per value; millisecond timestamps) through InfluxDB.Client's
/// <c>WriteApiAsync</c>, from a <see cref="DurableQueue"/>: a chunk leaves the queue only after
/// the server answered 2xx. While InfluxDB is down the queue grows on disk and the writer retries
/// with jittered exponential backoff; nothing waits in memory, so hours of downtime, and collector
/// restarts during them, lose nothing. (InfluxDB.Client's batching <c>WriteApi</c> is not used: it
/// buffers in memory and drops a batch after its retries.)
/// </summary>
public sealed class InfluxSink : BackgroundService, IIngestSink
{
    private readonly InfluxOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<InfluxSink> _logger;
    private readonly DurableQueue _queue;
    private readonly InfluxDBClient _client;
    private readonly Counter _written;
    private readonly Counter _failures;
    private readonly Counter _rejected;
    private readonly Dictionary<string, SiteTags>? _siteTags;

    public InfluxSink(IOptions<CollectorOptions> options, CollectorMetrics metrics, TimeProvider clock, ILogger<InfluxSink> logger, SiteCatalog? sites = null)
    {
        _siteTags = sites?.Sites.ToDictionary(s => s.Site, s => new SiteTags(s), StringComparer.Ordinal);
        _options = options.Value.Influx;
        _clock = clock;
        _logger = logger;
        var path = Path.IsPathRooted(_options.QueueFile) ? _options.QueueFile : Path.Combine(options.Value.DataDirectory, _options.QueueFile);
        _queue = new DurableQueue(path, _options.QueueMaxBytes, _options.MaxPointsPerWrite, logger);
        var clientOptions = new InfluxDBClientOptions(_options.Url)
        {
            Org = _options.Org,
            Bucket = _options.Bucket,
            Timeout = _options.Timeout,
        };
        if (!string.IsNullOrEmpty(_options.Token))
        {
            clientOptions.Token = _options.Token;
        }

        _client = new InfluxDBClient(clientOptions);

        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var queued = factory.CreateGauge("ntp_influx_queue_points", "Points waiting in the InfluxDB sink's durable queue.");
        var bytes = factory.CreateGauge("ntp_influx_queue_bytes", "Bytes of line protocol in the InfluxDB sink's durable queue.");
        var dropped = factory.CreateGauge("ntp_influx_dropped_points", "Points the InfluxDB sink dropped because its queue passed QueueMaxBytes (over the queue file's life).");
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            queued.Set(_queue.Points);
            bytes.Set(_queue.Bytes);
            dropped.Set(_queue.DroppedPoints);
        });
        _written = factory.CreateCounter("ntp_influx_written_points_total", "Points InfluxDB accepted.");
        _failures = factory.CreateCounter("ntp_influx_write_failures_total", "Writes that failed and will be retried.");
        _rejected = factory.CreateCounter("ntp_influx_rejected_points_total", "Points InfluxDB refused for good (kept in the queue file's rejected table).");
        _logger.LogInformation("InfluxDB sink ({Mode} SQLite's raw points): {Url} org {Org} bucket {Bucket}, queue {Queue} ({Points} point(s) waiting)",
            _options.Mode == InfluxMode.Instead ? "instead of" : "beside", _options.Url, _options.Org, _options.Bucket, path, _queue.Points);
    }

    public DurableQueue Queue => _queue;

    public void Accept(IReadOnlyList<ReadingsItem> batches)
    {
        var lines = new List<string>();
        foreach (var batch in batches)
        {
            LineProtocol.Append(batch, lines, _siteTags?.GetValueOrDefault(batch.Address.Site));
        }

        _queue.Append(lines, _clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    public override void Dispose()
    {
        _client.Dispose();
        _queue.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = _client.GetWriteApiAsync();
        var backoff = new Backoff(_options.RetryMinDelay, _options.RetryMaxDelay, _clock);
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            _queue.ResetSignal();
            var chunk = _queue.Peek();
            if (chunk is null)
            {
                try
                {
                    await _queue.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                await writer.WriteRecordsAsync(chunk.Lines(), WritePrecision.Ms, _options.Bucket, _options.Org, stoppingToken).ConfigureAwait(false);
                _queue.Remove(chunk);
                _written.Inc(chunk.Points);
                if (failing)
                {
                    _logger.LogInformation("InfluxDB at {Url} accepts writes again; {Points} point(s) still queued", _options.Url, _queue.Points);
                    failing = false;
                }

                backoff.Reset();
                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpException e) when (IsPermanent(e.Status))
            {
                // Bad line protocol or a point the server will never take: retrying cannot help.
                _rejected.Inc(chunk.Points);
                _logger.LogError(e, "InfluxDB refused {Points} point(s) for good ({Status}); kept in the rejected table of {Queue}",
                    chunk.Points, e.Status, _queue.FilePath);
                _queue.Reject(chunk, $"{e.Status}: {e.Message}", _clock.GetUtcNow().ToUnixTimeMilliseconds());
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Down, unreachable, overloaded (429, 5xx), timed out, or not authorised yet: keep and retry.
                _failures.Inc();
                var level = failing ? LogLevel.Debug : LogLevel.Warning;
                _logger.Log(level, e, "Writing to InfluxDB at {Url} failed; {Points} point(s) stay queued, retrying in about {Delay}",
                    _options.Url, _queue.Points, backoff.Current);
                failing = true;
            }

            try
            {
                await backoff.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>400 (bad data) and 413 (too large) do not get better; everything else can (401/403/404 once configured, 429, 5xx).</summary>
    private static bool IsPermanent(int status) => status is (int)HttpStatusCode.BadRequest or (int)HttpStatusCode.RequestEntityTooLarge or (int)HttpStatusCode.UnprocessableEntity;
}

/// <summary>Contract readings as InfluxDB line protocol.</summary>
public static class LineProtocol
{
    /// <summary>
    /// One line per reading: measurement = kind, tags site/device/sensor (and the site file's
    /// room/role/from/to, <see cref="SiteTags"/>, when given), a field per value (and
    /// <c>scans=1</c> for a badge scan, never its pseudonym), the reading's time in milliseconds.
    /// </summary>
    public static void Append(ReadingsItem item, List<string> lines, SiteTags? siteTags = null)
    {
        foreach (var reading in item.Batch.Readings)
        {
            var point = PointData.Measurement(reading.Kind)
                .Tag("site", item.Address.Site)
                .Tag("device", item.Address.Device)
                .Tag("sensor", reading.Sensor)
                .Timestamp(reading.Ts.ToUnixTimeMilliseconds(), WritePrecision.Ms);
            foreach (var (key, value) in siteTags?.For(item.Address.Site, reading.Sensor) ?? [])
            {
                point = point.Tag(key, value);
            }

            var fields = 0;
            if (reading.Values is { } values)
            {
                foreach (var (name, value) in values)
                {
                    point = point.Field(name, value);
                    fields++;
                }
            }

            if (reading.Visitor is not null)
            {
                // The pseudonym stays in the collector's own store, where the scan retention
                // (Visitors:ScanRetention) deletes it; InfluxDB gets only that a scan happened.
                point = point.Field("scans", 1L);
                fields++;
            }

            if (fields > 0)
            {
                lines.Add(point.ToLineProtocol());
            }
        }
    }
}
