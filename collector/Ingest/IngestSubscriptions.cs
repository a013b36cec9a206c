using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// The topic filters of the ingest client on an outside broker: <c>ntp/v1/&lt;site&gt;/+/readings</c>
/// and <c>…/status</c> per owned site. The session is persistent (clean start false), so the broker
/// keeps earlier filters across restarts; the filters subscribed last time are kept in the data
/// folder (<see cref="FileName"/>) so that a site removed from the settings is unsubscribed at the next start.
/// </summary>
public sealed class IngestSubscriptions
{
    public const string FileName = "ingest-subscriptions.txt";

    /// <summary>Filters per SUBSCRIBE/UNSUBSCRIBE packet: a thousand sites make two thousand filters.</summary>
    public const int FiltersPerPacket = 100;

    // Two filters per site, at most SiteCatalog.MaxSites sites, and the wildcards of earlier versions: a longer file is not ours.
    private const int MaxRememberedFilters = 2 * Site.SiteCatalog.MaxSites + 2;

    private readonly string _file;

    public IngestSubscriptions(IReadOnlyList<string> sites, string dataDirectory)
    {
        // No sites (a test's contract-only client): every site's topics, as before.
        Filters = sites.Count == 0
            ? [ContractTopics.AllReadingsFilter, ContractTopics.AllStatusFilter]
            : [.. sites.SelectMany(site => new[] { ReadingsFilter(site), StatusFilter(site) })];
        _file = Path.Combine(dataDirectory, FileName);
    }

    public IReadOnlyList<string> Filters { get; }

    public static string ReadingsFilter(string site) => $"{ContractTopics.Root}/{ContractTopics.Version}/{site}/+/{ContractTopics.ReadingsLeaf}";

    public static string StatusFilter(string site) => $"{ContractTopics.Root}/{ContractTopics.Version}/{site}/+/{ContractTopics.StatusLeaf}";

    /// <summary>Filters the broker may still hold for this session that are no longer wanted.</summary>
    public IReadOnlyList<string> Stale(bool sessionPresent)
    {
        if (!sessionPresent)
        {
            return [];
        }

        var earlier = new HashSet<string>(StringComparer.Ordinal) { ContractTopics.AllReadingsFilter, ContractTopics.AllStatusFilter };
        try
        {
            if (File.Exists(_file))
            {
                foreach (var line in File.ReadLines(_file).Take(MaxRememberedFilters))
                {
                    if (line.StartsWith(ContractTopics.Root + "/", StringComparison.Ordinal) && line.Length <= 200)
                    {
                        earlier.Add(line);
                    }
                }
            }
        }
        catch (IOException)
        {
            // Unreadable: only the wildcards are dropped; a removed site's messages would then still be refused by the intake.
        }

        earlier.ExceptWith(Filters);
        return [.. earlier.Order(StringComparer.Ordinal)];
    }

    /// <summary>Keeps the filters now subscribed for the next start (written whole, then moved into place).</summary>
    public void Remember()
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
            var temp = _file + ".tmp";
            File.WriteAllLines(temp, Filters);
            File.Move(temp, _file, overwrite: true);
        }
        catch (IOException)
        {
            // Best effort: without the file a removed site is only refused by the intake, not unsubscribed.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
