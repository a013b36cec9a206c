using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// The unattended monthly report (<c>Collector:Report:Monthly</c>; off while <c>Folder</c> is
/// empty). On the first day of a month, <c>SettleTime</c> after local midnight, it writes the
/// previous month; at start and after each run it also writes missed months, back to
/// <c>CatchUpMonths</c> finished months (a collector that was down on the first catches up, and
/// a month before the store's first data gets no empty report). Finished files are never replaced.
/// </summary>
public sealed class MonthlyReportSchedule(MonthlyReportWriter writer, SiteModel site, IOptions<CollectorOptions> options, TimeProvider clock, ILogger<MonthlyReportSchedule> logger)
    : BackgroundService
{
    /// <summary>The schedule looks again at least this often (clock changes, a failed write).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromHours(6);

    private readonly TimeZoneInfo _zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Report.Monthly;
        if (string.IsNullOrWhiteSpace(settings.Folder))
        {
            return;
        }

        try
        {
            // Off the start-up path: the host and the broker come up first.
            await Task.Yield();
            while (!stoppingToken.IsCancellationRequested)
            {
                var (lastDue, next) = Due(clock.GetUtcNow(), settings.SettleTime);
                for (var month = lastDue.AddMonths(1 - settings.CatchUpMonths); month <= lastDue; month = month.AddMonths(1))
                {
                    stoppingToken.ThrowIfCancellationRequested();
                    if (MonthlyReportWriter.IsComplete(settings.Folder, month))
                    {
                        continue;
                    }

                    try
                    {
                        writer.Write(month, settings.Folder, skipEmpty: true);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
                    {
                        logger.LogWarning(e, "Writing the monthly report {Month:yyyy-MM} to {Folder} failed; trying again within {Wait}", month, settings.Folder, MaxWait);
                    }
                }

                var wait = next - clock.GetUtcNow();
                await Task.Delay(wait <= TimeSpan.Zero ? TimeSpan.FromSeconds(1) : wait < MaxWait ? wait : MaxWait, clock, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The last month whose report is due at <paramref name="now"/>, and when the next one falls due.</summary>
    public (DateOnly LastDue, DateTimeOffset Next) Due(DateTimeOffset now, TimeSpan settle)
    {
        var local = TimeZoneInfo.ConvertTime(now, _zone);
        var thisMonth = new DateOnly(local.Year, local.Month, 1);
        var runAt = Midnight(thisMonth) + settle;
        return now >= runAt ? (thisMonth.AddMonths(-1), Midnight(thisMonth.AddMonths(1)) + settle) : (thisMonth.AddMonths(-2), runAt);
    }

    private DateTimeOffset Midnight(DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, _zone.GetUtcOffset(local));
    }
}
