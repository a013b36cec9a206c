using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Agent.State;

/// <summary>A batch the outbox committed: its number and how many readings it carries.</summary>
public readonly record struct OutboxEntry(ulong Seq, int Readings);

/// <summary>A batch waiting in the outbox, ready to publish.</summary>
public sealed record OutboxBatch(ulong Seq, byte[] Payload, int Readings, DateTimeOffset Oldest);

/// <summary>
/// The agent's durable outbox: every batch is committed here (with its sequence number and the
/// counter totals it carries, in one transaction of the state file) before it is published, and
/// leaves only after the broker's PUBACK. Bounded by age and bytes; when a bound is passed the
/// oldest batches are dropped, logged and counted (<see cref="DroppedReadings"/>, persisted, in
/// the status message and the <c>ntp.agent.outbox.dropped</c> metric).
/// </summary>
public sealed class Outbox : IDisposable
{
    public const string MeterName = "NewTechPark.Edge.Agent";

    private readonly AgentStateStore _state;
    private readonly OutboxOptions _options;
    private readonly int _maxReadingsPerBatch;
    private readonly TimeProvider _clock;
    private readonly ILogger<Outbox> _logger;
    private readonly Channel<byte> _appended = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly List<ulong> _acknowledged = [];
    private long _firstAcknowledgedAt;
    private readonly Meter _meter;
    private long _batches;
    private long _bytes;
    private long _readings;
    private long _droppedReadings;
    private long _droppedBatches;
    private long _nextAgeCheckMs;
    private ulong _inFlight;

    public Outbox(AgentStateStore state, IOptions<AgentOptions> options, TimeProvider clock, ILogger<Outbox> logger)
        : this(state, options.Value.Outbox, options.Value.Publishing.MaxReadingsPerBatch, clock, logger)
    {
    }

    public Outbox(AgentStateStore state, OutboxOptions options, int maxReadingsPerBatch, TimeProvider clock, ILogger<Outbox> logger)
    {
        _state = state;
        _options = options;
        _maxReadingsPerBatch = maxReadingsPerBatch;
        _clock = clock;
        _logger = logger;
        lock (_state.Gate)
        {
            Execute("""
                CREATE TABLE IF NOT EXISTS outbox (
                    seq INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, oldest_ms INTEGER NOT NULL,
                    readings INTEGER NOT NULL, bytes INTEGER NOT NULL, payload BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS outbox_dropped (
                    id INTEGER PRIMARY KEY CHECK (id = 1), readings INTEGER NOT NULL, batches INTEGER NOT NULL);
                INSERT OR IGNORE INTO outbox_dropped (id, readings, batches) VALUES (1, 0, 0);
                """);
            using var command = _state.Connection.CreateCommand();
            command.CommandText = """
                SELECT count(*), coalesce(sum(bytes), 0), coalesce(sum(readings), 0),
                       (SELECT readings FROM outbox_dropped WHERE id = 1), (SELECT batches FROM outbox_dropped WHERE id = 1)
                FROM outbox
                """;
            using var reader = command.ExecuteReader();
            reader.Read();
            _batches = reader.GetInt64(0);
            _bytes = reader.GetInt64(1);
            _readings = reader.GetInt64(2);
            _droppedReadings = reader.GetInt64(3);
            _droppedBatches = reader.GetInt64(4);
        }

        if (_batches > 0)
        {
            _logger.LogInformation("Outbox {Path} holds {Batches} batch(es) with {Readings} reading(s) from before the restart; they go out first",
                _state.FilePath, _batches, _readings);
        }

        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge("ntp.agent.outbox.pending", () => PendingReadings, "{reading}", "Readings in the outbox, not yet acknowledged by the broker");
        _meter.CreateObservableGauge("ntp.agent.outbox.bytes", () => PendingBytes, "By", "Payload bytes in the outbox");
        _meter.CreateObservableCounter("ntp.agent.outbox.dropped", () => DroppedReadings, "{reading}", "Readings dropped because the outbox passed its age or size bound");
    }

    /// <summary>Raised after each commit with the batches it added (in order); runs under the outbox's lock, keep it short.</summary>
    public event Action<IReadOnlyList<OutboxEntry>>? Appended;

    public long PendingReadings => Interlocked.Read(ref _readings);

    public long PendingBatches => Interlocked.Read(ref _batches);

    public long PendingBytes => Interlocked.Read(ref _bytes);

    /// <summary>Readings dropped because the outbox was full or too old, over the device's life (persisted).</summary>
    public long DroppedReadings => Interlocked.Read(ref _droppedReadings);

    public long DroppedBatches => Interlocked.Read(ref _droppedBatches);

