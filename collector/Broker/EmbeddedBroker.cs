using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Packets;
using MQTTnet.Server;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Broker.Transport;
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
/// <para>
/// Every client logs in (anonymous connections are refused) and may touch only its own topics
/// (<see cref="BrokerAuthorization"/>); what is refused is counted and logged with the client id.
/// </para>
/// </summary>
public sealed class EmbeddedBroker(
    IOptions<CollectorOptions> options,
    BrokerEndpoint endpoint,
    BrokerCredentials credentials,
    BrokerAuthorization authorization,
    IngestPipeline pipeline,
    IngestIntake intake,
    CollectorMetrics metrics,
    TimeProvider clock,
    ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>How long a publisher waits for the commit before it gets an error PUBACK (and sends again).</summary>
    public static readonly TimeSpan CommitTimeout = TimeSpan.FromSeconds(8);

    /// <summary>Refusals are logged at most once per client in this time, with how many there were.</summary>
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    private readonly LogThrottle<string> _refusals = new(clock, RefusalLogInterval);
    private readonly ConnectThrottle _throttle = new(clock);
    private MqttServer? _server;
    private LimitedServerAdapter? _transport;

    public MqttServer? Server => _server;

    /// <summary>Sockets open on the broker's listeners now, before and after login.</summary>
    public int OpenConnections => _transport?.OpenConnections ?? 0;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var broker = options.Value.Broker;
        RefuseTakenPorts(broker, endpoint);

        // The listeners are ours (Transport/LimitedServerAdapter): MQTTnet's own reads a packet of
        // any size before login. Neither sets ReuseAddress: in .NET on Linux it sets SO_REUSEPORT,
        // and a second collector could then bind the same port and take half the devices. A
        // restart right after a crash still gets the port back (.NET sets SO_REUSEADDR on Unix,
        // which covers TIME_WAIT).
        var builder = new MqttServerOptionsBuilder()
            .WithPersistentSessions(true)
            .WithMaxPendingMessagesPerClient(broker.MaxPendingMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage);
        List<TransportEndpoint> endpoints = [new("Collector:Broker:Port", IPAddress.Parse(broker.BindAddress), endpoint.Port, null)];
        if (broker.Tls.Enabled)
        {
            endpoints.Add(new("Collector:Broker:Tls:Port", IPAddress.Parse(broker.Tls.BindAddress), broker.Tls.Port, LoadCertificate(broker.Tls)));
        }

        if (!IPAddress.IsLoopback(IPAddress.Parse(broker.BindAddress)))
        {
            logger.LogWarning("Plain MQTT (no TLS) listens on {Address}: passwords and readings cross the network readable. Use the TLS listener (Collector:Broker:Tls) for devices on a shared network",
                broker.BindAddress);
        }

        if (credentials.Count == 0)
        {
            logger.LogWarning("No MQTT users are configured (Collector:Broker:Users or Collector:Broker:PasswordFile): every connection will be refused. See README, 'Provisioning a device'");
        }

        _transport = new LimitedServerAdapter(endpoints, broker.Limits, new TransportRefusals(metrics, clock, logger), clock, logger);
        _server = new MqttServerFactory().CreateMqttServer(builder.Build(), [_transport]);
        _server.ValidatingConnectionAsync += ValidateConnectionAsync;
        _server.InterceptingSubscriptionAsync += InterceptSubscriptionAsync;
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
        logger.LogInformation("Embedded MQTT broker listening on mqtt://{Address}:{Port}{Tls} with {Users} user(s)",
            broker.BindAddress, endpoint.Port, broker.Tls.Enabled ? $" and mqtts://{broker.Tls.BindAddress}:{broker.Tls.Port}" : string.Empty, credentials.Count);
    }

    /// <summary>
    /// The ports are tried before MQTTnet binds them, so a taken one stops the start with an error
    /// that names the setting (<see cref="BrokerPortInUseException"/>, exit 2), not with a socket
    /// error from inside the server. Program calls it before the host starts, too, so the refusal
    /// is not also logged with a stack trace as a failed start.
    /// </summary>
    public static void RefuseTakenPorts(EmbeddedBrokerOptions broker, BrokerEndpoint endpoint)
    {
        if (!broker.Embedded)
        {
            return;
        }

        RefuseTakenPort("Collector:Broker:Port", broker.BindAddress, endpoint.Port);
        if (broker.Tls.Enabled)
        {
            RefuseTakenPort("Collector:Broker:Tls:Port", broker.Tls.BindAddress, broker.Tls.Port);
        }
    }

    private static void RefuseTakenPort(string setting, string bindAddress, int port)
    {
        if (!BrokerEndpoint.IsFree(IPAddress.Parse(bindAddress), port))
        {
            throw new BrokerPortInUseException(setting, bindAddress, port);
        }
    }

    /// <summary>Only known users with their own password and their own client id get in.</summary>
    private Task ValidateConnectionAsync(ValidatingConnectionEventArgs e)
    {
        if (string.IsNullOrEmpty(e.UserName))
        {
            Refuse(e, MqttConnectReasonCode.NotAuthorized, "anonymous", "anonymous connections are not allowed; log in with the device's user name and password");
        }
        else if (LoggedIn(e) && !authorization.MayUseClientId(e.UserName, e.ClientId))
        {
            Refuse(e, MqttConnectReasonCode.ClientIdentifierNotValid, "foreign_client_id",
                $"client id '{IngestIntake.Printable(e.ClientId)}' does not belong to user '{e.UserName}' (use 'ntp-{{site}}-{e.UserName}' or '{e.UserName}')");
        }
        else if (e.ReasonCode == MqttConnectReasonCode.Success)
        {
            // Remembered so that a reload of the password file can find the user's connections.
            e.SessionItems[UserKey] = e.UserName;
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Checks the password, refusing with a reason when it fails. Failures are throttled, not
    /// successes: an address past its failures gets 0x97 without a PBKDF2 run, unless the password
    /// already logged in (keyed hash) or its occasional full check comes up, so a correct device
    /// behind the guesser's NAT address still gets in.
    /// </summary>
    private bool LoggedIn(ValidatingConnectionEventArgs e)
    {
        if (!_throttle.IsBlocked(e.RemoteEndPoint))
        {
            if (credentials.Check(e.UserName, e.RawPassword))
            {
                return true;
            }

            _throttle.Failed(e.RemoteEndPoint);
            Refuse(e, MqttConnectReasonCode.BadUserNameOrPassword, "bad_credentials", "unknown user name or wrong password");
            return false;
        }

        if (credentials.IsRemembered(e.UserName, e.RawPassword))
        {
            return true;
        }

        if (_throttle.TryTakeSlowCheck(e.RemoteEndPoint))
        {
            if (credentials.Check(e.UserName, e.RawPassword))
            {
                return true;
            }

            _throttle.Failed(e.RemoteEndPoint);
        }

        Refuse(e, MqttConnectReasonCode.QuotaExceeded, "too_many_failures", "too many failed logins from this address; wait a minute");
        return false;
    }

    private const string UserKey = "ntp.user";

    /// <summary>
    /// Closes the connections of users removed from the password file or given a new password
    /// (reason 0x87, not authorised): a removed device must not keep publishing on a connection
    /// it opened before. They cannot log in again with the old password.
    /// </summary>
    public async Task DisconnectUsersAsync(IReadOnlyCollection<string> users)
    {
        if (_server is not { IsStarted: true } server)
        {
            return;
        }

        foreach (var client in await server.GetClientsAsync().ConfigureAwait(false))
        {
            if (client.Session?.Items[UserKey] is string user && users.Contains(user))
            {
                logger.LogWarning("Disconnecting client {Client} of user {User}: removed from the password file or given a new password", client.Id, user);
                await client.DisconnectAsync(new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.NotAuthorized, ReasonString = "credentials withdrawn" }).ConfigureAwait(false);
            }
        }
    }

    private void Refuse(ValidatingConnectionEventArgs e, MqttConnectReasonCode code, string reason, string text)
    {
        e.ReasonCode = code;
        e.ReasonString = text;
        metrics.BrokerRefused.WithLabels("connect", reason).Inc();
        LogRefusal(e.ClientId ?? string.Empty, "Refused the connection of client {Client} (user {User}) from {Remote}: {Reason}",
            IngestIntake.Printable(e.ClientId ?? string.Empty), IngestIntake.Printable(e.UserName ?? "(none)"), e.RemoteEndPoint?.ToString() ?? "?", text);
    }

    /// <summary>A device subscribes only below its own topics; a reader below <c>ntp/v1/</c>.</summary>
    private Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs e)
    {
        var filter = e.TopicFilter.Topic ?? string.Empty;
        if (!authorization.MaySubscribe(e.UserName ?? string.Empty, filter))
        {
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            e.ReasonString = "not authorised for this topic filter";
            metrics.BrokerRefused.WithLabels("subscribe", "not_authorized").Inc();
            LogRefusal(e.ClientId, "Refused the subscription of client {Client} (user {User}) to {Filter}: not its topics",
                e.ClientId, e.UserName ?? "(none)", IngestIntake.Printable(filter));
        }

        return Task.CompletedTask;
    }

    private void LogRefusal(string client, string message, params object?[] args)
    {
        // A misconfigured or hostile client can be refused thousands of times a second; the log
        // gets one line per client per interval, the metric counts every one.
        if (!_refusals.TryTake(client, out var suppressed))
        {
            return;
        }

#pragma warning disable CA2254 // the templates are the constant strings above
        logger.LogWarning(suppressed > 0 ? message + $" ({suppressed} more refusals of this client since the last line)" : message, args);
#pragma warning restore CA2254
    }

    private static X509Certificate2 LoadCertificate(TlsListenerOptions tls)
    {
        var file = tls.CertificateFile!;
        try
        {
            return file.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
                ? X509CertificateLoader.LoadPkcs12FromFile(file, tls.CertificatePassword)
                : X509Certificate2.CreateFromPemFile(file, tls.KeyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new OptionsValidationException(nameof(CollectorOptions), typeof(CollectorOptions),
                [$"Collector:Broker:Tls: cannot load the certificate '{file}'{(tls.KeyFile is null ? string.Empty : $" with key '{tls.KeyFile}'")}: {e.Message}"]);
        }
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
        // An empty client id is the broker itself; every client has an id once connected.
        if (!string.IsNullOrEmpty(e.ClientId) && !authorization.MayPublish(e.UserName ?? string.Empty, message.Topic ?? string.Empty))
        {
            e.ProcessPublish = false;
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            e.Response.ReasonString = "not authorised to publish on this topic";
            metrics.BrokerRefused.WithLabels("publish", "not_authorized").Inc();
            LogRefusal(e.ClientId, "Refused a publish of client {Client} (user {User}) on {Topic}: a device publishes only its own ntp/v1/{{site}}/{{device}}/readings and /status",
                e.ClientId, e.UserName ?? "(none)", IngestIntake.Printable(message.Topic ?? string.Empty));
            return Task.CompletedTask;
        }

        if (message.Topic is null || !IngestIntake.IsIngestTopic(message.Topic))
        {
            return Task.CompletedTask;
        }

        var item = intake.Read(message.Topic, message.Payload, clock.GetUtcNow());
        if (item is DeadLetterItem dead)
        {
            // Acknowledged once it is kept as a dead letter (the device must not send it for ever),
            // but never passed on to subscribers or kept as a retained message.
            e.ProcessPublish = false;
            LogRefusal(e.ClientId ?? string.Empty, "Refused message on {Topic} from {Client}: {Reason}", IngestIntake.Printable(message.Topic), e.ClientId ?? string.Empty, dead.Reason);
        }

        var bytes = message.Payload.Length;
        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce)
        {
            // Dropped and counted by the pipeline when its queue is full: nobody sends it again.
            pipeline.TryEnqueue(item, bytes);
            return Task.CompletedTask;
        }

        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<CancellationToken, Task> acknowledge = _ =>
        {
            committed.TrySetResult();
            return Task.CompletedTask;
        };
        var queued = pipeline.EnqueueAsync(item, bytes, acknowledge, CommitTimeout, e.CancellationToken);
        if (!queued.IsCompletedSuccessfully)
        {
            return WaitForRoomAsync(e, queued.AsTask(), committed.Task);
        }

        if (queued.Result)
        {
            return Hold(e, committed.Task);
        }

        RefuseFullQueue(e);
        return Task.CompletedTask;
    }

    private static Task Hold(InterceptingPublishEventArgs e, Task committed)
    {
        PendingAcknowledgements.Of(e.SessionItems).Hold(committed);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The ingest queue is full: the publish waits here, on the connection's receive loop, so the
    /// device's further packets stay in its TCP window (back-pressure). No room within
    /// <see cref="CommitTimeout"/>: an error PUBACK, and the device sends it again.
    /// </summary>
    private static async Task WaitForRoomAsync(InterceptingPublishEventArgs e, Task<bool> queued, Task committed)
    {
        bool taken;
        try
        {
            taken = await queued.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            taken = false;
        }

        if (taken)
        {
            await Hold(e, committed).ConfigureAwait(false);
            return;
        }

        RefuseFullQueue(e);
    }

    private static void RefuseFullQueue(InterceptingPublishEventArgs e)
    {
        e.ProcessPublish = false;
        e.Response.ReasonCode = MqttPubAckReasonCode.ImplementationSpecificError;
        e.Response.ReasonString = "the collector's ingest queue is full, send again";
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
