using NewTechPark.Edge.Collector.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Broker;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Resilience;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// The collector's MQTT subscriber: a persistent QoS 1 session on <c>ntp/v1/+/+/readings</c> and
/// <c>ntp/v1/+/+/status</c>. Each message is validated here and handed to the pipeline with
/// automatic acknowledgement turned off; the pipeline acknowledges once the message is committed,
/// so the broker keeps (and redelivers) anything not yet stored. With the embedded broker there is
/// no subscriber: the broker hands messages to the pipeline itself and sends the PUBACK only after
/// the commit (<see cref="Broker.EmbeddedBroker"/>), so this client stands aside.
/// </summary>
public sealed class IngestClient : BackgroundService
{
    private readonly CollectorOptions _options;
    private readonly BrokerEndpoint _endpoint;
    private readonly IngestPipeline _pipeline;
    private readonly IngestIntake _intake;
    private readonly LogThrottle _refusalLog;
    private readonly EmbeddedBroker? _embedded;
    private readonly TimeProvider _clock;
    private readonly ILogger<IngestClient> _logger;
    private readonly IMqttClient _client;
    private readonly SemaphoreSlim _disconnected = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IReadOnlyList<IIngestClientCompanion> _companions;
    private readonly IngestSubscriptions _subscriptions;

