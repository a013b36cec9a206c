using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Storage.Sinks;

namespace NewTechPark.Edge.Collector.Sinks;

/// <summary>A chunk of line protocol waiting to be written.</summary>
public sealed record QueuedChunk(long Id, int Points, byte[] Body)
{
    public List<string> Lines() => [.. Encoding.UTF8.GetString(Body).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}

/// <summary>
/// A first-in first-out queue of line-protocol chunks in an SQLite file of its own (WAL,
/// <c>synchronous=FULL</c>): a chunk is on disk before the MQTT message it came from is
/// acknowledged, and leaves only after the sink wrote it. Bounded by bytes; past the bound the
/// oldest chunks are dropped, logged and counted. The file's SQL is in <see cref="LineProtocolQueueFile"/>.
/// </summary>
public sealed class DurableQueue : IDisposable
{
    private readonly Lock _gate = new();
    private readonly LineProtocolQueueFile _file;
    private readonly long _maxBytes;
    private readonly int _maxPointsPerChunk;
    private readonly ILogger _logger;
    private readonly Channel<byte> _signal = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _bytes;
    private long _points;
    private long _chunks;
    private long _droppedPoints;

    public DurableQueue(string path, long maxBytes, int maxPointsPerChunk, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FilePath = path;
        _maxBytes = maxBytes;
        _maxPointsPerChunk = maxPointsPerChunk;
        _logger = logger;
        _file = new LineProtocolQueueFile(path);
        (_chunks, _bytes, _points, _droppedPoints) = _file.Totals();
        if (_chunks > 0)
        {
            _signal.Writer.TryWrite(0);
        }
    }

    public string FilePath { get; }

    public long Points => Interlocked.Read(ref _points);

    public long Bytes => Interlocked.Read(ref _bytes);

    public long Chunks => Interlocked.Read(ref _chunks);

    /// <summary>Points dropped because the queue passed its byte bound (over the file's life).</summary>
    public long DroppedPoints => Interlocked.Read(ref _droppedPoints);

    /// <summary>Appends the lines in chunks, in one fsynced transaction; throws when the disk refuses.</summary>
    public void Append(IReadOnlyList<string> lines, long nowMs) => Append(lines, nowMs, null);

    /// <summary>
    /// Appends the lines and, in the same fsynced transaction, moves the watermark of
    /// <c>(site, kind)</c> to <paramref name="watermark"/>'s end (the region feed's exactly-once
    /// mark); with no lines only the watermark moves.
    /// </summary>
    public void Append(IReadOnlyList<string> lines, long nowMs, (string Site, string Kind, long UntilMs)? watermark)
    {
        if (lines.Count == 0 && watermark is null)
        {
            return;
        }

        lock (_gate)
        {
            var chunks = new List<(int Points, byte[] Body)>();
            for (var start = 0; start < lines.Count; start += _maxPointsPerChunk)
            {
                var count = Math.Min(_maxPointsPerChunk, lines.Count - start);
                chunks.Add((count, Encoding.UTF8.GetBytes(string.Join('\n', lines.Skip(start).Take(count)))));
            }

            var addedBytes = chunks.Sum(c => (long)c.Body.Length);
            var addedChunks = chunks.Count;
            var dropped = _file.Append(chunks, nowMs, Bytes, _maxBytes, watermark);
            Interlocked.Add(ref _bytes, addedBytes - dropped.Bytes);
            Interlocked.Add(ref _points, lines.Count - dropped.Points);
            Interlocked.Add(ref _chunks, addedChunks - dropped.Chunks);
            if (dropped.Chunks > 0)
            {
                Interlocked.Add(ref _droppedPoints, dropped.Points);
                _logger.LogError("The queue {Path} passed its bound of {Max} bytes: dropped the {Points} oldest point(s) ({Total} in all)",
                    FilePath, _maxBytes, dropped.Points, DroppedPoints);
            }
        }

        if (lines.Count > 0)
        {
            _signal.Writer.TryWrite(0);
        }
    }

    /// <summary>The end (exclusive, Unix ms) of the last period of <c>(site, kind)</c> queued by the region feed, or null before the first.</summary>
    public long? Watermark(string site, string kind)
    {
        lock (_gate)
        {
            return _file.Watermark(site, kind);
        }
    }

    /// <summary>The oldest chunk, or null when the queue is empty.</summary>
    public QueuedChunk? Peek()
    {
        lock (_gate)
        {
            return _file.Oldest() is { } c ? new QueuedChunk(c.Id, c.Points, c.Body) : null;
        }
    }

    /// <summary>The chunk was written: remove it.</summary>
    public void Remove(QueuedChunk chunk) => Remove(chunk, null, 0);

    /// <summary>The server refuses the chunk for good (bad data): keep it aside with the reason, out of the queue.</summary>
    public void Reject(QueuedChunk chunk, string reason, long nowMs) => Remove(chunk, reason, nowMs);

    /// <summary>Completes when something was appended since the last wait (or at once when a chunk waits).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _signal.Reader.WaitToReadAsync(cancellationToken);

    public void ResetSignal() => _signal.Reader.TryRead(out _);

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }

    private void Remove(QueuedChunk chunk, string? rejectedFor, long nowMs)
    {
        lock (_gate)
        {
            if (_file.Remove(chunk.Id, rejectedFor, chunk.Body, nowMs) is not { } bytes)
            {
                return; // dropped for the bound meanwhile
            }

            Interlocked.Add(ref _bytes, -bytes);
            Interlocked.Add(ref _points, -chunk.Points);
            Interlocked.Decrement(ref _chunks);
            if (Interlocked.Read(ref _chunks) == 0)
            {
                // Drained after a backlog: give its pages back to the file system (only when there
                // are many, so the steady state does not pay a vacuum per batch).
                _file.ReleaseFreePages(1024);
            }
        }
    }
}
