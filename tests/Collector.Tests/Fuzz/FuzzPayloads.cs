using System.Globalization;
using System.Text;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Fuzz;

/// <summary>What a fuzz message is made of; each kind of hostile input has its own.</summary>
public enum FuzzCategory
{
    ValidBatch,
    DuplicateBatch,
    ValidStatus,
    RandomBytes,
    TruncatedBatch,
    BitFlippedBatch,
    DeepNesting,
    HugeNumbers,
    NonFinite,
    InvalidUtf8,
    Oversized,
    FarTimestamps,
    HostileTopic,
    HostilePayloadIds,
    WrongTypes,
    NullFields,
    DuplicateKeys,
    Empty,
    NotAnObject,
    MutatedStatus,
    ByteOrderMark,
}

/// <summary>What the intake must make of a message: refuse it, take it, or either (a mutation can still be valid).</summary>
public enum FuzzExpectation
{
    Reject,
    NewBatch,
    Duplicate,
    Status,
    Either,
}

public sealed record FuzzMessage(FuzzCategory Category, string Topic, byte[] Payload, FuzzExpectation Expect, ulong ValidSeq = 0);

/// <summary>
/// Generates the fuzz stream from one seed: valid batches of <see cref="ValidDevice"/> with
/// increasing seq every 20th message, resends of them, valid status messages, and between them
/// garbage and mutations of valid messages of <see cref="MutantDevice"/> (so a mutation that
/// happens to be valid never takes the seq of a tracked batch).
/// </summary>
public sealed class FuzzPayloads
{
    public const string Site = "test-site";
    public const string ValidDevice = "pi-valid";
    public const string MutantDevice = "pi-mutant";
    public const string ValidSensor = "climate-valid";
    public const string ValidBadge = "badge-valid";

    /// <summary>Every 20th message is a valid batch; every tenth of those has a badge scan too.</summary>
    public const int ValidEvery = 20;

    private static readonly FuzzCategory[] Garbage =
    [
        FuzzCategory.RandomBytes, FuzzCategory.TruncatedBatch, FuzzCategory.BitFlippedBatch,
        FuzzCategory.HugeNumbers, FuzzCategory.NonFinite, FuzzCategory.InvalidUtf8, FuzzCategory.FarTimestamps,
        FuzzCategory.HostileTopic, FuzzCategory.HostilePayloadIds, FuzzCategory.WrongTypes, FuzzCategory.NullFields,
        FuzzCategory.DuplicateKeys, FuzzCategory.Empty, FuzzCategory.NotAnObject, FuzzCategory.MutatedStatus, FuzzCategory.ByteOrderMark,
    ];

    private readonly Random _random;
    private readonly DateTimeOffset _now;
    private readonly string _readingsTopic = ContractTopics.Readings(Site, MutantDevice);
    private readonly string _statusTopic = ContractTopics.Status(Site, MutantDevice);
    private readonly string[] _batchTemplates;
    private readonly string _statusTemplate;
    private readonly byte[][] _batchBytes;
    private readonly byte[] _statusBytes;
    private readonly byte[][] _deep;
    private readonly byte[][] _oversized;
    private ulong _seq;
    private byte[]? _lastValid;

