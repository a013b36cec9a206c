using NewTechPark.Edge.Collector.Storage.Export;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.CommandLine.Export;

/// <summary>
/// Moves an export's rows from the store to a sink, a row at a time: the store reads a block or a
/// chunk of buckets at a time and the sink writes (CSV) or buffers a bounded row group (Parquet),
/// so memory does not grow with the window. <paramref name="progress"/> gets the rows written and
/// the share done (raw: by the rows counted first from the blocks; rollups: by time).
/// </summary>
public static class SeriesExporter
{
    public static async Task<long> RunAsync(StoreExport store, ExportTable table, long fromMs, long toMs, long expectedRows, IExportSink sink,
        Action<long, double>? progress, CancellationToken cancellationToken)
    {
        var cells = new double?[table.Columns.Count];
        long rows = 0;
        var sensors = table.Sensors.Count;
        for (var s = 0; s < sensors; s++)
        {
            var (sensor, series) = table.Sensors[s];
            var offsets = series.Select(x => table.OffsetOf(x.Field)).ToArray();
            if (table.Resolution == Resolution.Raw)
            {
                foreach (var (ts, values) in store.RawRows([.. series.Select(x => x.Id)], fromMs, toMs))
                {
                    Array.Clear(cells);
                    for (var i = 0; i < values.Length; i++)
                    {
                        cells[offsets[i]] = values[i];
                    }

                    await sink.WriteRowAsync(ts, sensor, cells, cancellationToken).ConfigureAwait(false);
                    if ((++rows & 0x3FFF) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        progress?.Invoke(rows, expectedRows <= 0 ? 0 : Math.Min(1.0, (double)rows / expectedRows));
                    }
                }

                continue;
            }

            foreach (var (bucket, rollups) in store.RollupRows(series, table.Resolution, fromMs, toMs))
            {
                Array.Clear(cells);
                for (var i = 0; i < rollups.Length; i++)
                {
                    if (rollups[i] is not { } r)
                    {
                        continue;
                    }

                    var at = offsets[i];
                    cells[at] = r.Min;
                    cells[at + 1] = r.Max;
                    cells[at + 2] = r.Count == 0 ? null : r.Sum / r.Count;
                    cells[at + 3] = r.Count;
                    if (RollupState.IsCounter(series[i].Field))
                    {
                        cells[at + 4] = r.Increase;
                    }
                }

                await sink.WriteRowAsync(bucket, sensor, cells, cancellationToken).ConfigureAwait(false);
                if ((++rows & 0x3FF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var within = toMs > fromMs ? Math.Clamp((double)(bucket - fromMs) / (toMs - fromMs), 0, 1) : 1;
                    progress?.Invoke(rows, (s + within) / sensors);
                }
            }
        }

        await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
        progress?.Invoke(rows, 1);
        return rows;
    }
}
