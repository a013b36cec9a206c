namespace NewTechPark.Edge.Collector.Storage.Blocks;

/// <summary>
/// Decoded sealed point blocks for the read side, so a chart in minute buckets (computed from the
/// raw points, no longer from stored minute rows) does not inflate the same blocks on every call:
/// inflating a sealed block costs about 45 µs, three times its decoding. A block is known by
/// (series, start, end, count): the store never gives a stored point another value, so a block
/// with the same key holds the same points (a late point or a trim changes the count or the
/// start). Bounded by points held (16 bytes each); when full it starts over.
/// </summary>
public sealed class DecodedBlockCache
{
    /// <summary>About 16 MiB of decoded points.</summary>
    public const int MaxPoints = 1 << 20;

    private readonly Dictionary<(long Series, long Start, long End, long Count), (long[] Ts, double[] Values)> _blocks = [];
    private readonly Lock _gate = new();
    private long _points;

    public bool TryGet((long Series, long Start, long End, long Count) key, out (long[] Ts, double[] Values) block)
    {
        lock (_gate)
        {
            return _blocks.TryGetValue(key, out block);
        }
    }

    public void Add((long Series, long Start, long End, long Count) key, (long[] Ts, double[] Values) block)
    {
        lock (_gate)
        {
            if (_points + block.Ts.Length > MaxPoints)
            {
                _blocks.Clear();
                _points = 0;
            }

            if (_blocks.TryAdd(key, block))
            {
                _points += block.Ts.Length;
            }
        }
    }
}