    public IngestClient(IOptions<CollectorOptions> options, BrokerEndpoint endpoint, IngestPipeline pipeline, IngestIntake intake, IServiceProvider services, TimeProvider clock, ILogger<IngestClient> logger)
    {
        // The root's companions and every site's (Home Assistant publishes per site).
        var sites = services.GetService(typeof(SiteServicesCatalog)) as SiteServicesCatalog;
        _companions = [.. (services.GetService(typeof(IEnumerable<IIngestClientCompanion>)) as IEnumerable<IIngestClientCompanion> ?? []),
            .. sites?.All.SelectMany(s => s.Services.GetServices<IIngestClientCompanion>()) ?? []];
        _subscriptions = new IngestSubscriptions(sites?.Catalog.Sites.Select(s => s.Site).ToList() ?? [], options.Value.DataDirectory);
        _intake = intake;
        _embedded = options.Value.Broker.Embedded ? services.GetService(typeof(EmbeddedBroker)) as EmbeddedBroker : null;
        _options = options.Value;
        _endpoint = endpoint;
        _pipeline = pipeline;
        _clock = clock;
        _refusalLog = new LogThrottle(clock, TimeSpan.FromSeconds(10));
        _logger = logger;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !_stopping.IsCancellationRequested)
            {
                _logger.LogWarning(e.Exception, "Ingest lost the broker: {Reason}", e.Reason);
                _disconnected.Release();
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>Connected and subscribed; with the embedded broker: the broker runs.</summary>
    public bool IsConnected => _embedded is { } broker ? broker.Server is { IsStarted: true } : _client.IsConnected;

    /// <summary>
    /// Starts, and waits (up to 10 s) for the first subscription, so that the collector counts as
    /// started only when it receives what devices publish from then on.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_embedded is not null)
        {
            _subscribed.TrySetResult();
            return;
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _subscribed.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Ingest is not subscribed at {Broker} yet; it keeps trying in the background", _endpoint.Address);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogDebug(e, "Ingest disconnect failed");
            }
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        _disconnected.Dispose();
        _stopping.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5), _clock);
        var clientOptions = BuildOptions();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_client.IsConnected)
            {
                try
                {
                    await _disconnected.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                var result = await _client.ConnectAsync(clientOptions, stoppingToken).ConfigureAwait(false);
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                {
                    _logger.LogError("Broker {Broker} refused the ingest connection: {Code} {Reason}", _endpoint.Address, result.ResultCode, result.ReasonString);
                }
                else
                {
                    // The owned sites' topics only; the broker keeps the session's earlier filters, so
                    // those of a site no longer owned (and the wildcard of earlier versions) are dropped.
                    var stale = _subscriptions.Stale(result.IsSessionPresent);
                    foreach (var chunk in stale.Chunk(IngestSubscriptions.FiltersPerPacket))
                    {
                        var unsubscribe = new MqttClientUnsubscribeOptionsBuilder();
                        foreach (var filter in chunk)
                        {
                            unsubscribe.WithTopicFilter(filter);
                        }

                        await _client.UnsubscribeAsync(unsubscribe.Build(), stoppingToken).ConfigureAwait(false);
                    }

                    foreach (var chunk in _subscriptions.Filters.Concat(_companions.SelectMany(c => c.Filters)).Chunk(IngestSubscriptions.FiltersPerPacket))
                    {
                        var subscribe = new MqttClientSubscribeOptionsBuilder();
                        foreach (var filter in chunk)
                        {
                            subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
                        }

                        await _client.SubscribeAsync(subscribe.Build(), stoppingToken).ConfigureAwait(false);
                    }

                    _subscriptions.Remember();
                    _logger.LogInformation("Ingest subscribed at {Broker} (session present: {Session})", _endpoint.Address, result.IsSessionPresent);
                    _subscribed.TrySetResult();
                    foreach (var companion in _companions)
                    {
                        await companion.OnConnectedAsync(PublishAsync, stoppingToken).ConfigureAwait(false);
                    }

                    backoff.Reset();
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Ingest cannot reach broker {Broker}; retrying in about {Delay}", _endpoint.Address, backoff.Current);
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

    /// <summary>
    /// One line per interval, with how many were not logged: a hostile device can be refused
    /// thousands of times a second; <c>ntp_ingest_rejected_total{rule}</c> counts every one.
    /// </summary>
    private void LogRefusal(string topic, string reason)
    {
        if (!_refusalLog.TryTake(out var suppressed))
        {
            return;
        }

        _logger.LogWarning("Refused message on {Topic}: {Reason} ({Suppressed} more refused since the last line)", IngestIntake.Printable(topic), reason, suppressed);
    }

    /// <summary>Publishes on the collector's connection; false when it is down (the companion publishes again on reconnect).</summary>
    private async Task<bool> PublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected)
        {
            return false;
        }

        try
        {
            var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            return result.IsSuccess;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            _logger.LogDebug(e, "Publish on {Topic} failed", message.Topic);
            return false;
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        if (_companions.FirstOrDefault(c => c.Handles(message.Topic)) is { } companion)
        {
            await companion.OnMessageAsync(message).ConfigureAwait(false);
            return;
        }

        var item = _intake.Read(message.Topic, message.Payload, _clock.GetUtcNow());
        if (item is DeadLetterItem dead)
        {
            LogRefusal(message.Topic, dead.Reason);
        }

        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce)
        {
            // Dropped and counted by the pipeline when its queue is full.
            _pipeline.TryEnqueue(item, message.Payload.Length);
            return;
        }

        // Acknowledged by the pipeline after the commit, not now. A full queue holds this handler
        // (MQTTnet hands over one message at a time), so the broker keeps the rest in the session,
        // within the receive maximum; no timeout: an error PUBACK would make the broker drop it.
        // Stopping leaves it unacknowledged, and the broker sends it again on reconnect.
        e.AutoAcknowledge = false;
        try
        {
            await _pipeline.EnqueueAsync(item, message.Payload.Length, e.AcknowledgeAsync, Timeout.InfiniteTimeSpan, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private MqttClientOptions BuildOptions()
    {
        var broker = _options.Broker;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_endpoint.Host, _endpoint.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(_options.Ingest.ClientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)_options.Ingest.SessionExpiry.TotalSeconds)
            .WithReceiveMaximum((ushort)_options.Ingest.ReceiveMaximum)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (!string.IsNullOrEmpty(broker.Username))
        {
            builder.WithCredentials(broker.Username, broker.Password ?? string.Empty);
        }

        if (_companions.Select(c => c.Will).OfType<MqttApplicationMessage>().FirstOrDefault() is { } will)
        {
            builder.WithWillTopic(will.Topic).WithWillPayload(System.Buffers.BuffersExtensions.ToArray(will.Payload)).WithWillRetain(will.Retain).WithWillQualityOfServiceLevel(will.QualityOfServiceLevel);
        }

        return builder.Build();
    }
}
