using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Agent.Publishing;

/// <summary>
/// Publishes the retained status: a birth message at every connect, a heartbeat with the
/// sensors' health and the backlog, and an early status when a sensor's health changes (so staff
/// see a failed sensor, or the first healthy one after a start, without waiting for the heartbeat);
/// the broker publishes the last will when the agent vanishes.
/// </summary>
public sealed class StatusReporter : BackgroundService
{
    /// <summary>Changes closer together than this share one status (start-up reports many at once).</summary>
    internal static readonly TimeSpan ChangeSettle = TimeSpan.FromMilliseconds(250);

    /// <summary>A flapping sensor costs at most one status per second.</summary>
    internal static readonly TimeSpan MinChangeSpacing = TimeSpan.FromSeconds(1);

    private readonly AgentOptions _options;
    private readonly MqttConnection _connection;
    private readonly BatchPublisher _publisher;
    private readonly SensorHealth _health;
    private readonly TimeProvider _clock;
    private readonly ILogger<StatusReporter> _logger;
    private readonly string _boot = Guid.NewGuid().ToString();
    private readonly long _started;
    private readonly Channel<bool> _healthChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _lastPublished;

    public StatusReporter(IOptions<AgentOptions> options, MqttConnection connection, BatchPublisher publisher, SensorHealth health, TimeProvider clock, ILogger<StatusReporter> logger)
    {
        _options = options.Value;
        _connection = connection;
        _publisher = publisher;
        _health = health;
        _clock = clock;
        _logger = logger;
        _started = clock.GetTimestamp();
        _lastPublished = _started;
        _connection.Connected += PublishStatusAsync;
        _health.Changed += () => _healthChanged.Writer.TryWrite(true);
    }

    public StatusMessage Current() => new()
    {
        State = StatusMessage.Online,
        Ts = _clock.GetUtcNow(),
        Version = MqttConnection.SoftwareVersion,
        Boot = _boot,
        UptimeS = (long)_clock.GetElapsedTime(_started).TotalSeconds,
        Outbox = new OutboxStatus { Pending = _publisher.PendingReadings, Oldest = _publisher.OldestPending, Dropped = _publisher.DroppedReadings },
        Sensors = _health.Snapshot(),
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var sinceLast = _clock.GetElapsedTime(Interlocked.Read(ref _lastPublished));
                var heartbeatDue = _options.Publishing.HeartbeatInterval - sinceLast;
                if (heartbeatDue > TimeSpan.Zero && await HealthChangedWithinAsync(heartbeatDue, stoppingToken).ConfigureAwait(false))
                {
                    // Let the burst settle, and keep a flapping sensor to one status a second.
                    var spacing = MinChangeSpacing - _clock.GetElapsedTime(Interlocked.Read(ref _lastPublished));
                    await Task.Delay(spacing > ChangeSettle ? spacing : ChangeSettle, _clock, stoppingToken).ConfigureAwait(false);
                    _healthChanged.Reader.TryRead(out _);
                }

                if (_connection.IsConnected)
                {
                    await PublishStatusAsync(stoppingToken).ConfigureAwait(false);
                }
                else
                {
                    Interlocked.Exchange(ref _lastPublished, _clock.GetTimestamp());
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>True when a sensor's health changed before <paramref name="within"/> passed.</summary>
    private async Task<bool> HealthChangedWithinAsync(TimeSpan within, CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(within, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            await _healthChanged.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task PublishStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            var payload = JsonSerializer.SerializeToUtf8Bytes(Current(), ContractJsonContext.Default.StatusMessage);
            Interlocked.Exchange(ref _lastPublished, _clock.GetTimestamp());
            await _connection.PublishAsync(ContractTopics.Status(_options.Site, _options.Device), payload, retain: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Status not published");
        }
    }
}
