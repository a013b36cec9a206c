using System.Globalization;

namespace NewTechPark.Edge.Reliability.Tests.Infrastructure;

/// <summary>A process's memory as Linux reports it in <c>/proc/&lt;pid&gt;/status</c>.</summary>
public readonly record struct ProcessMemory(long RssBytes, long PeakRssBytes)
{
    public double RssMiB => RssBytes / 1048576.0;

    public double PeakRssMiB => PeakRssBytes / 1048576.0;

    /// <summary>VmRSS (resident now) and VmHWM (the highest resident size since start).</summary>
    public static ProcessMemory Of(int pid)
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) * 1024;
            }
        }

        return new ProcessMemory(rss, peak);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
