using System.Runtime.InteropServices;

namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>
/// Whether the kernel's clock is synchronised (NTP through chrony or systemd-timesyncd), read with
/// adjtimex(2): it returns TIME_ERROR (5) while the clock is unsynchronised. A Pi without RTC boots
/// with the time of its last shutdown; readings must not be stamped with it.
/// </summary>
public static partial class ClockSync
{
    private const int TimeError = 5;

    /// <summary>True when synchronised; null when it cannot be told (not Linux, or adjtimex refused).</summary>
    public static bool? IsSynchronised()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct timex is 208 bytes on 64-bit Linux, 128 on 32-bit; modes = 0 only reads.
        Span<byte> timex = stackalloc byte[512];
        timex.Clear();
        try
        {
            var state = AdjTimex(ref MemoryMarshal.GetReference(timex));
            return state < 0 ? null : state != TimeError;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until the clock is synchronised, checking every second, for at most
    /// <paramref name="timeout"/>; true when it is (or cannot be told), false when it timed out.
    /// </summary>
    public static async Task<bool> WaitAsync(Func<bool?> isSynchronised, TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        while (isSynchronised() == false)
        {
            if (clock.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), clock, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "adjtimex", SetLastError = true)]
    private static partial int AdjTimex(ref byte timex);
}
