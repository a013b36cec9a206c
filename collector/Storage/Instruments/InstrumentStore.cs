using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Blocks;

namespace NewTechPark.Edge.Collector.Storage.Instruments;

/// <summary>One stored series of a sensor: its id, value name and reading kind.</summary>
public sealed record SensorSeries(long Id, string Field, string Kind);

/// <summary>
/// The reads behind the DC-Lab instrument (<c>collector/Instruments/</c>): which series a sensor
/// has, its raw points a block at a time (statistics), an exact count of a window's points (the CSV's
/// row limit) and a window's rows merged by time (the CSV). Read only, on pooled readers.
/// </summary>
public sealed class InstrumentStore(SqliteStore store)
{
    /// <summary>Points older than this (Unix ms) may have been purged from the raw blocks; 0 = nothing purged.</summary>
    public long RawCutoffMs => store.Rollups.RawCutoffMs;

    /// <summary>Whether the raw points of this kind are kept here (not with <c>Collector:Influx:Mode=Instead</c>).</summary>
    public bool KeepsRawPoints(string kind) => store.KeepsRawPoints(kind);

    /// <summary>Every stored series of a sensor, by value name.</summary>
    public IReadOnlyList<SensorSeries> SeriesOf(string site, string sensor)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, field, kind FROM series WHERE site = $site AND sensor = $sensor ORDER BY field";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$sensor", sensor);
        using var reader = command.ExecuteReader();
        var list = new List<SensorSeries>();
        while (reader.Read())
        {
            list.Add(new SensorSeries(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return list;
    }

    /// <summary>
    /// The decoded blocks that hold the points of [from, to), oldest first; they can hold points
    /// outside it (the caller filters). With <paramref name="cached"/>, sealed blocks come from the
    /// store's decoded-block cache, so a live window asked for every few seconds decodes only its
    /// open block; a long window passes it by, so it does not push out the charts' blocks.
    /// </summary>
    public IEnumerable<(long[] Ts, double[] Values)> Blocks(long seriesId, long fromMs, long toMs, bool cached)
    {
        using var connection = store.OpenReader();
        foreach (var block in PointReader.Blocks(connection, null, seriesId, fromMs, toMs, cached ? store.DecodedBlocks : null))
        {
            yield return block;
        }
    }

    /// <summary>The exact number of raw points of a series in [from, to): whole blocks from their row, the edge blocks decoded.</summary>
    public long CountPoints(long seriesId, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        return PointReader.Count(connection, seriesId, fromMs, toMs);
    }

    /// <summary>
    /// The raw points of the given series in [from, to), merged by time (<see cref="PointReader.MergedByTime"/>):
    /// a fresh array per row, since the caller may keep it while it awaits the write.
    /// </summary>
    public async IAsyncEnumerable<(long TsMs, double?[] Values)> Rows(IReadOnlyList<long> seriesIds, long fromMs, long toMs,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = store.OpenReader();
        foreach (var row in PointReader.MergedByTime(connection, seriesIds, fromMs, toMs, reuseRow: false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return row;
        }
    }
}
