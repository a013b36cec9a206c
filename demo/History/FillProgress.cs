using System.Diagnostics;
using System.Globalization;

namespace NewTechPark.Edge.Demo.History;

/// <summary>
/// The fill's progress on the console: percent, months done, readings a second and the time left.
/// On a terminal one line redrawn in place (at most 4 times a second); into a file or a pipe a
/// plain line every 5 seconds, so a log stays readable.
/// </summary>
public sealed class FillProgress(TextWriter output, bool terminal, int totalDays)
{
    private const double DaysPerMonth = 365.25 / 12;
    private static readonly TimeSpan TerminalEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(5);
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private TimeSpan? _last;

    /// <summary>Shows the state when it is time to (or always with <paramref name="force"/>).</summary>
    public void Report(int daysDone, long readings, bool force = false)
    {
        var elapsed = _watch.Elapsed;
        if (!force && _last is { } last && elapsed - last < (terminal ? TerminalEvery : PlainEvery))
        {
            return;
        }

        _last = elapsed;
        output.Write(terminal ? "\r" + Line(daysDone, readings, elapsed) + "   " : Line(daysDone, readings, elapsed) + Environment.NewLine);
        output.Flush();
    }

    /// <summary>Ends the in-place line.</summary>
    public void Finish(int daysDone, long readings)
    {
        Report(daysDone, readings, force: true);
        if (terminal)
        {
            output.WriteLine();
        }
    }

    public string Line(int daysDone, long readings, TimeSpan elapsed)
    {
        var share = totalDays == 0 ? 1 : Math.Clamp(daysDone / (double)totalDays, 0, 1);
        const int width = 24;
        var filled = (int)Math.Round(share * width);
        var rate = elapsed.TotalSeconds > 0 ? readings / elapsed.TotalSeconds : 0;
        var eta = share > 0 && share < 1 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - share) / share) : TimeSpan.Zero;
        return string.Create(CultureInfo.InvariantCulture,
            $"Demo history / geschiedenis [{new string('#', filled)}{new string('.', width - filled)}] {share * 100,3:F0} %  " +
            $"{daysDone / DaysPerMonth,4:F1}/{totalDays / DaysPerMonth:F1} months  {readings,11:N0} readings  {rate,9:N0}/s  ETA {eta:m\\:ss}");
    }
}