    /// <summary>
    /// Seals <paramref name="readings"/> into contract batches (at most the batch size and 256 KiB
    /// each, split in halves when needed, without skipping a number) and commits them with their
    /// sequence numbers and the changed counter totals in one transaction, fsynced.
    /// </summary>
    public IReadOnlyList<OutboxEntry> Append(IReadOnlyList<Reading> readings)
    {
        if (readings.Count == 0)
        {
            return [];
        }

        var sent = _clock.GetUtcNow();
        var now = sent.ToUnixTimeMilliseconds();
        var sealedBatches = new List<(ulong Seq, byte[] Payload, int Readings, long OldestMs)>();
        lock (_state.Gate)
        {
            var seq = _state.LastSequenceUnlocked;
            var parts = new Stack<Reading[]>();
            // Full batches first, in reading order (a stack: push the last part first).
            var starts = Enumerable.Range(0, (readings.Count + _maxReadingsPerBatch - 1) / _maxReadingsPerBatch).Select(i => i * _maxReadingsPerBatch).Reverse();
            foreach (var from in starts)
            {
                parts.Push([.. readings.Skip(from).Take(Math.Min(_maxReadingsPerBatch, readings.Count - from))]);
            }

            while (parts.Count > 0)
            {
                var part = parts.Pop();
                var batch = new ReadingsBatch { Seq = seq + 1, Sent = sent, Readings = part };
                var payload = JsonSerializer.SerializeToUtf8Bytes(batch, ContractJsonContext.Default.ReadingsBatch);
                if (payload.Length > ContractLimits.MaxMessageBytes && part.Length > 1)
                {
                    // Too big: split in two and try again with the same number (nothing is committed yet).
                    parts.Push(part[(part.Length / 2)..]);
                    parts.Push(part[..(part.Length / 2)]);
                    continue;
                }

                seq++;
                var oldest = part[0].Ts;
                foreach (var reading in part)
                {
                    oldest = reading.Ts < oldest ? reading.Ts : oldest;
                }

                sealedBatches.Add((seq, payload, part.Length, oldest.ToUnixTimeMilliseconds()));
            }

            var newBytes = sealedBatches.Sum(b => (long)b.Payload.Length);
            using var transaction = _state.Connection.BeginTransaction();
            DeleteAcknowledged(transaction);
            using (var insert = _state.Connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO outbox (seq, created_ms, oldest_ms, readings, bytes, payload) VALUES ($seq, $created, $oldest, $readings, $bytes, $payload)";
                var pSeq = insert.Parameters.Add("$seq", SqliteType.Integer);
                var pCreated = insert.Parameters.Add("$created", SqliteType.Integer);
                var pOldest = insert.Parameters.Add("$oldest", SqliteType.Integer);
                var pReadings = insert.Parameters.Add("$readings", SqliteType.Integer);
                var pBytes = insert.Parameters.Add("$bytes", SqliteType.Integer);
                var pPayload = insert.Parameters.Add("$payload", SqliteType.Blob);
                foreach (var batch in sealedBatches)
                {
                    pSeq.Value = unchecked((long)batch.Seq);
                    pCreated.Value = now;
                    pOldest.Value = batch.OldestMs;
                    pReadings.Value = batch.Readings;
                    pBytes.Value = batch.Payload.Length;
                    pPayload.Value = StoredPayload.Pack(batch.Payload);
                    insert.ExecuteNonQuery();
                }
            }

            _state.WriteSequence(transaction, seq);
            var dropped = EnforceBounds(transaction, newBytes, now);
            transaction.Commit();
            _state.SequenceCommitted(seq);

            Interlocked.Add(ref _batches, sealedBatches.Count - dropped.Batches);
            Interlocked.Add(ref _bytes, newBytes - dropped.Bytes);
            Interlocked.Add(ref _readings, readings.Count - dropped.Readings);
            if (dropped.Batches > 0)
            {
                Interlocked.Add(ref _droppedBatches, dropped.Batches);
                Interlocked.Add(ref _droppedReadings, dropped.Readings);
                _logger.LogWarning(
                    "Outbox full (bound {MaxBytes} bytes, {MaxAge}): dropped the {Batches} oldest batch(es), seq {First}..{Last}, {Readings} reading(s); {Total} reading(s) dropped in all",
                    _options.MaxBytes, _options.MaxAge, dropped.Batches, dropped.FirstSeq, dropped.LastSeq, dropped.Readings, DroppedReadings);
            }

            var entries = sealedBatches.Select(b => new OutboxEntry(b.Seq, b.Readings)).ToArray();
            Appended?.Invoke(entries);
            _appended.Writer.TryWrite(0);
            return entries;
        }
    }

