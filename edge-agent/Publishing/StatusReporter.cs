using System.Text.Json;
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
/// Publishes the retained status: a birth message at every connect and a heartbeat with the
/// sensors' health and the backlog; the broker publishes the last will when the agent vanishes.
/// </summary>
public sealed class StatusReporter : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly MqttConnection _connection;
    private readonly BatchPublisher _publisher;
    private readonly SensorHealth _health;
    private readonly TimeProvider _clock;
    private readonly ILogger<StatusReporter> _logger;
    private readonly string _boot = Guid.NewGuid().ToString();
    private readonly long _started;

    public StatusReporter(IOptions<AgentOptions> options, MqttConnection connection, BatchPublisher publisher, SensorHealth health, TimeProvider clock, ILogger<StatusReporter> logger)
    {
        _options = options.Value;
        _connection = connection;
        _publisher = publisher;
        _health = health;
        _clock = clock;
        _logger = logger;
        _started = clock.GetTimestamp();
        _connection.Connected += PublishStatusAsync;
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
        using var timer = new PeriodicTimer(_options.Publishing.HeartbeatInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_connection.IsConnected)
                {
                    await PublishStatusAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PublishStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            var payload = JsonSerializer.SerializeToUtf8Bytes(Current(), ContractJsonContext.Default.StatusMessage);
            await _connection.PublishAsync(ContractTopics.Status(_options.Site, _options.Device), payload, retain: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Status not published");
        }
    }
}
