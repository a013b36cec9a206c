using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>The live stream, <c>/api/v1/stream</c> (<c>Collector:Stream</c>): how many clients, and how far one may fall behind.</summary>
public sealed class StreamOptions
{
    /// <summary>Stream clients at once, from every address together; past it a new one gets 503.</summary>
    [Range(1, 100_000)]
    public int MaxClients { get; set; } = 200;

    /// <summary>
    /// Stream clients at once from one address; past it a new one from there gets 429. Behind a
    /// reverse proxy every client has the proxy's address: set it to <see cref="MaxClients"/> there.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxClientsPerAddress { get; set; } = 20;

    /// <summary>
    /// Events one client may have waiting to be written; a client that falls further behind is
    /// dropped (its stream ends, the browser's EventSource reconnects). The events are shared by
    /// every client, so this bounds memory once, not per client.
    /// </summary>
    [Range(100, 10_000_000)]
    public int ClientBufferEvents { get; set; } = 20_000;
}
