using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Publishing;

/// <summary>
/// The bounded hand-over between the readers (which must never block: a GPIO callback waits for
/// nobody) and the publisher.
/// </summary>
public sealed class ReadingQueue(IOptions<AgentOptions> options) : IReadingSink
{
    private readonly Channel<Reading> _channel = Channel.CreateBounded<Reading>(new BoundedChannelOptions(options.Value.Publishing.QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
        SingleWriter = false,
    });

    private long _dropped;

    public ChannelReader<Reading> Reader => _channel.Reader;

    /// <summary>Readings refused because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int Count => _channel.Reader.Count;

    public bool TryAdd(Reading reading)
    {
        if (_channel.Writer.TryWrite(reading))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }
}
