using System.Globalization;

namespace NewTechPark.Edge.Collector.CommandLine.Export;

/// <summary>
/// The times of <c>--from</c> and <c>--to</c>: a local date (its midnight in the site's zone; as
/// <c>--to</c>, the next midnight, so the day is included), a local date and time, or a time with
/// <c>Z</c> or an offset. Years 2000 to 2100: anything else is a typo, not a window.
/// </summary>
public static class ExportWindow
{
    private static readonly string[] LocalFormats = ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss"];

    public static DateTimeOffset Parse(string text, TimeZoneInfo zone, bool endOfDay, string option)
    {
        DateTimeOffset result;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            result = Local((endOfDay ? date.AddDays(1) : date).ToDateTime(TimeOnly.MinValue), zone);
        }
        else if (DateTime.TryParseExact(text, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            result = Local(local, zone);
        }
        else if ((text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > 10)
                 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var absolute))
        {
            result = absolute;
        }
        else
        {
            throw new DataCommandException($"{option} '{text}' is not a date or time: write 2026-11-01, 2026-11-01T08:00 (local) or 2026-11-01T07:00Z");
        }

        if (result.Year is < 2000 or > 2100)
        {
            throw new DataCommandException($"{option} '{text}' is outside the years 2000 to 2100");
        }

        return result;
    }

    /// <summary>A local time; one the DST change skips is taken as the hour after, one it repeats as the first.</summary>
    private static DateTimeOffset Local(DateTime local, TimeZoneInfo zone)
    {
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(unspecified))
        {
            unspecified = unspecified.AddHours(1);
        }

        var offset = zone.IsAmbiguousTime(unspecified) ? zone.GetAmbiguousTimeOffsets(unspecified).Max() : zone.GetUtcOffset(unspecified);
        return new DateTimeOffset(unspecified, offset);
    }
}
