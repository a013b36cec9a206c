using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Packets;
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
/// only after the pipeline committed it. The publish interceptor does not wait for the commit
/// (MQTTnet runs it on the connection's receive loop, one message at a time, so waiting there
/// would allow one commit per connection in flight): the PUBACK itself waits, in the outbound
/// packet interceptor on the connection's send loop, so a device's window of publishes is read,
/// validated and committed together while its PUBACKs leave in order. MQTTnet keeps sessions in memory only, so this is what
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
        _server.InterceptingInboundPacketAsync += NoteInboundPublish;
        _server.InterceptingPublishAsync += InterceptAsync;
        _server.InterceptingOutboundPacketAsync += HoldAcknowledgementAsync;
        await _server.StartAsync().ConfigureAwait(false);
        logger.LogInformation("Embedded MQTT broker listening on mqtt://{Address}:{Port}", broker.BindAddress, endpoint.Port);
    }

    /// <summary>
    /// Notes the packet identifier of the PUBLISH the connection's receive loop is about to
    /// process; the publish interceptor, next on the same loop, ties its commit to it.
    /// </summary>
    private static Task NoteInboundPublish(InterceptingPacketEventArgs e)
    {
        if (e.Packet is MqttPublishPacket { QualityOfServiceLevel: > MqttQualityOfServiceLevel.AtMostOnce } publish)
        {
            PendingAcknowledgements.Of(e.SessionItems).Receiving(publish.PacketIdentifier);
        }

        return Task.CompletedTask;
    }

    /// <summary>Hands a device's message to the pipeline; its PUBACK waits for the commit (<see cref="HoldAcknowledgementAsync"/>).</summary>
    private Task InterceptAsync(InterceptingPublishEventArgs e)
    {
        var message = e.ApplicationMessage;
        if (message.Topic is null || !IngestIntake.IsIngestTopic(message.Topic))
        {
            return Task.CompletedTask;
        }

        var item = intake.Read(message.Topic, message.Payload, clock.GetUtcNow());
        if (item is DeadLetterItem dead)
        {
            logger.LogWarning("Refused message on {Topic} from {Client}: {Reason}", IngestIntake.Printable(message.Topic), e.ClientId, dead.Reason);
        }

        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce)
        {
            pipeline.Enqueue(item, null);
            return Task.CompletedTask;
        }

        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PendingAcknowledgements.Of(e.SessionItems).Hold(committed.Task);
        pipeline.Enqueue(item, _ =>
        {
            committed.TrySetResult();
            return Task.CompletedTask;
        });
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends a PUBACK (or PUBREC) only once its message is committed. Runs on the connection's
    /// send loop, so the acknowledgements leave in the order of the publishes.
    /// </summary>
    private async Task HoldAcknowledgementAsync(InterceptingPacketEventArgs e)
    {
        if (e.Packet is not (MqttPubAckPacket or MqttPubRecPacket) || e.Packet is not MqttPacketWithIdentifier acknowledgement
            || !PendingAcknowledgements.TryTake(e.SessionItems, acknowledgement.PacketIdentifier, out var committed))
        {
            return;
        }

        try
        {
            await committed.WaitAsync(CommitTimeout, e.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception problem) when (problem is TimeoutException or OperationCanceledException)
        {
            // Not committed in time (disk trouble, shutting down): refuse, the device keeps it and
            // sends it again; if the commit still happens, the seq check stores it once.
            logger.LogWarning("Message {PacketId} from {Client} not committed within {Timeout}; answered with an error so the device sends it again",
                acknowledgement.PacketIdentifier, e.ClientId, CommitTimeout);
            switch (e.Packet)
            {
                case MqttPubAckPacket puback:
                    puback.ReasonCode = MqttPubAckReasonCode.ImplementationSpecificError;
                    puback.ReasonString = "not committed yet, send again";
                    break;
                case MqttPubRecPacket pubrec:
                    pubrec.ReasonCode = MqttPubRecReasonCode.ImplementationSpecificError;
                    pubrec.ReasonString = "not committed yet, send again";
                    break;
            }
        }
    }

    /// <summary>
    /// Per MQTT session: the commits that PUBACKs wait for, by packet identifier. Written by the
    /// connection's receive loop, read by its send loop.
    /// </summary>
    private sealed class PendingAcknowledgements
    {
        private const string Key = "ntp.pending-acknowledgements";

        private readonly ConcurrentDictionary<ushort, Task> _commits = new();
        private ushort _receiving;

        public static PendingAcknowledgements Of(System.Collections.IDictionary sessionItems)
        {
            if (sessionItems[Key] is PendingAcknowledgements known)
            {
                return known;
            }

            var created = new PendingAcknowledgements();
            sessionItems[Key] = created;
            return created;
        }

        public static bool TryTake(System.Collections.IDictionary sessionItems, ushort packetId, out Task committed)
        {
            committed = Task.CompletedTask;
            return sessionItems[Key] is PendingAcknowledgements pending && pending._commits.TryRemove(packetId, out committed!);
        }

        /// <summary>A new PUBLISH with this identifier: anything an earlier connection left under it is void.</summary>
        public void Receiving(ushort packetId)
        {
            _receiving = packetId;
            _commits.TryRemove(packetId, out _);
        }

        public void Hold(Task committed) => _commits[_receiving] = committed;
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
