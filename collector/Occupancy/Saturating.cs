namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// Counting that stops at the ends instead of wrapping: no input, however large, may turn a room,
/// a drift or a visit count negative or wrap it round (1e300 crossings must not become a
/// count of -9.2e18).
/// </summary>
public static class Saturating
{
    /// <summary>a + b, held at <see cref="long.MaxValue"/> and <see cref="long.MinValue"/>.</summary>
    public static long Add(long a, long b)
    {
        var sum = unchecked(a + b);
        // Overflow only when both have the same sign and the sum's sign differs.
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : sum;
    }

    /// <summary>A count from a double: NaN is 0, anything beyond a long is held at its ends.</summary>
    public static long Count(double value) =>
        double.IsNaN(value) ? 0 : value >= long.MaxValue ? long.MaxValue : value <= long.MinValue ? long.MinValue : (long)value;
}
