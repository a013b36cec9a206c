using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Resilience;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Agent.Publishing;

/// <summary>
/// Keeps the agent's one MQTT connection alive: MQTT 5, persistent session, last will, and
/// reconnect with jittered backoff (MQTTnet 5 has no managed client, so this is ours).
/// </summary>
public sealed class MqttConnection : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly ILogger<MqttConnection> _logger;
    private readonly TimeProvider _clock;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly SemaphoreSlim _disconnected = new(0);
    private TaskCompletionSource _connected = NewSignal();
    private volatile bool _stopping;

    public MqttConnection(IOptions<AgentOptions> options, TimeProvider clock, ILogger<MqttConnection> logger)
    {
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _clientOptions = BuildClientOptions(_options);
    }

    /// <summary>Raised after every successful connect; the status reporter publishes the birth message.</summary>
    public event Func<CancellationToken, Task>? Connected;

    public static string SoftwareVersion { get; } =
        typeof(MqttConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public bool IsConnected => _client.IsConnected;

    public string ClientId => _clientOptions.ClientId;

    /// <summary>Completes when the connection is up.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken) =>
        _client.IsConnected ? Task.CompletedTask : Volatile.Read(ref _connected).Task.WaitAsync(cancellationToken);

    /// <summary>Publishes with QoS 1 and returns once the broker has acknowledged (PUBACK).</summary>
    public async Task<bool> PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .WithContentType("application/json")
            .Build();
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Broker did not accept the message on {Topic}: {Reason} {Text}", topic, result.ReasonCode, result.ReasonString);
        }

        return result.IsSuccess;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_client.IsConnected)
        {
            try
            {
                // A clean goodbye: the broker does not send the will on a normal disconnect, so say it.
                var offline = JsonSerializer.SerializeToUtf8Bytes(StatusMessage.LastWill, ContractJsonContext.Default.StatusMessage);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await PublishAsync(ContractTopics.Status(_options.Site, _options.Device), offline, retain: true, timeout.Token).ConfigureAwait(false);
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or MqttCommunicationException or InvalidOperationException)
            {
                _logger.LogDebug(e, "Goodbye to the broker failed");
            }
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        _disconnected.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(_options.Broker.ReconnectMinDelay, _options.Broker.ReconnectMaxDelay, _clock);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_client.IsConnected)
            {
                await _disconnected.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                var result = await _client.ConnectAsync(_clientOptions, stoppingToken).ConfigureAwait(false);
                if (result.ResultCode == MqttClientConnectResultCode.Success)
                {
                    _logger.LogInformation("Connected to mqtt://{Host}:{Port} as {ClientId} (session present: {Session})",
                        _options.Broker.Host, _options.Broker.Port, _clientOptions.ClientId, result.IsSessionPresent);
                    backoff.Reset();
                    if (Connected is { } connected)
                    {
                        await connected(stoppingToken).ConfigureAwait(false);
                    }

                    Volatile.Read(ref _connected).TrySetResult();
                    continue;
                }

                // MQTTnet 5 reports a refused connection as a result code instead of throwing.
                _logger.LogError("Broker mqtt://{Host}:{Port} refused the connection of {ClientId}: {Code} {Reason}",
                    _options.Broker.Host, _options.Broker.Port, _clientOptions.ClientId, result.ResultCode, result.ReasonString);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Cannot reach broker mqtt://{Host}:{Port}; retrying in about {Delay}",
                    _options.Broker.Host, _options.Broker.Port, backoff.Current);
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

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        var previous = Volatile.Read(ref _connected);
        if (previous.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _connected, NewSignal(), previous);
        }

        if (e.ClientWasConnected && !_stopping)
        {
            _logger.LogWarning(e.Exception, "Disconnected from the broker: {Reason}", e.Reason);
            _disconnected.Release();
        }

        return Task.CompletedTask;
    }

    private static MqttClientOptions BuildClientOptions(AgentOptions options)
    {
        var will = JsonSerializer.SerializeToUtf8Bytes(StatusMessage.LastWill, ContractJsonContext.Default.StatusMessage);
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Broker.Host, options.Broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"ntp-{options.Site}-{options.Device}")
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)options.Broker.SessionExpiry.TotalSeconds)
            .WithKeepAlivePeriod(options.Broker.KeepAlive)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(ContractTopics.Status(options.Site, options.Device))
            .WithWillPayload(will)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (!string.IsNullOrEmpty(options.Broker.Username))
        {
            builder.WithCredentials(options.Broker.Username, options.Broker.Password ?? string.Empty);
        }

        if (options.Broker.UseTls)
        {
            builder.WithTlsOptions(tls => BrokerCertificate.Configure(tls, options.Broker));
        }

        return builder.Build();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
