using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>A range of sequence numbers never received from a device (inclusive).</summary>
public sealed record SeqGap(ulong From, ulong To)
{
    public ulong Count => To - From + 1;
}

/// <summary>What the collector knows about a device's delivery: sequence range, gaps, what the device dropped.</summary>
public sealed record DeviceDelivery(
    string Site,
    string Device,
    ulong? FirstSeq,
    ulong? LastSeq,
    long Readings,
    long? OutboxDropped,
    DateTimeOffset? OutboxOldest,
    ulong MissingBatches,
    long GapCount,
    IReadOnlyList<SeqGap> Gaps);

/// <summary>
/// The delivery side of the store: which sequence numbers of each device are missing. The gaps
/// are kept up to date in the ingest transaction (<see cref="GapTracker"/>) rather than computed
/// from the batches table, so <c>/api/v1/devices</c> stays fast after years of batches: a batch
/// above the last seq opens a gap, a late batch inside a gap shrinks or splits it. Gaps count from
/// the first seq the collector saw of a device (a new agent starts at a clock-derived number).
/// </summary>
public static class DeliveryLedger
{
    /// <summary>Most gaps listed per device (the newest); the count and missing total cover all.</summary>
    public const int MaxListedGaps = 50;

    /// <summary>
    /// The missing total from SQLite's total() (a double: sum() stops with "integer overflow" once
    /// gaps add up past 2^63, which a store from before seq was capped at 2^63 - 1 may hold).
    /// </summary>
    private static ulong Missing(double total) => total <= 0 || double.IsNaN(total) ? 0 : total >= ulong.MaxValue ? ulong.MaxValue : (ulong)total;

    /// <summary>The delivery state of every device, on a read connection.</summary>
    public static IReadOnlyList<DeviceDelivery> Read(SqliteStore store)
    {
        using var connection = store.OpenReader();
        var rows = new List<DeviceDelivery>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT d.site, d.device, d.first_seq, d.last_seq, d.readings, d.outbox_dropped, d.outbox_oldest_ms,
                       (SELECT count(*) FROM seq_gaps g WHERE g.site = d.site AND g.device = d.device),
                       (SELECT total(g.to_seq - g.from_seq + 1) FROM seq_gaps g WHERE g.site = d.site AND g.device = d.device)
                FROM devices d ORDER BY d.site, d.device
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows.Add(new DeviceDelivery(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : unchecked((ulong)reader.GetInt64(2)),
                    reader.IsDBNull(3) ? null : unchecked((ulong)reader.GetInt64(3)),
                    reader.GetInt64(4),
                    reader.IsDBNull(5) ? null : reader.GetInt64(5),
                    reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
                    Missing(reader.GetDouble(8)),
                    reader.GetInt64(7),
                    []));
            }
        }

        using var gaps = connection.CreateCommand();
        gaps.CommandText = "SELECT from_seq, to_seq FROM seq_gaps WHERE site = $site AND device = $device ORDER BY from_seq DESC LIMIT $max";
        var site = gaps.Parameters.Add("$site", SqliteType.Text);
        var device = gaps.Parameters.Add("$device", SqliteType.Text);
        gaps.Parameters.AddWithValue("$max", MaxListedGaps);
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].GapCount == 0)
            {
                continue;
            }

            site.Value = rows[i].Site;
            device.Value = rows[i].Device;
            var list = new List<SeqGap>();
            using (var reader = gaps.ExecuteReader())
            {
                while (reader.Read())
                {
                    list.Add(new SeqGap(unchecked((ulong)reader.GetInt64(0)), unchecked((ulong)reader.GetInt64(1))));
                }
            }

            list.Reverse();
            rows[i] = rows[i] with { Gaps = list };
        }

        return rows;
    }

    /// <summary>
    /// Keeps <c>seq_gaps</c> up to date inside the ingest transaction; called once for each batch
    /// stored for the first time, before the device's <c>last_seq</c> moves.
    /// </summary>
    internal sealed class GapTracker(SqliteConnection connection, SqliteTransaction transaction) : IDisposable
    {
        private readonly PreparedStatements _statements = new(connection, transaction);
        private SqliteCommand? _last;
        private SqliteCommand? _open;
        private SqliteCommand? _find;
        private SqliteCommand? _delete;

        public void Record(string site, string device, ulong seq)
        {
            _last ??= Prepare("SELECT last_seq FROM devices WHERE site = $site AND device = $device", "$site", "$device");
            _last.Parameters[0].Value = site;
            _last.Parameters[1].Value = device;
            if (_last.ExecuteScalar() is not long lastRaw || lastRaw < 0)
            {
                // The first batch of this device: gaps count from here. (A negative last_seq is a
                // seq of 2^63 or more stored before the contract capped it: no gap is measured from it.)
                return;
            }

            var last = unchecked((ulong)lastRaw);
            if (seq > last + 1)
            {
                Open(site, device, last + 1, seq - 1);
                return;
            }

            if (seq >= last)
            {
                return;
            }

            // A late batch: it fills (part of) a gap, if it lies in one.
            _find ??= Prepare("SELECT from_seq, to_seq FROM seq_gaps WHERE site = $site AND device = $device AND from_seq <= $seq ORDER BY from_seq DESC LIMIT 1",
                "$site", "$device", "$seq");
            _find.Parameters[0].Value = site;
            _find.Parameters[1].Value = device;
            _find.Parameters[2].Value = unchecked((long)seq);
            ulong from, to;
            using (var reader = _find.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return;
                }

                from = unchecked((ulong)reader.GetInt64(0));
                to = unchecked((ulong)reader.GetInt64(1));
            }

            if (seq > to)
            {
                return;
            }

            _delete ??= Prepare("DELETE FROM seq_gaps WHERE site = $site AND device = $device AND from_seq = $from", "$site", "$device", "$from");
            _delete.Parameters[0].Value = site;
            _delete.Parameters[1].Value = device;
            _delete.Parameters[2].Value = unchecked((long)from);
            _delete.ExecuteNonQuery();
            if (seq > from)
            {
                Open(site, device, from, seq - 1);
            }

            if (seq < to)
            {
                Open(site, device, seq + 1, to);
            }
        }

        public void Dispose()
        {
            _statements.Dispose();
        }

        private void Open(string site, string device, ulong from, ulong to)
        {
            _open ??= Prepare("INSERT OR REPLACE INTO seq_gaps (site, device, from_seq, to_seq) VALUES ($site, $device, $from, $to)", "$site", "$device", "$from", "$to");
            _open.Parameters[0].Value = site;
            _open.Parameters[1].Value = device;
            _open.Parameters[2].Value = unchecked((long)from);
            _open.Parameters[3].Value = unchecked((long)to);
            _open.ExecuteNonQuery();
        }

        private SqliteCommand Prepare(string sql, params string[] parameters) => _statements.Prepare(sql, parameters);
    }
}
