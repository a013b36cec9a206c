using MQTTnet;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// Something that shares the collector's own MQTT connection to an outside broker (Home Assistant
/// discovery): it may give the connection a last will, subscribe to more topics, and is told
/// when the connection (re)starts. Messages on its topics go to it, never to the ingest pipeline.
/// </summary>
public interface IIngestClientCompanion
{
    /// <summary>The connection's last will, or null.</summary>
    MqttApplicationMessage? Will { get; }

    /// <summary>Topic filters to subscribe to (QoS 1), besides the devices' topics.</summary>
    IReadOnlyList<string> Filters { get; }

    /// <summary>Whether a message on this topic is the companion's.</summary>
    bool Handles(string topic);

    /// <summary>A message on one of the companion's topics.</summary>
    Task OnMessageAsync(MqttApplicationMessage message);

    /// <summary>The connection is up and subscribed (again); <paramref name="publish"/> sends through it.</summary>
    Task OnConnectedAsync(Func<MqttApplicationMessage, CancellationToken, Task<bool>> publish, CancellationToken cancellationToken);
}
