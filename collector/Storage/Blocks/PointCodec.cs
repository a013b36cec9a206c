using System.Buffers.Binary;
using System.IO.Compression;

namespace NewTechPark.Edge.Collector.Storage.Blocks;

/// <summary>
/// The byte layout of one block of raw points of one series (<c>point_blocks.data</c>), points in
/// strictly increasing time:
/// <c>[version][flags][count varint][body]</c>, body = <c>[ts length varint][timestamps][values]</c>,
/// Deflate-compressed when the block is sealed and that is smaller (flag <see cref="Deflated"/>).
/// Timestamps: the first as a zigzag varint, then the first delta, then deltas of deltas (regular
/// sampling costs one byte a point, and Deflate folds the runs). Values: when every value of the
/// block is an exact decimal with at most 6 digits after the point, the scaled integers as zigzag
/// varint deltas (a reading of 21.37 °C after 21.36 costs one byte); otherwise each value's bits
/// XOR the previous value's, with only the bytes that differ.
/// </summary>
public static class PointCodec
{
    public const byte Version = 1;

    /// <summary>Flags bit: the body is Deflate-compressed.</summary>
    public const byte Deflated = 0x80;

    /// <summary>Flags bit: the block is sealed (no more appends; the writer starts a new one).</summary>
    public const byte Sealed = 0x40;

    /// <summary>The low bits of the flags: the decimal scale 0..6, or <see cref="XorMode"/>.</summary>
    public const byte XorMode = 0x0F;

    public const int MaxScale = 6;

    private static readonly double[] Powers = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
    private const double MaxExact = 9_007_199_254_740_992; // 2^53

    /// <summary>Whether <paramref name="value"/> is exactly <c>m / 10^scale</c> for an integer m below 2^53 (bit for bit, so -0.0 is not).</summary>
    public static bool Fits(double value, int scale, out long scaled)
    {
        scaled = 0;
        var m = Math.Round(value * Powers[scale]);
        if (!(Math.Abs(m) < MaxExact))
        {
            return false;
        }

        // Through the integer, as the decoder computes it (so -0.0, whose integer is 0, does not fit).
        var integer = (long)m;
        if (BitConverter.DoubleToInt64Bits(integer / Powers[scale]) != BitConverter.DoubleToInt64Bits(value))
        {
            return false;
        }

        scaled = integer;
        return true;
    }

