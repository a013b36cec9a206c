using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NewTechPark.Edge.Reliability.Tests.Grafana;

/// <summary>A dashboard variable as Grafana keeps it in <c>templating.list</c>.</summary>
public sealed record DashboardVariable(string Name, string Type, string? Query, bool Multi, bool IncludeAll, string? AllValue);

/// <summary>One query of one panel: what Grafana's Prometheus data source sends for it.</summary>
public sealed record PanelTarget(string Dashboard, string Panel, string RefId, string Expr, bool Instant, string? MinInterval);

/// <summary>
/// A dashboard file of <c>dashboards/grafana/dashboards/</c>, read the way Grafana reads it: panels
/// (also those inside collapsed rows), their targets, and the template variables.
/// </summary>
public sealed partial class GrafanaDashboard
{
    /// <summary>The name of the data-source input every panel and variable goes through.</summary>
    public const string Input = "DS_VICTORIAMETRICS";

    /// <summary>The uid of the provisioned data source (dashboards/grafana/provisioning/datasources).</summary>
    public const string ProvisionedUid = "ntp-victoriametrics";

    private GrafanaDashboard(string file, JsonElement root)
    {
        File = file;
        Root = root;
        Title = root.TryGetProperty("title", out var t) ? t.GetString() ?? string.Empty : string.Empty;
    }

    public string File { get; }

    public JsonElement Root { get; }

    public string Title { get; }

    public static string Folder => Path.Combine(SettingsFiles.RepositoryRoot(), "dashboards", "grafana");

    /// <summary>Every dashboard of the folder, in file order.</summary>
    public static IReadOnlyList<GrafanaDashboard> All() =>
    [
        .. Directory.EnumerateFiles(Path.Combine(Folder, "dashboards"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => new GrafanaDashboard(Path.GetFileName(f), JsonDocument.Parse(System.IO.File.ReadAllText(f)).RootElement.Clone())),
    ];

    /// <summary>Every dashboard of a folder below dashboards/grafana (region: the region tier's), in file order.</summary>
    public static IReadOnlyList<GrafanaDashboard> In(string folder) =>
    [
        .. Directory.EnumerateFiles(Path.Combine(Folder, folder), "*.json").Order(StringComparer.Ordinal)
            .Select(f => new GrafanaDashboard(Path.GetFileName(f), JsonDocument.Parse(System.IO.File.ReadAllText(f)).RootElement.Clone())),
    ];

    /// <summary>Every panel that is not a row, with the panels of collapsed rows.</summary>
    public IEnumerable<JsonElement> Panels()
    {
        foreach (var panel in Root.GetProperty("panels").EnumerateArray())
        {
            if (Text(panel, "type") == "row")
            {
                if (panel.TryGetProperty("panels", out var inner))
                {
                    foreach (var p in inner.EnumerateArray())
                    {
                        yield return p;
                    }
                }

                continue;
            }

            yield return panel;
        }
    }

    public IReadOnlyList<DashboardVariable> Variables() =>
    [
        .. Root.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => new DashboardVariable(
            Text(v, "name") ?? string.Empty,
            Text(v, "type") ?? string.Empty,
            v.TryGetProperty("query", out var q) ? q.ValueKind == JsonValueKind.Object ? Text(q, "query") : q.GetString() : null,
            v.TryGetProperty("multi", out var m) && m.GetBoolean(),
            v.TryGetProperty("includeAll", out var a) && a.GetBoolean(),
            Text(v, "allValue"))),
    ];

    public IEnumerable<PanelTarget> Targets()
    {
        foreach (var panel in Panels())
        {
            var title = Text(panel, "title") ?? "(untitled)";
            var minInterval = Text(panel, "interval");
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var instant = target.TryGetProperty("instant", out var i) && i.GetBoolean()
                    && !(target.TryGetProperty("range", out var r) && r.GetBoolean());
                yield return new PanelTarget(File, title, Text(target, "refId") ?? "?", Text(target, "expr") ?? string.Empty, instant,
                    Text(target, "interval") is { Length: > 0 } own ? own : minInterval);
            }
        }
    }

    public static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>The variables an expression names (<c>$name</c>, <c>${name}</c>, <c>${name:format}</c>).</summary>
    public static IEnumerable<string> Referenced(string expr) =>
        VariableReference().Matches(expr).Select(m => m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value);

    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|(?<plain>[A-Za-z0-9_]+))")]
    internal static partial Regex VariableReference();
}

/// <summary>
/// What Grafana's Prometheus data source does with a target before it sends it: the step from the
/// time range and the panel's minimum interval, the built-in variables, and the template
/// variables formatted as it formats them (a single value escaped for a string, several as a
/// regex alternation).
/// </summary>
public static partial class GrafanaInterpolation
{
    /// <summary>The data source's scrape interval (<c>timeInterval</c> in the provisioned data source).</summary>
    public static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(15);

