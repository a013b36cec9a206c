using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NewTechPark.Edge.Collector.CommandLine.Export;
using NewTechPark.Edge.Collector.Instruments;
using NewTechPark.Edge.Collector.Storage.Backup;
using NewTechPark.Edge.Collector.Storage.Export;
using NewTechPark.Edge.Collector.Storage.Rollups;
using Spectre.Console;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// <c>collector export</c>: any series, sensor or kind over any window, raw or from the rollups,
/// to CSV (a file or stdout) or Parquet (a file). Reads the store file read-only in one snapshot,
/// beside a running collector; streams, so a year of readings takes no more memory than a day.
/// </summary>
public static class ExportCommand
{
    /// <summary>A progress bar is drawn for exports of more rows than this (and only on a terminal).</summary>
    public const long ProgressFromRows = 200_000;

    /// <summary>Names listed in a refusal before "and N more".</summary>
    private const int ListedNames = 40;

    public static Command Create(SettingsArguments settings)
    {
        var series = new Option<string[]>("--series") { Description = "A series as SENSOR/VALUE (dc-bench-1/power_w; a sensor the site file does not name: DEVICE/SENSOR/VALUE). Repeatable.", HelpName = "SENSOR/VALUE", AllowMultipleArgumentsPerToken = false };
        var sensor = new Option<string[]>("--sensor") { Description = "Every value of a sensor (as /api/v1/series.csv). Repeatable.", HelpName = "SENSOR" };
        var kind = new Option<string[]>("--kind") { Description = "Every sensor of a reading kind (dc, energy, climate, door, …). Repeatable.", HelpName = "KIND" };
        var value = new Option<string[]>("--value") { Description = "Only these value names of the sensors or kinds chosen (power_w). Repeatable.", HelpName = "VALUE" };
        var from = new Option<string?>("--from") { Description = "Start: a local date (2026-11-01, its midnight in the site's zone), a local time (2026-11-01T08:00) or a UTC/offset time (2026-11-01T07:00Z). Default: a day before --to.", HelpName = "WHEN" };
        var to = new Option<string?>("--to") { Description = "End, exclusive; a date means the end of that day (--from 2026-11-01 --to 2026-11-30 is November). Default: now.", HelpName = "WHEN" };
        var resolution = new Option<string>("--resolution") { Description = "raw (every reading), or the rollups: minute, hour, day, month, year (min, max, mean, count per bucket; local days).", DefaultValueFactory = _ => "raw", HelpName = "RES" };
        resolution.AcceptOnlyFromAmong("raw", "minute", "hour", "day", "month", "year");
        var format = new Option<string?>("--format") { Description = "csv or parquet. Default: parquet when --out ends in .parquet, else csv.", HelpName = "FORMAT" };
        format.AcceptOnlyFromAmong("csv", "parquet");
        var dialect = new Option<string>("--dialect") { Description = "CSV dialect: en (',' and '.' decimals) or nl (';', decimal comma, UTF-8 with BOM, for Dutch Excel).", DefaultValueFactory = _ => "en", HelpName = "DIALECT" };
        dialect.AcceptOnlyFromAmong("en", "nl", "standard", "excel-nl");
        var out_ = new Option<string?>("--out", "-o") { Description = "The file to write (written beside it, then renamed). Without it, CSV goes to stdout.", HelpName = "FILE" };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var site = new Option<string?>("--site") { Description = "The site of the series (default: the site file's).", HelpName = "SITE" };

        var command = new Command("export", "Export readings to CSV or Parquet: a series, sensors or a kind, over any window, raw or as minute/hour/day rollups. Works beside a running collector.")
        {
            series, sensor, kind, value, from, to, resolution, format, dialect, out_, force, site,
        };
        // Named refusals: exit 2; an I/O or SQLite failure on the way (disk full): one line, exit 1 (GuardAsync).
        command.SetAction((parse, cancellationToken) => CollectorCommandLine.GuardAsync(parse, async error =>
        {
            try
            {
                var request = new Request(
                    parse.GetValue(series) ?? [], parse.GetValue(sensor) ?? [], parse.GetValue(kind) ?? [], parse.GetValue(value) ?? [],
                    parse.GetValue(from), parse.GetValue(to), parse.GetValue(resolution)!, parse.GetValue(format), parse.GetValue(dialect)!,
                    parse.GetValue(out_), parse.GetValue(force), parse.GetValue(site));
                return await RunAsync(settings, request, error, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DataCommandException or StoreFileException or StoreBackupException)
            {
                await error.WriteLineAsync($"export: {e.Message}").ConfigureAwait(false);
                return CollectorCommandLine.Invalid;
            }
        }));
        return command;
    }

    private sealed record Request(string[] Series, string[] Sensors, string[] Kinds, string[] Values, string? From, string? To, string Resolution,
        string? Format, string Dialect, string? Out, bool Force, string? Site);

    private static async Task<int> RunAsync(SettingsArguments arguments, Request request, TextWriter error, CancellationToken cancellationToken)
    {
        if (request.Series.Length + request.Sensors.Length + request.Kinds.Length == 0)
        {
            throw new DataCommandException("say what to export: --series SENSOR/VALUE, --sensor SENSOR or --kind KIND (see collector export --help)");
        }

        var parquet = (request.Format ?? (request.Out?.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) == true ? "parquet" : "csv")) == "parquet";
        if (parquet && request.Out is null)
        {
            throw new DataCommandException("Parquet needs a file (--out FILE.parquet): its footer points back into the file, so it cannot stream to stdout");
        }

        var settings = DataCommandSettings.Load(arguments);
        var siteModel = settings.LoadSite();
        var zone = TimeZoneInfo.FindSystemTimeZoneById(siteModel.TimeZone);
        var now = DateTimeOffset.UtcNow;
        var end = request.To is null ? now : ExportWindow.Parse(request.To, zone, endOfDay: true, "--to");
        var start = request.From is null ? end.AddDays(-1) : ExportWindow.Parse(request.From, zone, endOfDay: false, "--from");
        if (start >= end)
        {
            throw new DataCommandException($"the window is empty: --from {start:O} is not before --to {end:O}");
        }

        var resolution = request.Resolution switch
        {
            "minute" => Resolution.Minute,
            "hour" => Resolution.Hour,
            "day" => Resolution.Day,
            "month" => Resolution.Month,
            "year" => Resolution.Year,
            _ => Resolution.Raw,
        };
        var dialect = request.Dialect is "nl" or "excel-nl" ? CsvDialect.ExcelNl : CsvDialect.Standard;
        string? target = null;
        if (request.Out is { } file)
        {
            target = Path.GetFullPath(file);
            CheckTarget(target, settings, request.Force);
        }

        using var snapshot = StoreSnapshot.Open(settings.StorePath, requireCurrentSchema: true);
        var store = new StoreExport(snapshot);
        var chosen = Select(store.Series(request.Site ?? siteModel.Site), request);
        var table = new ExportTable(chosen, resolution);
        var (fromMs, toMs) = (start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds());
        // Raw: each sensor's rows are at least its busiest value's points, counted from the blocks' rows.
        var expected = resolution == Resolution.Raw ? table.Sensors.Sum(s => s.Series.Max(x => store.CountPoints(x.Id, fromMs, toMs))) : 0;
        var sensorColumn = table.Sensors.Count > 1 || request.Kinds.Length > 0;

        var stopwatch = Stopwatch.StartNew();
        var temp = target is null ? null : Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        long rows;
        try
        {
            await using (var stream = temp is null ? Console.OpenStandardOutput() : new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                await using var sink = parquet
                    ? (IExportSink)await ParquetExportSink.CreateAsync(stream, table.Columns, cancellationToken).ConfigureAwait(false)
                    : new CsvExportSink(stream, ownsStream: false, table.Columns, sensorColumn, dialect, zone);
                rows = await WithProgressAsync(expected, resolution, progress =>
                    SeriesExporter.RunAsync(store, table, fromMs, toMs, expected, sink, progress, cancellationToken)).ConfigureAwait(false);
            }

            if (temp is not null)
            {
                StoreBackup.Flush(temp);
                File.Move(temp, target!, request.Force);
            }
        }
        finally
        {
            if (temp is not null && File.Exists(temp))
            {
                File.Delete(temp);
            }
        }

        // The summary goes to stderr: stdout may be the CSV.
        var what = string.Join(", ", table.Sensors.Take(5).Select(s => s.Sensor)) + (table.Sensors.Count > 5 ? $" and {table.Sensors.Count - 5} more" : "");
        var where = target is null ? "stdout" : $"{target} ({DataCommandSettings.Size(new FileInfo(target).Length)})";
        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"export: {rows:N0} rows ({request.Resolution}) of {chosen.Count} series ({what}), {start.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} to {end.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}, to {where} as {(parquet ? "Parquet" : "CSV")} in {stopwatch.Elapsed.TotalSeconds:0.0} s")).ConfigureAwait(false);
        return 0;
    }

    private static async Task<long> WithProgressAsync(long expected, Resolution resolution, Func<Action<long, double>?, Task<long>> run)
    {
        // Raw: drawn when the rows counted are many; rollups are at most a few hundred thousand buckets a year.
        if ((resolution == Resolution.Raw ? expected < ProgressFromRows : resolution != Resolution.Minute) || DataCommandSettings.ProgressConsole() is not { } console)
        {
            return await run(null).ConfigureAwait(false);
        }

        long rows = 0;
        await console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("export", maxValue: 1000);
                rows = await run((done, share) =>
                {
                    task.Value = share * 1000;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"export {done:N0} rows");
                }).ConfigureAwait(false);
                task.Value = 1000;
            }).ConfigureAwait(false);
        return rows;
    }

    private static void CheckTarget(string target, DataCommandSettings settings, bool force)
    {
        if (StoreBackup.IsStoreFile(settings.StorePath, target))
        {
            throw new DataCommandException($"{target} is the store's own file: write the export elsewhere");
        }

        if (Directory.Exists(target))
        {
            throw new DataCommandException($"{target} is a folder: give a file name");
        }

        if (!Directory.Exists(Path.GetDirectoryName(target)))
        {
            throw new DataCommandException($"the folder of {target} does not exist");
        }

        if (File.Exists(target) && !force)
        {
            throw new DataCommandException($"{target} exists; add --force to replace it");
        }
    }

    /// <summary>The series the request names; an unknown name is refused with the names that exist.</summary>
    private static IReadOnlyList<ExportSeries> Select(IReadOnlyList<ExportSeries> all, Request request)
    {
        var chosen = new List<ExportSeries>();
        foreach (var name in request.Series)
        {
            var slash = name.LastIndexOf('/');
            var (sensor, field) = slash <= 0 || slash == name.Length - 1 ? (name, "") : (name[..slash], name[(slash + 1)..]);
            if (field.Length == 0)
            {
                throw new DataCommandException($"--series '{name}' is not SENSOR/VALUE (dc-bench-1/power_w); for every value of a sensor use --sensor");
            }

            var found = all.FirstOrDefault(s => s.Sensor == sensor && s.Field == field);
            if (found is null)
            {
                var values = all.Where(s => s.Sensor == sensor).Select(s => s.Field).ToList();
                throw new DataCommandException(values.Count > 0
                    ? $"no series {name}: {sensor} has {List(values)}"
                    : $"no series {name}: no sensor {sensor} is stored; stored sensors: {List(all.Select(s => s.Sensor).Distinct())}");
            }

            chosen.Add(found);
        }

        foreach (var sensor in request.Sensors)
        {
            var of = all.Where(s => s.Sensor == sensor).ToList();
            if (of.Count == 0)
            {
                throw new DataCommandException($"no sensor {sensor} is stored; stored sensors: {List(all.Select(s => s.Sensor).Distinct())}");
            }

            chosen.AddRange(Only(of, request.Values, sensor));
        }

        foreach (var kind in request.Kinds)
        {
            var of = all.Where(s => s.Kind == kind).ToList();
            if (of.Count == 0)
            {
                throw new DataCommandException($"no series of kind {kind} is stored; stored kinds: {List(all.Select(s => s.Kind).Distinct())}");
            }

            chosen.AddRange(Only(of, request.Values, $"kind {kind}"));
        }

        return chosen.DistinctBy(s => s.Id).ToList();
    }

    private static IEnumerable<ExportSeries> Only(List<ExportSeries> series, string[] values, string what)
    {
        if (values.Length == 0)
        {
            return series;
        }

        foreach (var value in values)
        {
            if (!series.Any(s => s.Field == value))
            {
                throw new DataCommandException($"--value {value}: {what} has no such value; it has {List(series.Select(s => s.Field).Distinct())}");
            }
        }

        return series.Where(s => values.Contains(s.Field));
    }

    private static string List(IEnumerable<string> names)
    {
        var sorted = names.Distinct().Order(StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? "none" : string.Join(", ", sorted.Take(ListedNames)) + (sorted.Count > ListedNames ? $" and {sorted.Count - ListedNames} more" : "");
    }
}
