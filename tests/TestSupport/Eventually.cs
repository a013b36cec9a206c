namespace NewTechPark.Edge.TestSupport;

/// <summary>Polls a condition that another thread or process makes true, with a deadline (never a fixed sleep).</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    /// <summary>Polls every <paramref name="poll"/> (5 ms unless said: pass more for a costly condition).</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout ?? DefaultTimeout} waiting until {what}");
            }

            await Task.Delay(poll ?? Poll);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout ?? DefaultTimeout} waiting until {what}");
            }

            await Task.Delay(poll ?? Poll);
        }
    }
}