    /// <summary>Grafana's rounded intervals (a subset of <c>rangeUtil.roundInterval</c>'s steps).</summary>
    private static readonly TimeSpan[] Nice =
    [
        .. new[] { 1, 2, 5, 10, 15, 20, 30 }.Select(s => TimeSpan.FromSeconds(s)),
        .. new[] { 1, 2, 5, 10, 15, 20, 30 }.Select(m => TimeSpan.FromMinutes(m)),
        .. new[] { 1, 2, 3, 6, 12 }.Select(h => TimeSpan.FromHours(h)),
        TimeSpan.FromDays(1), TimeSpan.FromDays(7), TimeSpan.FromDays(30),
    ];

    /// <summary><c>$__interval</c>: the range over about <paramref name="maxDataPoints"/> points, rounded, at least the minimum interval.</summary>
    public static TimeSpan Interval(TimeSpan range, string? minInterval, int maxDataPoints = 1000)
    {
        var raw = range / maxDataPoints;
        var rounded = Nice.FirstOrDefault(n => n >= raw, Nice[^1]);
        var min = minInterval is { Length: > 0 } ? ParseDuration(minInterval) : ScrapeInterval;
        return rounded > min ? rounded : min;
    }

    /// <summary><c>$__rate_interval</c> = max(<c>$__interval</c> + scrape interval, 4 × scrape interval).</summary>
    public static TimeSpan RateInterval(TimeSpan interval) =>
        interval + ScrapeInterval > 4 * ScrapeInterval ? interval + ScrapeInterval : 4 * ScrapeInterval;

    /// <summary>
    /// Start and end floored to whole steps in the dashboard's time zone (as Grafana aligns them,
    /// with the zone's offset at the end of the range).
    /// </summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Align(DateTimeOffset from, DateTimeOffset to, TimeSpan step, TimeZoneInfo zone)
    {
        var offset = (long)zone.GetUtcOffset(to).TotalMilliseconds;
        var stepMs = (long)step.TotalMilliseconds;
        DateTimeOffset Floor(DateTimeOffset t) =>
            DateTimeOffset.FromUnixTimeMilliseconds(((t.ToUnixTimeMilliseconds() + offset) / stepMs * stepMs) - offset);
        return (Floor(from), Floor(to));
    }

    /// <summary>The built-in variables for a range query (or an instant query over <paramref name="range"/>).</summary>
    public static Dictionary<string, string> BuiltIns(TimeSpan range, TimeSpan interval) => new(StringComparer.Ordinal)
    {
        ["__interval"] = Duration(interval),
        ["__interval_ms"] = ((long)interval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        ["__rate_interval"] = Duration(RateInterval(interval)),
        ["__range"] = Duration(range),
        ["__range_s"] = ((long)range.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        ["__range_ms"] = ((long)range.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A template variable's value as Grafana's Prometheus data source writes it into a query.</summary>
    public static string Format(DashboardVariable variable, IReadOnlyList<string> selected)
    {
        if (!variable.Multi && !variable.IncludeAll)
        {
            return selected.Count == 0 ? string.Empty : selected[0].Replace("'", "\\\\'", StringComparison.Ordinal);
        }

        var escaped = selected.Select(RegexEscape).ToList();
        return escaped.Count == 1 ? escaped[0] : "(" + string.Join('|', escaped) + ")";
    }

    /// <summary>Replaces <c>$name</c>, <c>${name}</c> and <c>${name:format}</c>; unknown names stay as they are.</summary>
    public static string Interpolate(string expr, IReadOnlyDictionary<string, string> values) =>
        GrafanaDashboard.VariableReference().Replace(expr, m =>
        {
            var name = m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value;
            return values.TryGetValue(name, out var value) ? value : m.Value;
        });

    /// <summary>Seconds (or milliseconds under a second), as PromQL takes a duration.</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds >= 1 && span.Ticks % TimeSpan.TicksPerSecond == 0
            ? ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
            : ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    /// <summary>Grafana's interval syntax: a number and one of ms, s, m, h, d, w, y.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var match = DurationSyntax().Match(text);
        if (!match.Success)
        {
            throw new FormatException($"'{text}' is not a Grafana interval such as 15s, 1h or 1d");
        }

        var n = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            "w" => TimeSpan.FromDays(7 * n),
            _ => TimeSpan.FromDays(365 * n),
        };
    }

    /// <summary>Grafana's <c>prometheusSpecialRegexEscape</c>: regex characters escaped for a PromQL string.</summary>
    private static string RegexEscape(string value) => RegexSpecial().Replace(value, m => "\\\\" + m.Value);

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")]
    private static partial Regex DurationSyntax();

    [GeneratedRegex(@"[\\^$*+?.()|{}\[\]]")]
    private static partial Regex RegexSpecial();
}