    public FuzzPayloads(int seed, DateTimeOffset now)
    {
        _random = new Random(seed);
        _now = now;
        var sent = Ts(now.AddSeconds(-1));
        var ts = Ts(now.AddSeconds(-2));
        _batchTemplates =
        [
            "{\"v\":1,\"seq\":7,\"sent\":\"" + sent + "\",\"readings\":[{\"ts\":\"" + ts + "\",\"sensor\":\"climate-1\",\"kind\":\"climate\",\"values\":{\"temperature_c\":21.5,\"humidity_pct\":40.25}}]}",
            "{\"v\":1,\"seq\":8,\"sent\":\"" + sent + "\",\"readings\":[{\"ts\":\"" + ts + "\",\"sensor\":\"door-x\",\"kind\":\"door\",\"values\":{\"in\":2,\"out\":1,\"in_total\":100,\"out_total\":90}}]}",
            $$"""{"v":1,"seq":9,"sent":"{{sent}}","readings":[{"ts":"{{ts}}","sensor":"badge-1","kind":"badge","visitor":"AAAAAAAAAAAAAAAAAAAAAA"}]}""",
        ];
        _statusTemplate = "{\"v\":1,\"state\":\"online\",\"ts\":\"" + sent + "\",\"version\":\"1.2.3\",\"boot\":\"" + ts
            + "\",\"uptime_s\":3600,\"outbox\":{\"pending\":0,\"oldest\":null,\"dropped\":0},\"sensors\":{\"climate-1\":\"ok\"}}";
        _batchBytes = [.. _batchTemplates.Select(Encoding.UTF8.GetBytes)];
        _statusBytes = Encoding.UTF8.GetBytes(_statusTemplate);
        _deep =
        [
            Encoding.ASCII.GetBytes(new string('[', 100_000)),
            Encoding.ASCII.GetBytes("{\"v\":1,\"seq\":1,\"sent\":" + new string('[', 100_000)),
            Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 20_000)) + "1" + new string('}', 20_000)),
            Encoding.ASCII.GetBytes("{\"v\":1,\"seq\":1,\"sent\":\"" + sent + "\",\"readings\":[{\"ts\":\"" + ts + "\",\"sensor\":\"s\",\"kind\":\"climate\",\"values\":" + new string('{', 1000)),
        ];
        _oversized =
        [
            Repeat(_batchBytes[0], 3 * 1024 * 1024),
            Encoding.ASCII.GetBytes(new string(' ', 4 * 1024 * 1024) + _batchTemplates[0]),
            ManyReadings(now, 5 * 1024 * 1024),
        ];
    }

    /// <summary>Valid batches generated so far (their seq runs 1…this).</summary>
    public ulong ValidBatches => _seq;

    public static string StatusTopicOf(string device) => ContractTopics.Status(Site, device);

    public static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The reading time of valid batch <paramref name="seq"/>: one millisecond apart, inside the last hour.</summary>
    public DateTimeOffset ValidTs(ulong seq) => _now.AddHours(-1).AddMilliseconds(seq);

    public static double ValidTemperature(ulong seq) => Math.Round((seq % 4000) * 0.01 - 10, 2);

    public static double ValidHumidity(ulong seq) => seq % 101;

    /// <summary>The badge pseudonym of valid batch <paramref name="seq"/> (each tenth batch has one).</summary>
    public static string ValidVisitor(ulong seq) => ("V" + seq.ToString(CultureInfo.InvariantCulture)).PadRight(22, 'x');

    public static bool HasBadge(ulong seq) => seq % 10 == 0;

    public FuzzMessage Next(long index)
    {
        if (index % ValidEvery == 0)
        {
            return NextValid();
        }

        if (index % 97 == 0 && _lastValid is not null)
        {
            return new(FuzzCategory.DuplicateBatch, ContractTopics.Readings(Site, ValidDevice), _lastValid, FuzzExpectation.Duplicate);
        }

        if (index % 89 == 0)
        {
            var status = string.Create(CultureInfo.InvariantCulture,
                $"{{\"v\":1,\"state\":\"online\",\"ts\":\"{Ts(_now)}\",\"version\":\"fuzz-{index}\",\"uptime_s\":{index},\"outbox\":{{\"pending\":{index % 7},\"oldest\":null,\"dropped\":0}}}}");
            return new(FuzzCategory.ValidStatus, ContractTopics.Status(Site, ValidDevice), Encoding.UTF8.GetBytes(status), FuzzExpectation.Status);
        }

        if (index % 10_007 == 5)
        {
            return new(FuzzCategory.Oversized, _readingsTopic, Pick(_oversized), FuzzExpectation.Reject);
        }

        // Deep nesting is 100 KB a message: often enough to matter, not so often it is most of the bytes.
        if (index % 997 == 3)
        {
            return new(FuzzCategory.DeepNesting, _readingsTopic, Pick(_deep), FuzzExpectation.Reject);
        }

        var category = Garbage[_random.Next(Garbage.Length)];
        return category switch
        {
            FuzzCategory.RandomBytes => RandomBytes(),
            FuzzCategory.TruncatedBatch => Truncated(),
            FuzzCategory.BitFlippedBatch => BitFlipped(),
            FuzzCategory.HugeNumbers => HugeNumbers(),
            FuzzCategory.NonFinite => NonFinite(),
            FuzzCategory.InvalidUtf8 => InvalidUtf8(),
            FuzzCategory.FarTimestamps => FarTimestamps(),
            FuzzCategory.HostileTopic => HostileTopic(),
            FuzzCategory.HostilePayloadIds => HostilePayloadIds(),
            FuzzCategory.WrongTypes => WrongTypes(),
            FuzzCategory.NullFields => NullFields(),
            FuzzCategory.DuplicateKeys => DuplicateKeys(),
            FuzzCategory.Empty => new(category, _random.Next(2) == 0 ? _readingsTopic : _statusTopic, Pick(EmptyPayloads), FuzzExpectation.Reject),
            FuzzCategory.NotAnObject => new(category, _random.Next(2) == 0 ? _readingsTopic : _statusTopic, Encoding.UTF8.GetBytes(Pick(NotObjects)), FuzzExpectation.Reject),
            FuzzCategory.MutatedStatus => MutatedStatus(),
            FuzzCategory.ByteOrderMark => new(category, _readingsTopic, [0xEF, 0xBB, 0xBF, .. Pick(_batchBytes)], FuzzExpectation.Either),
            _ => throw new InvalidOperationException($"no generator for {category}"),
        };
    }

    private FuzzMessage NextValid()
    {
        var seq = ++_seq;
        var ts = Ts(ValidTs(seq));
        var badge = HasBadge(seq) ? $$""",{"ts":"{{ts}}","sensor":"{{ValidBadge}}","kind":"badge","visitor":"{{ValidVisitor(seq)}}"}""" : string.Empty;
        var json = string.Create(CultureInfo.InvariantCulture,
            $"{{\"v\":1,\"seq\":{seq},\"sent\":\"{Ts(_now)}\",\"readings\":[{{\"ts\":\"{ts}\",\"sensor\":\"{ValidSensor}\",\"kind\":\"climate\",\"values\":{{\"temperature_c\":{ValidTemperature(seq)},\"humidity_pct\":{ValidHumidity(seq)}}}}}{badge}]}}");
        _lastValid = Encoding.UTF8.GetBytes(json);
        return new(FuzzCategory.ValidBatch, ContractTopics.Readings(Site, ValidDevice), _lastValid, FuzzExpectation.NewBatch, seq);
    }

    private FuzzMessage RandomBytes()
    {
        var bytes = new byte[_random.Next(0, 97)];
        _random.NextBytes(bytes);
        // Random bytes that start like JSON get a little further into the parser.
        if (bytes.Length > 2 && _random.Next(3) == 0)
        {
            bytes[0] = (byte)'{';
            bytes[1] = (byte)'"';
        }

        return new(FuzzCategory.RandomBytes, _random.Next(2) == 0 ? _readingsTopic : _statusTopic, bytes, FuzzExpectation.Reject);
    }

    private FuzzMessage Truncated()
    {
        var template = Pick(_batchBytes);
        return new(FuzzCategory.TruncatedBatch, _readingsTopic, template[.._random.Next(0, template.Length)], FuzzExpectation.Reject);
    }

    private FuzzMessage BitFlipped()
    {
        var bytes = (byte[])Pick(_batchBytes).Clone();
        var flips = _random.Next(1, 4);
        for (var i = 0; i < flips; i++)
        {
            bytes[_random.Next(bytes.Length)] ^= (byte)(1 << _random.Next(8));
        }

        return new(FuzzCategory.BitFlippedBatch, _readingsTopic, bytes, FuzzExpectation.Either);
    }

    private static readonly (string Find, string Replace, bool MustReject)[] HugeNumberEdits =
    [
        ("21.5", "1e400", true),
        ("21.5", "-1e400", true),
        ("21.5", "1234567890123456789012345678901234567890", false),
        ("21.5", "0.0000000000000000000000000000000000000000000000000000000000000000000000000000001", false),
        ("21.5", "1" + new string('0', 400), true),
        ("\"seq\":7", "\"seq\":1234567890123456789012345678901234567890", true),
        ("\"seq\":7", "\"seq\":18446744073709551616", true),
        ("\"seq\":7", "\"seq\":18446744073709551615", false),
        ("\"v\":1", "\"v\":1234567890123456789012345678901234567890", true),
        ("\"v\":1", "\"v\":1e400", true),
        ("\"in\":2", "\"in\":1e300", false),
        ("\"in_total\":100", "\"in_total\":1234567890123456789012345678901234567890", false),
    ];

    private FuzzMessage HugeNumbers()
    {
        var (find, replace, mustReject) = Pick(HugeNumberEdits);
        var template = find.Contains("\"in", StringComparison.Ordinal) ? _batchTemplates[1] : _batchTemplates[0];
        return Edited(FuzzCategory.HugeNumbers, template, find, replace, mustReject);
    }

    private static readonly string[] NonFiniteLiterals = ["NaN", "-NaN", "Infinity", "-Infinity", "\"NaN\"", "\"Infinity\"", "nan", "inf", "1e309", "-1e309"];

    private FuzzMessage NonFinite() => Edited(FuzzCategory.NonFinite, _batchTemplates[0], "21.5", Pick(NonFiniteLiterals), mustReject: true);

    private static readonly byte[][] BadUtf8 =
    [
        [0xFF],
        [0xC0, 0xAF],                   // overlong '/'
        [0xC1, 0xBF],                   // overlong
        [0xE0, 0x80, 0xAF],             // overlong '/' in three bytes
        [0xF0, 0x80, 0x80, 0xAF],       // overlong '/' in four bytes
        [0xED, 0xA0, 0x80],             // a UTF-16 surrogate
        [0xF8, 0x88, 0x80, 0x80, 0x80], // five-byte form
        [0xE2, 0x82],                   // cut short
        [0x80],                         // lone continuation byte
        [0xF4, 0x90, 0x80, 0x80],       // beyond U+10FFFF
    ];

    private FuzzMessage InvalidUtf8()
    {
        // Into the sensor id (must be refused) or into a value name, the kind, or an unknown field's string.
        var bad = Pick(BadUtf8);
        var (template, anchor, mustReject) = _random.Next(4) switch
        {
            0 => (_batchTemplates[0], "\"sensor\":\"climate-1", true),
            1 => (_batchTemplates[0], "\"temperature_c", true),
            2 => (_batchTemplates[0], "\"kind\":\"climate", true),
            _ => (_statusTemplate, "\"version\":\"1.2.3", false),
        };
        var bytes = Encoding.UTF8.GetBytes(template);
        var at = IndexOf(bytes, Encoding.UTF8.GetBytes(anchor)) + anchor.Length - _random.Next(0, 3);
        byte[] payload = [.. bytes.AsSpan(0, at), .. bad, .. bytes.AsSpan(at)];
        var topic = template == _statusTemplate ? _statusTopic : _readingsTopic;
        return new(FuzzCategory.InvalidUtf8, topic, payload, mustReject ? FuzzExpectation.Reject : FuzzExpectation.Either);
    }

    private FuzzMessage FarTimestamps()
    {
        string[] far =
        [
            "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "1900-02-29T00:00:00.000Z",
            Ts(_now.AddYears(100)), Ts(_now.AddMinutes(6)), Ts(_now.AddDays(-401)), "+275760-09-13T00:00:00.000Z",
            "10000-01-01T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-06-10T25:00:00.000Z", "2026-06-10T10:00:00Z",
            "2026-06-10T12:00:00.000+02:00", "2026-06-10 10:00:00.000Z", "", "now", "1781085600000",
        ];
        var ts = Ts(_now.AddSeconds(-2));
        var template = Pick(_batchTemplates);
        // The reading's time is checked; the batch's sent time is only parsed.
        return _random.Next(4) == 0
            ? Edited(FuzzCategory.FarTimestamps, template, "\"sent\":\"" + Ts(_now.AddSeconds(-1)) + "\"", "\"sent\":\"" + Pick(far) + "\"", mustReject: false)
            : Edited(FuzzCategory.FarTimestamps, template, "\"ts\":\"" + ts + "\"", "\"ts\":\"" + Pick(far) + "\"", mustReject: true);
    }

    private static readonly string[] HostileIds =
    [
        "+", "#", "pi/x", "pi+", "pi#", "a/b/c", "pi\u0000x", "\u0000", "pi-\u202Eevil", "pi-\U0001F600", "PI-UPPER", "pi x", "-pi", "",
        "pi-" + new string('a', 70), "..", "pi\nx", "pi\\x", "$SYS", "pi-é",
    ];

    private FuzzMessage HostileTopic()
    {
        var id = Pick(HostileIds);
        var topic = _random.Next(6) switch
        {
            0 => $"ntp/v1/{Site}/{id}/readings",
            1 => $"ntp/v1/{id}/{MutantDevice}/status",
            2 => $"ntp/v1/{id}/{id}/readings",
            3 => Pick(new[] { "ntp/v1/#", "ntp/v1/+/+/readings", "#", "ntp/v1/test-site/pi-mutant/readings/extra", "ntp/v1/test-site/pi-mutant/", "/", "ntp//test-site/pi-mutant/readings", "ntp/v2/test-site/pi-mutant/readings", "NTP/v1/test-site/pi-mutant/readings" }),
            4 => $"ntp/v1/{Site}/pi-{new string('x', 70_000)}/readings",
            _ => $"ntp/v1/{Site}/{MutantDevice}/status\u0000/readings",
        };
        var payload = topic.EndsWith("/status", StringComparison.Ordinal) ? _statusBytes : Pick(_batchBytes);
        return new(FuzzCategory.HostileTopic, topic, payload, FuzzExpectation.Reject);
    }

    private FuzzMessage HostilePayloadIds()
    {
        var id = Escape(Pick(HostileIds));
        return _random.Next(4) switch
        {
            0 => Edited(FuzzCategory.HostilePayloadIds, _batchTemplates[0], "\"sensor\":\"climate-1\"", $"\"sensor\":\"{id}\"", mustReject: true),
            1 => Edited(FuzzCategory.HostilePayloadIds, _batchTemplates[0], "\"kind\":\"climate\"", $"\"kind\":\"{id}\"", mustReject: true),
            2 => Edited(FuzzCategory.HostilePayloadIds, _batchTemplates[0], "\"temperature_c\"", $"\"{id}\"", mustReject: true),
            _ => Edited(FuzzCategory.HostilePayloadIds, _batchTemplates[2], "\"visitor\":\"AAAAAAAAAAAAAAAAAAAAAA\"", $"\"visitor\":\"{id}\"", mustReject: true),
        };
    }

    /// <summary>Each field with a value of a type it never has.</summary>
    private static readonly (int Template, string Field, string Original, string[] Wrong)[] Fields =
    [
        (0, "v", "1", ["\"1\"", "true", "{}", "[]", "1.5", "-1"]),
        (0, "seq", "7", ["\"7\"", "true", "{}", "[]", "1.5", "-7"]),
        (0, "sent", null!, ["1", "true", "{}", "[]"]),
        (0, "readings", null!, ["\"x\"", "1", "true", "{}", "[1]", "[\"x\"]", "[[]]"]),
        (0, "ts", null!, ["1", "true", "{}", "[]"]),
        (0, "sensor", "\"climate-1\"", ["1", "true", "{}", "[]"]),
        (0, "kind", "\"climate\"", ["1", "true", "{}", "[]"]),
        (0, "values", null!, ["\"x\"", "1", "true", "[]", "[1]", "{\"temperature_c\":\"1\"}", "{\"temperature_c\":true}", "{\"temperature_c\":{}}", "{\"temperature_c\":[]}", "{\"temperature_c\":null}"]),
        (2, "visitor", "\"AAAAAAAAAAAAAAAAAAAAAA\"", ["1", "true", "{}", "[]"]),
    ];

    private static readonly (string Field, string Original, string[] Wrong)[] StatusFields =
    [
        ("v", "1", ["\"1\"", "true", "{}", "[]"]),
        ("state", "\"online\"", ["1", "true", "{}", "[]", "\"ONLINE\"", "\"\""]),
        ("ts", null!, ["1", "true", "{}", "[]", "\"yesterday\""]),
        ("version", "\"1.2.3\"", ["1", "true", "{}", "[]"]),
        ("boot", null!, ["1", "true", "{}", "[]"]),
        ("uptime_s", "3600", ["\"3600\"", "true", "{}", "[]", "1.5", "-1"]),
        ("outbox", null!, ["\"x\"", "1", "true", "[]", "{\"pending\":-1}", "{\"pending\":\"1\"}", "{\"dropped\":-1}", "{\"oldest\":1}"]),
        ("sensors", null!, ["\"x\"", "1", "true", "[]", "{\"climate-1\":1}", "{\"Bad Id\":\"ok\"}"]),
    ];

    private FuzzMessage WrongTypes()
    {
        if (_random.Next(3) == 0)
        {
            var (field, original, wrong) = Pick(StatusFields);
            return ReplaceValue(FuzzCategory.WrongTypes, _statusTemplate, field, original, Pick(wrong), _statusTopic, FuzzExpectation.Reject);
        }

        var f = Pick(Fields);
        return ReplaceValue(FuzzCategory.WrongTypes, _batchTemplates[f.Template], f.Field, f.Original, Pick(f.Wrong), _readingsTopic, FuzzExpectation.Reject);
    }

    private FuzzMessage NullFields()
    {
        // null where a value is required is refused; where it is optional it is allowed.
        string[] required = ["v", "seq", "sent", "readings", "ts", "sensor", "kind"];
        var field = Pick(required);
        return ReplaceValue(FuzzCategory.NullFields, _batchTemplates[0], field, null, "null", _readingsTopic, FuzzExpectation.Reject);
    }

    private FuzzMessage DuplicateKeys()
    {
        var edits = new (string Template, string Find, string Replace, string Topic)[]
        {
            (_batchTemplates[0], "\"v\":1", "\"v\":1,\"v\":1", _readingsTopic),
            (_batchTemplates[0], "\"seq\":7", "\"seq\":7,\"seq\":8", _readingsTopic),
            (_batchTemplates[0], "\"sensor\":\"climate-1\"", "\"sensor\":\"climate-1\",\"sensor\":\"climate-2\"", _readingsTopic),
            (_batchTemplates[0], "\"temperature_c\":21.5", "\"temperature_c\":21.5,\"temperature_c\":99", _readingsTopic),
            (_batchTemplates[0], "\"readings\":[", "\"readings\":[],\"readings\":[", _readingsTopic),
            (_batchTemplates[2], "\"visitor\":\"AAAAAAAAAAAAAAAAAAAAAA\"", "\"visitor\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"visitor\":\"BBBBBBBBBBBBBBBBBBBBBB\"", _readingsTopic),
            (_statusTemplate, "\"state\":\"online\"", "\"state\":\"online\",\"state\":\"offline\"", _statusTopic),
            (_statusTemplate, "\"climate-1\":\"ok\"", "\"climate-1\":\"ok\",\"climate-1\":\"failed\"", _statusTopic),
        };
        var (template, find, replace, topic) = Pick(edits);
        return Edited(FuzzCategory.DuplicateKeys, template, find, replace, mustReject: true, topic);
    }

    private static readonly byte[][] EmptyPayloads = [[], " "u8.ToArray(), "\n"u8.ToArray(), "\t\r\n "u8.ToArray(), [0]];

    private static readonly string[] NotObjects = ["[]", "[1,2]", "[{}]", "1", "-0", "\"readings\"", "true", "false", "null", "1e400", "\"\"", "{}", "{\"v\":1}", "[" + "{\"v\":1,\"seq\":1}" + "]"];

    private FuzzMessage MutatedStatus()
    {
        var bytes = (byte[])_statusBytes.Clone();
        switch (_random.Next(4))
        {
            case 0:
                return new(FuzzCategory.MutatedStatus, _statusTopic, bytes[.._random.Next(bytes.Length)], FuzzExpectation.Reject);
            case 1:
                for (var i = _random.Next(1, 4); i > 0; i--)
                {
                    bytes[_random.Next(bytes.Length)] ^= (byte)(1 << _random.Next(8));
                }

                return new(FuzzCategory.MutatedStatus, _statusTopic, bytes, FuzzExpectation.Either);
            case 2:
                return Edited(FuzzCategory.MutatedStatus, _statusTemplate, "\"uptime_s\":3600", "\"uptime_s\":" + Pick(new[] { "1e400", "1234567890123456789012345678901234567890", "NaN", "-Infinity" }), mustReject: true, _statusTopic);
            default:
                // A status on a readings topic and a batch on a status topic.
                return _random.Next(2) == 0
                    ? new(FuzzCategory.MutatedStatus, _readingsTopic, bytes, FuzzExpectation.Reject)
                    : new(FuzzCategory.MutatedStatus, _statusTopic, Pick(_batchBytes), FuzzExpectation.Reject);
        }
    }

    private FuzzMessage ReplaceValue(FuzzCategory category, string template, string field, string? original, string replacement, string topic, FuzzExpectation expect)
    {
        var key = "\"" + field + "\":";
        var start = template.IndexOf(key, StringComparison.Ordinal) + key.Length;
        var end = original is null ? EndOfValue(template, start) : start + original.Length;
        return new(category, topic, Encoding.UTF8.GetBytes(template[..start] + replacement + template[end..]), expect);
    }

    /// <summary>The end of the JSON value that starts at <paramref name="start"/> (strings, objects, arrays of the templates).</summary>
    private static int EndOfValue(string json, int start)
    {
        if (json[start] == '"')
        {
            return json.IndexOf('"', start + 1) + 1;
        }

        var depth = 0;
        for (var i = start; i < json.Length; i++)
        {
            switch (json[i])
            {
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (--depth == 0)
                    {
                        return i + 1;
                    }

                    if (depth < 0)
                    {
                        return i;
                    }

                    break;
                case ',' when depth == 0:
                    return i;
            }
        }

        return json.Length;
    }

    private FuzzMessage Edited(FuzzCategory category, string template, string find, string replace, bool mustReject, string? topic = null)
    {
        var at = template.IndexOf(find, StringComparison.Ordinal);
        if (at < 0)
        {
            throw new InvalidOperationException($"template has no '{find}'");
        }

        var json = template[..at] + replace + template[(at + find.Length)..];
        return new(category, topic ?? _readingsTopic, Encoding.UTF8.GetBytes(json), mustReject ? FuzzExpectation.Reject : FuzzExpectation.Either);
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private static string Escape(string id)
    {
        var text = new StringBuilder();
        foreach (var c in id)
        {
            text.Append(c < 0x20 || c is '"' or '\\' ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return text.ToString();
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    private static byte[] Repeat(byte[] unit, int atLeast)
    {
        var bytes = new byte[atLeast + unit.Length];
        for (var at = 0; at < bytes.Length; at += unit.Length)
        {
            unit.AsSpan(0, Math.Min(unit.Length, bytes.Length - at)).CopyTo(bytes.AsSpan(at));
        }

        return bytes;
    }

    /// <summary>A well-formed batch that is too large: many readings, each valid on its own.</summary>
    private static byte[] ManyReadings(DateTimeOffset now, int atLeast)
    {
        var text = new StringBuilder("{\"v\":1,\"seq\":1,\"sent\":\"").Append(Ts(now)).Append("\",\"readings\":[");
        var i = 0;
        while (text.Length < atLeast)
        {
            text.Append(i++ == 0 ? string.Empty : ",").Append("{\"ts\":\"").Append(Ts(now.AddMilliseconds(-i))).Append("\",\"sensor\":\"climate-1\",\"kind\":\"climate\",\"values\":{\"temperature_c\":21.5}}");
        }

        return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }
}