    /// <summary>The smallest scale at which the value is exact, or -1.</summary>
    public static int ScaleOf(double value)
    {
        for (var k = 0; k <= MaxScale; k++)
        {
            if (Fits(value, k, out _))
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>Encodes points (strictly increasing times) as one block.</summary>
    public static byte[] Encode(ReadOnlySpan<long> ts, ReadOnlySpan<double> values, bool seal)
    {
        var encoder = new PointEncoder();
        for (var i = 0; i < ts.Length; i++)
        {
            encoder.Append(ts[i], values[i]);
        }

        return encoder.ToBlock(seal);
    }

    /// <summary>Whether the block is sealed.</summary>
    public static bool IsSealed(ReadOnlySpan<byte> block) => block.Length >= 2 && (block[1] & Sealed) != 0;

    /// <summary>Decodes a block; throws <see cref="InvalidDataException"/> on a damaged or unknown one.</summary>
    public static (long[] Ts, double[] Values) Decode(ReadOnlySpan<byte> block)
    {
        if (block.Length < 3 || block[0] != Version)
        {
            throw new InvalidDataException($"point block of {block.Length} bytes has an unknown version {(block.Length > 0 ? block[0] : -1)}");
        }

        var flags = block[1];
        var pos = 2;
        var count = checked((int)ReadVarint(block, ref pos));
        if (count > 1_000_000)
        {
            throw new InvalidDataException($"point block claims {count} points");
        }

        ReadOnlySpan<byte> body = block[pos..];
        if ((flags & Deflated) != 0)
        {
            body = Inflate(body);
        }

        pos = 0;
        var tsLength = checked((int)ReadVarint(body, ref pos));
        var tsBytes = body.Slice(pos, tsLength);
        var valueBytes = body[(pos + tsLength)..];
        var ts = new long[count];
        var values = new double[count];
        pos = 0;
        long last = 0, delta = 0;
        for (var i = 0; i < count; i++)
        {
            var z = Unzig(ReadVarint(tsBytes, ref pos));
            if (i == 0)
            {
                last = z;
            }
            else if (i == 1)
            {
                delta = z;
                last += delta;
            }
            else
            {
                delta += z;
                last += delta;
            }

            ts[i] = last;
        }

        pos = 0;
        var scale = flags & XorMode;
        if (scale == XorMode)
        {
            long bits = 0;
            for (var i = 0; i < count; i++)
            {
                if (i == 0)
                {
                    bits = BinaryPrimitives.ReadInt64LittleEndian(valueBytes.Slice(pos, 8));
                    pos += 8;
                }
                else
                {
                    var head = valueBytes[pos++];
                    if (head != 0)
                    {
                        var lz = (head - 1) >> 3;
                        var tz = (head - 1) & 7;
                        var n = 8 - lz - tz;
                        ulong x = 0;
                        for (var b = 0; b < n; b++)
                        {
                            x |= (ulong)valueBytes[pos++] << (8 * (tz + b));
                        }

                        bits ^= (long)x;
                    }
                }

                values[i] = BitConverter.Int64BitsToDouble(bits);
            }
        }
        else
        {
            if (scale > MaxScale)
            {
                throw new InvalidDataException($"point block has scale {scale}");
            }

            long m = 0;
            for (var i = 0; i < count; i++)
            {
                m += Unzig(ReadVarint(valueBytes, ref pos));
                values[i] = m / Powers[scale];
            }
        }

        return (ts, values);
    }

    private static byte[] Inflate(ReadOnlySpan<byte> body)
    {
        var pos = 0;
        var length = checked((int)ReadVarint(body, ref pos));
        if (length > 64 * 1024 * 1024)
        {
            throw new InvalidDataException($"point block inflates to {length} bytes");
        }

        var output = new byte[length];
        using var stream = new DeflateStream(new MemoryStream(body[pos..].ToArray()), CompressionMode.Decompress);
        stream.ReadExactly(output);
        return output;
    }

    internal static byte[] Deflate(ReadOnlySpan<byte> body)
    {
        var output = new MemoryStream();
        WriteVarint(output, (ulong)body.Length);
        using (var stream = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            stream.Write(body);
        }

        return output.ToArray();
    }

    internal static ulong Zig(long v) => (ulong)((v << 1) ^ (v >> 63));

    internal static long Unzig(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    internal static void WriteVarint(Stream stream, ulong v)
    {
        while (v >= 0x80)
        {
            stream.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }

        stream.WriteByte((byte)v);
    }

    internal static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong v = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new InvalidDataException("point block ends inside a number");
            }

            var b = data[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return v;
            }
        }

        throw new InvalidDataException("point block has an overlong number");
    }
}

/// <summary>
/// Builds one block point by point (the writer's open block): appending a newer point costs a few
/// bytes in two growing buffers, no re-encoding, unless the value needs a finer scale than the
/// block had (then the block is re-encoded once at that scale, or as XOR).
/// </summary>
public sealed class PointEncoder
{
    private MemoryStream _ts = new();
    private MemoryStream _values = new();
    private long _lastTs;
    private long _lastDelta;
    private long _lastScaled;
    private long _lastBits;
    private int _scale; // 0..6, or -1 for XOR
    private int _count;

    public int Count => _count;

    public long FirstTs { get; private set; }

    public long LastTs => _lastTs;

    public double LastValue { get; private set; }

    /// <summary>Encoded bytes so far, before any compression.</summary>
    public long Length => _ts.Length + _values.Length + 8;

    public static PointEncoder From(ReadOnlySpan<long> ts, ReadOnlySpan<double> values)
    {
        var encoder = new PointEncoder();
        for (var i = 0; i < ts.Length; i++)
        {
            encoder.Append(ts[i], values[i]);
        }

        return encoder;
    }