    /// <summary>Up to <paramref name="max"/> batches after <paramref name="after"/>, in sequence order.</summary>
    public IReadOnlyList<OutboxBatch> ReadAfter(ulong after, int max)
    {
        lock (_state.Gate)
        {
            using var command = _state.Connection.CreateCommand();
            command.CommandText = "SELECT seq, payload, readings, oldest_ms, bytes FROM outbox WHERE seq > $after ORDER BY seq LIMIT $max";
            command.Parameters.AddWithValue("$after", unchecked((long)after));
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var result = new List<OutboxBatch>(max);
            while (reader.Read())
            {
                result.Add(new OutboxBatch(
                    unchecked((ulong)reader.GetInt64(0)),
                    StoredPayload.Unpack((byte[])reader.GetValue(1), reader.GetInt32(4)),
                    reader.GetInt32(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
            }

            return result;
        }
    }

    /// <summary>Completes when a batch was appended since the last call (or at once if one is waiting).</summary>
    public ValueTask<bool> WaitAppendedAsync(CancellationToken cancellationToken) => _appended.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Consumes the "appended" signal before reading, so an append after the read wakes the sender again.</summary>
    public void ResetAppendedSignal() => _appended.Reader.TryRead(out _);

    /// <summary>Changes whenever the outbox drops batches; a sender holding batches read earlier must read again.</summary>
    public long DropGeneration => Interlocked.Read(ref _droppedBatches);

    /// <summary>
    /// Marks the batch as being published; the bounds never drop it while its PUBACK may be on
    /// the way. False when batches were dropped since <paramref name="generation"/> (read again).
    /// </summary>
    public bool TrySetInFlight(ulong seq, long generation)
    {
        lock (_state.Gate)
        {
            if (generation != DropGeneration)
            {
                return false;
            }

            _inFlight = seq;
            return true;
        }
    }

    /// <summary>
    /// The broker acknowledged the batch: it no longer counts as pending and leaves the file with
    /// the next group delete (a crash before that only sends it again, which the collector
    /// recognises by its seq).
    /// </summary>
    public void Acknowledge(OutboxBatch batch)
    {
        lock (_state.Gate)
        {
            _inFlight = 0;
            if (_acknowledged.Count == 0)
            {
                _firstAcknowledgedAt = _clock.GetTimestamp();
            }

            _acknowledged.Add(batch.Seq);
            Interlocked.Add(ref _batches, -1);
            Interlocked.Add(ref _bytes, -batch.Payload.Length);
            Interlocked.Add(ref _readings, -batch.Readings);
            if (_acknowledged.Count >= _options.DeleteGroup)
            {
                FlushUnlocked();
            }
        }
    }

    /// <summary>Removes acknowledged batches from the file now.</summary>
    public void Flush()
    {
        lock (_state.Gate)
        {
            FlushUnlocked();
        }
    }

    /// <summary>Removes acknowledged batches now if the first of them was acknowledged at least <paramref name="age"/> ago.</summary>
    public void FlushIfOlderThan(TimeSpan age)
    {
        lock (_state.Gate)
        {
            if (_acknowledged.Count > 0 && _clock.GetElapsedTime(_firstAcknowledgedAt) >= age)
            {
                FlushUnlocked();
            }
        }
    }

    /// <summary>Time of the oldest reading waiting; null when the outbox is empty.</summary>
    public DateTimeOffset? Oldest()
    {
        lock (_state.Gate)
        {
            if (Interlocked.Read(ref _batches) == 0)
            {
                return null;
            }

            using var command = _state.Connection.CreateCommand();
            command.CommandText = "SELECT min(oldest_ms) FROM (SELECT oldest_ms FROM outbox ORDER BY seq LIMIT 16)";
            return command.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        }
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        catch (Exception e) when (e is SqliteException or ObjectDisposedException or InvalidOperationException)
        {
            _logger.LogDebug(e, "Outbox flush at shutdown failed");
        }

        _meter.Dispose();
    }

    private void FlushUnlocked()
    {
        if (_acknowledged.Count == 0)
        {
            return;
        }

        using var transaction = _state.Connection.BeginTransaction();
        DeleteAcknowledged(transaction);
        transaction.Commit();
        if (Interlocked.Read(ref _batches) == 0)
        {
            // Drained after a backlog: give its pages back to the file system (only when there
            // are many, so the steady state does not pay a vacuum per batch).
            using var free = _state.Connection.CreateCommand();
            free.CommandText = "PRAGMA freelist_count";
            if (free.ExecuteScalar() is long pages && pages > 1024)
            {
                Execute("PRAGMA incremental_vacuum;");
                // And cut the WAL the backlog grew to zero bytes (one connection: nothing waits).
                Execute("PRAGMA wal_checkpoint(TRUNCATE);");
            }
        }
    }

    private void DeleteAcknowledged(SqliteTransaction transaction)
    {
        if (_acknowledged.Count == 0)
        {
            return;
        }

        using var delete = _state.Connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM outbox WHERE seq = $seq";
        var p = delete.Parameters.Add("$seq", SqliteType.Integer);
        foreach (var seq in _acknowledged)
        {
            p.Value = unchecked((long)seq);
            delete.ExecuteNonQuery();
        }

        _acknowledged.Clear();
    }

    /// <summary>Drops the oldest batches while the outbox is over its byte bound or holds batches past its age; never the one in flight.</summary>
    private (long Batches, long Bytes, long Readings, ulong FirstSeq, ulong LastSeq) EnforceBounds(SqliteTransaction transaction, long newBytes, long nowMs)
    {
        var over = Interlocked.Read(ref _bytes) + newBytes - _options.MaxBytes;
        var ageCheck = nowMs >= _nextAgeCheckMs;
        if (over <= 0 && !ageCheck)
        {
            return default;
        }

        if (ageCheck)
        {
            _nextAgeCheckMs = nowMs + 60_000;
        }

        var cutoff = nowMs - (long)_options.MaxAge.TotalMilliseconds;
        var victims = new List<(long Seq, long Bytes, long Readings)>();
        long lastSeen = long.MinValue;
        while (true)
        {
            using var select = _state.Connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = "SELECT seq, created_ms, bytes, readings FROM outbox WHERE seq > $after ORDER BY seq LIMIT 512";
            select.Parameters.AddWithValue("$after", lastSeen);
            var progressed = false;
            var done = false;
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    progressed = true;
                    var seq = reader.GetInt64(0);
                    lastSeen = seq;
                    var tooOld = reader.GetInt64(1) < cutoff;
                    if (over <= 0 && !tooOld)
                    {
                        done = true;
                        break;
                    }

                    if (unchecked((ulong)seq) == _inFlight)
                    {
                        continue;
                    }

                    var bytes = reader.GetInt64(2);
                    victims.Add((seq, bytes, reader.GetInt64(3)));
                    over -= bytes;
                }
            }

            if (done || !progressed)
            {
                break;
            }
        }

        if (victims.Count == 0)
        {
            return default;
        }

        using (var delete = _state.Connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM outbox WHERE seq = $seq";
            var p = delete.Parameters.Add("$seq", SqliteType.Integer);
            foreach (var victim in victims)
            {
                p.Value = victim.Seq;
                delete.ExecuteNonQuery();
            }
        }

        var readings = victims.Sum(v => v.Readings);
        using (var count = _state.Connection.CreateCommand())
        {
            count.Transaction = transaction;
            count.CommandText = "UPDATE outbox_dropped SET readings = readings + $r, batches = batches + $b WHERE id = 1";
            count.Parameters.AddWithValue("$r", readings);
            count.Parameters.AddWithValue("$b", victims.Count);
            count.ExecuteNonQuery();
        }

        return (victims.Count, victims.Sum(v => v.Bytes), readings, unchecked((ulong)victims[0].Seq), unchecked((ulong)victims[^1].Seq));
    }

    private void Execute(string sql)
    {
        using var command = _state.Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// A batch's payload as the outbox file keeps it. Every byte written is written twice on the SD
/// card (WAL, then checkpoint), and readings JSON shrinks about fivefold with Brotli, so payloads
/// are kept compressed: a 0x00 byte, then the Brotli stream. A payload that starts with <c>{</c>
/// is plain JSON (files written before, or a payload that would not shrink).
/// </summary>
public static class StoredPayload
{
    private const byte Compressed = 0x00;

    public static byte[] Pack(byte[] json)
    {
        var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(json.Length) + 1];
        buffer[0] = Compressed;
        // Quality 4: most of the gain at a small share of the CPU of the higher levels.
        if (BrotliEncoder.TryCompress(json, buffer.AsSpan(1), out var written, quality: 4, window: 22) && written + 1 < json.Length)
        {
            return buffer.AsSpan(0, written + 1).ToArray();
        }

        return json;
    }

    /// <summary>The JSON payload; <paramref name="length"/> is its size as recorded in the row.</summary>
    public static byte[] Unpack(byte[] stored, int length)
    {
        if (stored.Length == 0 || stored[0] != Compressed)
        {
            return stored;
        }

        var json = new byte[length];
        if (!BrotliDecoder.TryDecompress(stored.AsSpan(1), json, out var written) || written != length)
        {
            throw new InvalidDataException($"an outbox payload does not decompress to its recorded {length} bytes");
        }

        return json;
    }
}
