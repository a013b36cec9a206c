using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NewTechPark.Edge.Demo.History;

/// <summary>
/// The history a fill makes, kept beside the store as <c>demo-history.json</c>: its window, seed,
/// the last local day whose batches are all committed, and whether it is done. Written before the
/// store exists, so a fill interrupted at any moment (Ctrl+C, kill -9, a power cut) is found on the
/// next start and goes on with the same window: the same batches with the same sequence numbers,
/// which the collector stores once, and registrations and sessions only for days that have none.
/// </summary>
public sealed record HistoryPlan
{
    public const string FileName = "demo-history.json";

    [JsonPropertyName("from")]
    public DateTimeOffset From { get; init; }

    [JsonPropertyName("to")]
    public DateTimeOffset To { get; init; }

    [JsonPropertyName("seed")]
    public int Seed { get; init; }

    /// <summary>The last local day (yyyy-MM-dd) whose batches, registrations and sessions are all committed.</summary>
    [JsonPropertyName("filled_through")]
    public string? FilledThrough { get; init; }

    [JsonPropertyName("done")]
    public bool Done { get; init; }

    /// <summary>True when this start resumes a fill that an earlier start began.</summary>
    [JsonIgnore]
    public bool Resumed { get; init; }

    [JsonIgnore]
    public DateOnly? FilledThroughDate => FilledThrough is { } d ? DateOnly.ParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// What this start fills: a new plan when the store does not exist yet (first start), the
    /// unfinished plan of an interrupted fill, or nothing (history off, or a store that has its
    /// history or never had one).
    /// </summary>
    public static HistoryPlan? Decide(string dataDirectory, DemoOptions options, TimeZoneInfo zone, DateTimeOffset now)
    {
        var marker = Path.Combine(dataDirectory, FileName);
        var store = Path.Combine(dataDirectory, "collector.db");
        if (!options.History)
        {
            return null;
        }

        if (File.Exists(marker))
        {
            var kept = Read(marker);
            return kept is { Done: false } ? kept with { Resumed = true } : null;
        }

        if (File.Exists(store))
        {
            return null;
        }

        // Whole local days, ending now: today's visitors are the live demo's.
        var today = TimeZoneInfo.ConvertTime(now, zone).Date;
        var first = today.AddDays(-options.HistoryDays);
        var plan = new HistoryPlan { From = new DateTimeOffset(first, zone.GetUtcOffset(first)), To = now, Seed = options.Seed };
        Directory.CreateDirectory(dataDirectory);
        plan.Save(dataDirectory);
        return plan;
    }

    /// <summary>Writes the plan atomically (a temporary file renamed over the old one).</summary>
    public void Save(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, HistoryJson.Default.HistoryPlan));
        File.Move(temp, path, overwrite: true);
    }

    private static HistoryPlan? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), HistoryJson.Default.HistoryPlan);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a history plan ({e.Message}); delete it (and collector.db) to start afresh", e);
        }
    }
}

[JsonSerializable(typeof(HistoryPlan))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class HistoryJson : JsonSerializerContext;
