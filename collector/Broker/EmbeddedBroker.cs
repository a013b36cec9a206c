using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Server;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Broker;

/// <summary>
/// MQTTnet's broker inside the collector, so one command runs the whole system. Persistent
/// sessions keep what a disconnected subscriber has not acknowledged; the per-client queue is
/// large, and anything it still drops is logged and counted, never silent.
/// </summary>
public sealed class EmbeddedBroker(
    IOptions<CollectorOptions> options,
    BrokerEndpoint endpoint,
    CollectorMetrics metrics,
    ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    private MqttServer? _server;

    public MqttServer? Server => _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var broker = options.Value.Broker;
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Parse(broker.BindAddress))
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(endpoint.Port)
            .WithPersistentSessions(true)
            .WithMaxPendingMessagesPerClient(broker.MaxPendingMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(serverOptions);
        _server.QueuedApplicationMessageOverwrittenAsync += e =>
        {
            metrics.BrokerDropped.Inc();
            logger.LogError("Broker queue for {Client} is full ({Max} messages): the oldest message was dropped", e.ReceiverClientId, broker.MaxPendingMessagesPerClient);
            return Task.CompletedTask;
        };
        _server.ApplicationMessageEnqueuedOrDroppedAsync += e =>
        {
            if (e.IsDropped)
            {
                metrics.BrokerDropped.Inc();
                logger.LogError("Broker dropped a message on {Topic} for {Client}", e.ApplicationMessage.Topic, e.ReceiverClientId);
            }

            return Task.CompletedTask;
        };
        await _server.StartAsync().ConfigureAwait(false);
        logger.LogInformation("Embedded MQTT broker listening on mqtt://{Address}:{Port}", broker.BindAddress, endpoint.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { IsStarted: true })
        {
            await _server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }
}
