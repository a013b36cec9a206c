using System.Globalization;
using System.Text.Json;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// The centre's own targets per year and report row (<c>targets.json</c> beside the site file).
/// A year without an entry has no targets: nothing is carried forward silently.
/// </summary>
public sealed class ReportTargets
{
    /// <summary>The file name looked for beside the site file when <see cref="ReportOptions.TargetsFile"/> is empty.</summary>
    public const string DefaultFileName = "targets.json";

    /// <summary>A targets file is a few kilobytes; anything far larger is not one.</summary>
    public const int MaxFileBytes = 256 * 1024;

    public static readonly ReportTargets None = new(null, null, new Dictionary<int, IReadOnlyDictionary<string, double>>());

    private readonly IReadOnlyDictionary<int, IReadOnlyDictionary<string, double>> _years;

    public ReportTargets(string? file, string? source, IReadOnlyDictionary<int, IReadOnlyDictionary<string, double>> years)
    {
        File = file;
        Source = source;
        _years = years;
    }

    /// <summary>The file the targets came from; null when there is none.</summary>
    public string? File { get; }

    /// <summary>Where the figures come from, as the file says (shown under the report).</summary>
    public string? Source { get; }

    public IEnumerable<int> Years => _years.Keys.Order();

    /// <summary>The year's targets by row key; empty for a year the file does not name.</summary>
    public IReadOnlyDictionary<string, double> For(int year) => _years.TryGetValue(year, out var t) ? t : new Dictionary<string, double>();

    /// <summary>The file the settings point at: the one named, or <see cref="DefaultFileName"/> beside the site file (looked up as the collector finds the site file).</summary>
    public static (string Path, bool Named) Locate(CollectorOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Report.TargetsFile))
        {
            return (options.Report.TargetsFile, true);
        }

        var site = options.SiteFile;
        if (!Path.IsPathRooted(site) && !System.IO.File.Exists(site))
        {
            site = Path.Combine(AppContext.BaseDirectory, site);
        }

        return (Path.Combine(Path.GetDirectoryName(Path.GetFullPath(site)) ?? ".", DefaultFileName), false);
    }

    /// <summary>Loads the targets the settings point at; <see cref="None"/> when the default file is absent.</summary>
    public static ReportTargets Load(CollectorOptions options)
    {
        var (path, named) = Locate(options);
        if (!named && !System.IO.File.Exists(path))
        {
            return None;
        }

        var (targets, problems) = Read(path);
        return problems.Count == 0 ? targets! : throw new InvalidOperationException(string.Join("; ", problems));
    }

    /// <summary>Reads and checks a targets file; every problem names the file and the year and row.</summary>
    public static (ReportTargets? Targets, List<string> Problems) Read(string path)
    {
        var problems = new List<string>();
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            problems.Add($"targets file {path} does not exist");
            return (null, problems);
        }

        if (info.Length > MaxFileBytes)
        {
            problems.Add($"targets file {path} is {info.Length} bytes, more than the {MaxFileBytes} a targets file can be");
            return (null, problems);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            problems.Add($"targets file {path} is not valid JSON: {e.Message}");
            return (null, problems);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"targets file {path} must hold an object with \"targets\": {{ \"2024\": {{ \"events\": 70 }} }}");
                return (null, problems);
            }

            string? source = null;
            var years = new Dictionary<int, IReadOnlyDictionary<string, double>>();
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "source" when property.Value.ValueKind == JsonValueKind.String:
                        source = property.Value.GetString();
                        break;
                    case "targets" when property.Value.ValueKind == JsonValueKind.Object:
                        ReadYears(path, property.Value, years, problems);
                        break;
                    default:
                        problems.Add($"targets file {path}: unknown or malformed entry '{property.Name}' (expected \"source\": text and \"targets\": an object of years)");
                        break;
                }
            }

            return (problems.Count == 0 ? new ReportTargets(path, source, years) : null, problems);
        }
    }

    private static void ReadYears(string path, JsonElement targets, Dictionary<int, IReadOnlyDictionary<string, double>> years, List<string> problems)
    {
        foreach (var year in targets.EnumerateObject())
        {
            if (!int.TryParse(year.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var y) || y is < 2000 or > 2100)
            {
                problems.Add($"targets file {path}: year '{year.Name}' is not a year from 2000 to 2100");
                continue;
            }

            if (year.Value.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"targets file {path}: year {y} must be an object of row keys and numbers");
                continue;
            }

            var rows = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var row in year.Value.EnumerateObject())
            {
                if (!AnnualReportService.RowKeys.Contains(row.Name))
                {
                    problems.Add($"targets file {path}: year {y}, row '{row.Name}' is not a row of the report ({string.Join(", ", AnnualReportService.RowKeys)})");
                }
                else if (row.Value.ValueKind != JsonValueKind.Number || !row.Value.TryGetDouble(out var value) || !double.IsFinite(value) || value < 0)
                {
                    problems.Add($"targets file {path}: year {y}, row '{row.Name}' must be a number of 0 or more, not {row.Value.GetRawText()}");
                }
                else if (row.Name == "rooms-in-use" && value > 100)
                {
                    problems.Add($"targets file {path}: year {y}, row 'rooms-in-use' is a percentage of at most 100, not {value.ToString(CultureInfo.InvariantCulture)}");
                }
                else if (!rows.TryAdd(row.Name, value))
                {
                    problems.Add($"targets file {path}: year {y}, row '{row.Name}' is given twice");
                }
            }

            if (!years.TryAdd(y, rows))
            {
                problems.Add($"targets file {path}: year {y} is given twice");
            }
        }
    }
}
