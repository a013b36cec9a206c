using System.Text.Json;
using System.Text.Json.Serialization;

namespace NewTechPark.Edge.Collector.HomeAssistant;

/// <summary>
/// What this collector published last time, kept in the data directory
/// (<c>homeassistant-discovery.json</c>): the config topics, so that an entity whose room, meter,
/// sensor or Pi left the site file is removed with an empty retained config even after a restart
/// (the embedded broker keeps retained messages in memory only; Mosquitto keeps them, but a
/// collector that restarts cannot tell its own old configs from what is still meant), and which
/// values each climate sensor has reported, so its entities are there at once after a restart.
/// </summary>
public sealed class DiscoveryRecord
{
    public const string FileName = "homeassistant-discovery.json";

    /// <summary>A record larger than this is not ours (ten thousand entities fit in a tenth of it).</summary>
    public const long MaxBytes = 4 << 20;

    /// <summary>At most this many topics and sensors are taken from the file.</summary>
    public const int MaxEntries = 20_000;

    [JsonPropertyName("v")]
    public int Version { get; set; } = 1;

    [JsonPropertyName("configs")]
    public List<string> Configs { get; set; } = [];

    /// <summary>
    /// Config topics removed before, cleared again at every full publish: with the embedded broker
    /// (retained messages in memory only) Home Assistant may have been away when the entity was
    /// removed, and it asks again with its birth message when it reconnects. The newest
    /// <see cref="MaxRemoved"/> are kept.
    /// </summary>
    [JsonPropertyName("removed")]
    public List<string> Removed { get; set; } = [];

    /// <summary>Removed topics kept at most, newest first.</summary>
    public const int MaxRemoved = 1_000;

    [JsonPropertyName("climate")]
    public Dictionary<string, List<string>> Climate { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Reads the record; a missing file is an empty record, a damaged or oversized one is named in <paramref name="problem"/> and ignored.</summary>
    public static DiscoveryRecord Load(string path, out string? problem)
    {
        problem = null;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return new DiscoveryRecord();
            }

            if (info.Length > MaxBytes)
            {
                problem = $"{path} is {info.Length} bytes, more than {MaxBytes}: ignored";
                return new DiscoveryRecord();
            }

            var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), DiscoveryRecordJson.Default.DiscoveryRecord) ?? new DiscoveryRecord();
            if (record.Version != 1 || record.Configs is null || record.Climate is null || record.Removed is null || record.Configs.Count > MaxEntries || record.Removed.Count > MaxEntries || record.Climate.Count > MaxEntries)
            {
                problem = $"{path} is not a version 1 record within {MaxEntries} entries: ignored";
                return new DiscoveryRecord();
            }

            return record;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            problem = $"{path} cannot be read: {e.Message}; ignored";
            return new DiscoveryRecord();
        }
    }

    /// <summary>Writes the record whole or not at all (a temporary file renamed over the old one).</summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(this, DiscoveryRecordJson.Default.DiscoveryRecord));
        File.Move(temporary, path, overwrite: true);
    }
}

[JsonSerializable(typeof(DiscoveryRecord))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class DiscoveryRecordJson : JsonSerializerContext;
