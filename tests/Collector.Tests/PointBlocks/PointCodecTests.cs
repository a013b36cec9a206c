using NewTechPark.Edge.Collector.Storage.Blocks;

namespace NewTechPark.Edge.Collector.Tests.PointBlocks;

public sealed class PointCodecTests
{
    public static TheoryData<double[]> EdgeValues => new()
    {
        new[] { 0.0 },
        new[] { -0.0, 0.0, -0.0 },
        new[] { 1.0, 2.0, 3.0, -4.0 },
        new[] { 21.37, 21.36, 21.4, 21.4, 21.41 },
        new[] { 0.000001, 0.1, 123456.123456, -987654.654321 },
        new[] { 1.5, Math.PI, 2.25, double.Epsilon, -double.Epsilon },
        new[] { double.MaxValue, double.MinValue, 1e308, -1e-308, 5e-324 },
        new[] { 9_007_199_254_740_991.0, -9_007_199_254_740_991.0, 9_007_199_254_740_992.0, 1e16 },
        new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1.0 },
        new[] { 0.1 + 0.2, 0.3, 1.0 / 3.0 },
        new[] { 1e-7, 2e-7, 1234.5678901 },
    };

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Edge_values_come_back_bit_for_bit(double[] values)
    {
        var ts = Enumerable.Range(0, values.Length).Select(i => 1_764_321_300_000L + (i * 1000)).ToArray();

        foreach (var seal in new[] { false, true })
        {
            AssertRoundTrip(ts, values, seal);
        }
    }

    [Theory]
    [InlineData(new long[] { 0 })]
    [InlineData(new long[] { long.MinValue, 0, long.MaxValue })]
    [InlineData(new long[] { -5_000, -4_000, 1_000_000_000_000, 1_000_000_000_001 })]
    [InlineData(new long[] { 1, 2, 4, 8, 16, 1 << 30, 1L << 40, 1L << 62 })]
    public void Irregular_and_huge_timestamp_gaps_come_back(long[] ts)
    {
        var values = ts.Select((_, i) => i * 0.5).ToArray();

        AssertRoundTrip(ts, values, seal: false);
        AssertRoundTrip(ts, values, seal: true);
    }

    [Fact]
    public void Random_blocks_of_every_kind_come_back()
    {
        var random = new Random(1515);
        for (var round = 0; round < 300; round++)
        {
            var count = random.Next(1, 3000);
            var ts = new long[count];
            var values = new double[count];
            var t = random.NextInt64(-1L << 50, 1L << 50);
            var scale = random.Next(0, 9); // 7 and 8: no decimal scale fits, XOR
            for (var i = 0; i < count; i++)
            {
                t += random.Next(4) switch
                {
                    0 => 1000,
                    1 => random.Next(1, 10),
                    2 => random.NextInt64(1, 1L << 40),
                    _ => 1000 + random.Next(-3, 4) + 3,
                };
                ts[i] = t;
                values[i] = random.Next(10) == 0 ? BitConverter.Int64BitsToDouble(random.NextInt64()) // any bits, NaN payloads too
                    : scale <= PointCodec.MaxScale ? Math.Round((random.NextDouble() - 0.5) * 2e6, scale)
                    : random.NextDouble() * 1e3;
            }

            AssertRoundTrip(ts, values, seal: round % 2 == 0);
        }
    }

    [Fact]
    public void A_finer_value_mid_block_rescales_without_changing_the_earlier_ones()
    {
        var encoder = new PointEncoder();
        double[] values = [1, 2, 2.5, 2.25, 2.125, 2.0625, 0.1234567, 7];
        for (var i = 0; i < values.Length; i++)
        {
            encoder.Append(i, values[i]);
            var (ts, decoded) = PointCodec.Decode(encoder.ToBlock(seal: false));
            Assert.Equal(Enumerable.Range(0, i + 1).Select(x => (long)x), ts);
            Assert.Equal(values.Take(i + 1).Select(BitConverter.DoubleToInt64Bits), decoded.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void Regular_decimal_readings_take_about_a_byte_each_when_sealed()
    {
        var ts = Enumerable.Range(0, 1024).Select(i => 1_764_321_300_000L + (i * 5000L)).ToArray();
        var values = Enumerable.Range(0, 1024).Select(i => Math.Round(21 + Math.Sin(i / 50.0), 2)).ToArray();

        var block = PointCodec.Encode(ts, values, seal: true);

        Assert.True(block.Length < 1.5 * ts.Length, $"{block.Length} bytes for {ts.Length} points");
        AssertRoundTrip(ts, values, seal: true);
    }

    [Fact]
    public void A_point_not_after_the_last_is_refused_by_the_encoder()
    {
        var encoder = new PointEncoder();
        encoder.Append(10, 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Append(10, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Append(9, 2));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 2, 0, 1, 0 })]
    [InlineData(new byte[] { 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(new byte[] { 1, 0x80, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void A_damaged_block_is_an_error_not_a_wrong_answer(byte[] block)
    {
        Assert.ThrowsAny<Exception>(() => PointCodec.Decode(block));
    }

    private static void AssertRoundTrip(long[] ts, double[] values, bool seal)
    {
        var block = PointCodec.Encode(ts, values, seal);
        Assert.Equal(seal, PointCodec.IsSealed(block));
        var (decodedTs, decodedValues) = PointCodec.Decode(block);
        Assert.Equal(ts, decodedTs);
        Assert.Equal(values.Select(BitConverter.DoubleToInt64Bits), decodedValues.Select(BitConverter.DoubleToInt64Bits));
    }
}
