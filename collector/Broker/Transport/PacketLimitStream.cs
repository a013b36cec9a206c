namespace NewTechPark.Edge.Collector.Broker.Transport;

/// <summary>
/// The connection's (decrypted) stream as MQTTnet reads it, with <see cref="MqttFraming"/> in
/// between: a read that brings a packet over its limit, a malformed length, or the CONNECT
/// deadline ends the stream (a read returns 0, which MQTTnet takes for a closed connection) before
/// MQTTnet sees the length and allocates the body. <paramref name="refused"/> is told once, why.
/// </summary>
public sealed class PacketLimitStream(Stream inner, MqttFraming framing, CancellationToken connectDeadline, Action<PacketLimitStream> refused) : Stream
{
    private volatile bool _ended;

    public MqttFraming Framing => framing;

    /// <summary>The CONNECT did not arrive whole before the deadline.</summary>
    public bool TimedOut { get; private set; }

    public override bool CanRead => !_ended && inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return 0;
        }

        int read;
        if (framing.ConnectComplete)
        {
            read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectDeadline);
            try
            {
                read = await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (connectDeadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                TimedOut = true;
                return End();
            }
        }

        if (read > 0 && !framing.Follow(buffer.Span[..read]))
        {
            // The bytes are kept from MQTTnet: it would allocate what the length announces.
            return End();
        }

        return read;
    }

    private int End()
    {
        if (!_ended)
        {
            _ended = true;
            refused(this);
        }

        return 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
