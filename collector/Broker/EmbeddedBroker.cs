using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Server;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Broker;

/// <summary>
/// MQTTnet's broker inside the collector, so one command runs the whole system. Persistent
/// sessions keep what a disconnected subscriber has not acknowledged; the per-client queue is
/// large, and anything it still drops is logged and counted, never silent.
/// <para>
/// Ingest happens inside the broker: a device's <c>readings</c> or <c>status</c> message is
/// handed to the ingest pipeline from the publish interceptor, and the broker sends the PUBACK
/// only after the pipeline committed it. MQTTnet keeps sessions in memory only, so this is what
/// makes the embedded broker safe: a message the device saw acknowledged is already in SQLite,
/// and a collector killed with kill -9 (broker and all) loses nothing; what it had not
/// acknowledged the device still holds in its outbox and sends again.
/// </para>
/// </summary>
public sealed class EmbeddedBroker(
    IOptions<CollectorOptions> options,
    BrokerEndpoint endpoint,
    IngestPipeline pipeline,
    IngestIntake intake,
    CollectorMetrics metrics,
    TimeProvider clock,
    ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>How long a publisher waits for the commit before it gets an error PUBACK (and sends again).</summary>
    public static readonly TimeSpan CommitTimeout = TimeSpan.FromSeconds(8);

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
            // A collector restarted right after a crash must get its port back despite TIME_WAIT.
            .WithDefaultEndpointReuseAddress()
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
        _server.InterceptingPublishAsync += InterceptAsync;
        await _server.StartAsync().ConfigureAwait(false);
        logger.LogInformation("Embedded MQTT broker listening on mqtt://{Address}:{Port}", broker.BindAddress, endpoint.Port);
    }

    /// <summary>Commits a device's message before the broker acknowledges it.</summary>
    private async Task InterceptAsync(InterceptingPublishEventArgs e)
    {
        var message = e.ApplicationMessage;
        if (message.Topic is null || !IngestIntake.IsIngestTopic(message.Topic))
        {
            return;
        }

        var item = intake.Read(message.Topic, message.Payload, clock.GetUtcNow());
        if (item is DeadLetterItem dead)
        {
            logger.LogWarning("Refused message on {Topic} from {Client}: {Reason}", IngestIntake.Printable(message.Topic), e.ClientId, dead.Reason);
        }

        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pipeline.Enqueue(item, _ =>
        {
            committed.TrySetResult();
            return Task.CompletedTask;
        });
        try
        {
            await committed.Task.WaitAsync(CommitTimeout, e.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception problem) when (problem is TimeoutException or OperationCanceledException)
        {
            // Not committed in time (disk trouble, shutting down): refuse, the device keeps it and
            // sends it again; if the commit still happens, the seq check stores it once.
            logger.LogWarning("Message on {Topic} from {Client} not committed within {Timeout}; answered with an error so the device sends it again",
                IngestIntake.Printable(message.Topic), e.ClientId, CommitTimeout);
            e.ProcessPublish = false;
            e.Response.ReasonCode = MqttPubAckReasonCode.ImplementationSpecificError;
            e.Response.ReasonString = "not committed yet, send again";
        }
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