    /// <summary>Adds a point newer than every point of the block.</summary>
    public void Append(long ts, double value)
    {
        if (_count > 0 && ts <= _lastTs)
        {
            throw new ArgumentOutOfRangeException(nameof(ts), $"point at {ts} is not after the block's last point at {_lastTs}");
        }

        if (_count == 0)
        {
            _scale = PointCodec.ScaleOf(value);
            FirstTs = ts;
            PointCodec.WriteVarint(_ts, PointCodec.Zig(ts));
        }
        else if (_count == 1)
        {
            _lastDelta = ts - _lastTs;
            PointCodec.WriteVarint(_ts, PointCodec.Zig(_lastDelta));
        }
        else
        {
            var delta = ts - _lastTs;
            PointCodec.WriteVarint(_ts, PointCodec.Zig(delta - _lastDelta));
            _lastDelta = delta;
        }

        AppendValue(value);
        _lastTs = ts;
        LastValue = value;
        _count++;
    }

    private void AppendValue(double value)
    {
        var bits = BitConverter.DoubleToInt64Bits(value);
        if (_scale >= 0)
        {
            if (PointCodec.Fits(value, _scale, out var scaled))
            {
                PointCodec.WriteVarint(_values, PointCodec.Zig(_count == 0 ? scaled : scaled - _lastScaled));
                _lastScaled = scaled;
                _lastBits = bits;
                return;
            }

            Rescale(value);
            return;
        }

        if (_count == 0)
        {
            Span<byte> raw = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(raw, bits);
            _values.Write(raw);
        }
        else
        {
            var x = (ulong)(bits ^ _lastBits);
            if (x == 0)
            {
                _values.WriteByte(0);
            }
            else
            {
                var lz = System.Numerics.BitOperations.LeadingZeroCount(x) / 8;
                var tz = System.Numerics.BitOperations.TrailingZeroCount(x) / 8;
                _values.WriteByte((byte)(1 + (lz * 8) + tz));
                for (var b = tz; b < 8 - lz; b++)
                {
                    _values.WriteByte((byte)(x >> (8 * b)));
                }
            }
        }

        _lastBits = bits;
    }

    /// <summary>The value needs a finer scale (or none): re-encode the values written so far, then add it.</summary>
    private void Rescale(double value)
    {
        var (ts, values) = PointCodec.Decode(ToBlock(seal: false));
        var scale = PointCodec.ScaleOf(value);
        if (scale >= 0)
        {
            foreach (var v in values)
            {
                if (!PointCodec.Fits(v, scale, out _))
                {
                    scale = -1;
                    break;
                }
            }
        }

        _values = new MemoryStream();
        _scale = scale;
        var count = _count;
        for (_count = 0; _count < count; _count++)
        {
            AppendValue(values[_count]);
        }

        _ = ts;
        AppendValue(value);
    }

    /// <summary>The block's bytes; a sealed block is Deflate-compressed when that is smaller.</summary>
    public byte[] ToBlock(bool seal)
    {
        var body = new MemoryStream((int)Length);
        PointCodec.WriteVarint(body, (ulong)_ts.Length);
        body.Write(_ts.GetBuffer(), 0, (int)_ts.Length);
        body.Write(_values.GetBuffer(), 0, (int)_values.Length);
        var flags = (byte)(_scale < 0 ? PointCodec.XorMode : _scale);
        ReadOnlySpan<byte> payload = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (seal)
        {
            flags |= PointCodec.Sealed;
            var deflated = PointCodec.Deflate(payload);
            if (deflated.Length < payload.Length)
            {
                flags |= PointCodec.Deflated;
                payload = deflated;
            }
        }

        var block = new MemoryStream(payload.Length + 8);
        block.WriteByte(PointCodec.Version);
        block.WriteByte(flags);
        PointCodec.WriteVarint(block, (ulong)_count);
        block.Write(payload);
        return block.ToArray();
    }
}
