using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>One message that breaks one rule of the contract.</summary>
/// <param name="Name">Short name, shown in the test results.</param>
/// <param name="Rule">The rule the collector must name when it refuses the message.</param>
/// <param name="Channel">Whether it is validated as readings or as a status.</param>
/// <param name="Topic">The topic it arrives on.</param>
/// <param name="SchemaCanExpress">
/// True when the JSON Schema files must refuse it too; false for what JSON Schema cannot say
/// (the size limit, the topic, the time window, bytes that are not JSON, names that appear twice).
/// </param>
/// <param name="Build">The payload bytes.</param>
public sealed record BrokenCase(
    string Name,
    ContractRule Rule,
    TopicChannel Channel,
    string Topic,
    bool SchemaCanExpress,
    Func<byte[]> Build);

/// <summary>
/// The broken messages, each made from a valid example of CONTRACT.md with a single change.
/// </summary>
public static class BrokenPayloads
{
    // Readings of the batch example, by position.
    private const int Door = 0;
    private const int Energy = 1;
    private const int Dc = 2;
    private const int Climate = 3;
    internal const int Badge = 4;

    private static readonly Lazy<IReadOnlyDictionary<string, BrokenCase>> Catalog =
        new(() => Cases().ToDictionary(c => c.Name, StringComparer.Ordinal));

    public static IReadOnlyDictionary<string, BrokenCase> All => Catalog.Value;

    public static BrokenCase Get(string name) => All[name];

    /// <summary>Names of the cases that break <paramref name="rule"/>, for [MemberData].</summary>
    public static TheoryData<string> NamesFor(ContractRule rule)
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Values.Where(c => c.Rule == rule))
        {
            data.Add(c.Name);
        }

        return data;
    }

    /// <summary>Names of the cases that the schema files must refuse too.</summary>
    public static TheoryData<string> SchemaExpressibleNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Values.Where(c => c.SchemaCanExpress))
        {
            data.Add(c.Name);
        }

        return data;
    }

    /// <summary>The readings example of CONTRACT.md as a mutable tree.</summary>
    public static JsonObject ReadingsExample() => JsonNode.Parse(ContractFiles.ReadingsExample)!.AsObject();

    /// <summary>The status example of CONTRACT.md as a mutable tree.</summary>
    public static JsonObject StatusExample() => JsonNode.Parse(ContractFiles.StatusExample)!.AsObject();

    public static byte[] Batch(Action<JsonObject> edit)
    {
        var batch = ReadingsExample();
        edit(batch);
        return Encoding.UTF8.GetBytes(batch.ToJsonString());
    }

    public static byte[] EditReading(int index, Action<JsonObject> edit) =>
        Batch(b => edit(b["readings"]![index]!.AsObject()));

    public static byte[] EditValues(int index, Action<JsonObject> edit) =>
        EditReading(index, r => edit(r["values"]!.AsObject()));

    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static byte[] Status(Action<JsonObject> edit)
    {
        var status = StatusExample();
        edit(status);
        return Encoding.UTF8.GetBytes(status.ToJsonString());
    }

    /// <summary>Renames a property in place (keeping its value).</summary>
    private static void Rename(JsonObject values, string from, string to)
    {
        var value = values[from]!.DeepClone();
        values.Remove(from);
        values[to] = value;
    }

    private static IEnumerable<BrokenCase> Cases()
    {
        static BrokenCase R(string name, ContractRule rule, bool schema, Func<byte[]> build) =>
            new(name, rule, TopicChannel.Readings, ContractFiles.ReadingsTopic, schema, build);

        static BrokenCase S(string name, ContractRule rule, bool schema, Func<byte[]> build) =>
            new(name, rule, TopicChannel.Status, ContractFiles.StatusTopic, schema, build);

        static byte[] Valid() => Encoding.UTF8.GetBytes(ContractFiles.ReadingsExample);

        // Size: a valid batch with an extension field that makes it larger than 256 KiB.
        yield return R("larger-than-256-kib", ContractRule.MessageTooLarge, false,
            () => Batch(b => b["note"] = new string('x', ContractLimits.MaxMessageBytes + 1)));

        // Not JSON, or not of the contract's shape.
        yield return R("not-json", ContractRule.MalformedJson, false, () => "this is not JSON"u8.ToArray());
        yield return R("invalid-utf8", ContractRule.MalformedJson, false, () =>
        {
            var bytes = Valid();
            var at = bytes.AsSpan().IndexOf("door-main"u8);
            bytes[at] = 0xFF; // never valid in UTF-8
            bytes[at + 1] = 0xFE;
            return bytes;
        });
        yield return R("missing-required-field", ContractRule.MalformedJson, true, () => Batch(b => b.Remove("sent")));
        yield return R("seq-negative", ContractRule.MalformedJson, true, () => Batch(b => b["seq"] = -1));
        yield return R("json-null", ContractRule.MalformedJson, true, () => "null"u8.ToArray());
        yield return R("readings-null", ContractRule.MalformedJson, true, () => Batch(b => b["readings"] = null));
        yield return R("reading-null", ContractRule.MalformedJson, true, () => Batch(b => b["readings"]![Door] = null));
        yield return R("duplicate-property", ContractRule.MalformedJson, false, () =>
            Encoding.UTF8.GetBytes(ContractFiles.ReadingsExample.Replace("\"seq\": 18446,", "\"seq\": 18446, \"seq\": 18447,", StringComparison.Ordinal)));

        // Topics.
        yield return new("topic-with-wildcards", ContractRule.InvalidTopic, TopicChannel.Readings, "ntp/v1/+/+/readings", false, Valid);
        yield return new("topic-with-multi-level-wildcard", ContractRule.InvalidTopic, TopicChannel.Readings, "ntp/v1/newtechpark/#", false, Valid);
        yield return new("topic-wrong-version", ContractRule.InvalidTopic, TopicChannel.Readings, "ntp/v2/newtechpark/pi-entrance/readings", false, Valid);
        yield return new("topic-uppercase-device", ContractRule.InvalidTopic, TopicChannel.Readings, "ntp/v1/newtechpark/Pi-Entrance/readings", false, Valid);
        yield return new("topic-extra-level", ContractRule.InvalidTopic, TopicChannel.Readings, "ntp/v1/newtechpark/pi-entrance/readings/extra", false, Valid);
        yield return new("readings-on-status-topic", ContractRule.InvalidTopic, TopicChannel.Readings, ContractFiles.StatusTopic, false, Valid);

        // Version.
        yield return R("readings-version-2", ContractRule.UnsupportedVersion, true, () => Batch(b => b["v"] = 2));
        yield return S("status-version-2", ContractRule.UnsupportedVersion, true, () => Status(s => s["v"] = 2));

        // Batch size.
        yield return R("seq-2-pow-63", ContractRule.SeqOutOfRange, true, () => Batch(b => b["seq"] = 9223372036854775808UL));
        yield return R("seq-2-pow-64-minus-1", ContractRule.SeqOutOfRange, true, () => Batch(b => b["seq"] = ulong.MaxValue));
        yield return R("no-readings", ContractRule.EmptyBatch, true, () => Batch(b => b["readings"] = new JsonArray()));
        yield return R("1001-readings", ContractRule.TooManyReadings, true, () => Batch(b =>
        {
            var one = b["readings"]![Energy]!;
            var many = new JsonArray();
            for (var i = 0; i < ContractLimits.MaxReadingsPerBatch + 1; i++)
            {
                many.Add(one.DeepClone());
            }

            b["readings"] = many;
        }));

        // Timestamp format.
        yield return R("timestamp-without-z", ContractRule.TimestampFormat, true,
            () => EditReading(Door, r => r["ts"] = "2026-11-28T09:15:02.100"));
        yield return R("timestamp-without-milliseconds", ContractRule.TimestampFormat, true,
            () => EditReading(Door, r => r["ts"] = "2026-11-28T09:15:02Z"));
        yield return R("timestamp-with-offset", ContractRule.TimestampFormat, true,
            () => EditReading(Door, r => r["ts"] = "2026-11-28T10:15:02.100+01:00"));
        yield return R("timestamp-as-number", ContractRule.TimestampFormat, true,
            () => EditReading(Door, r => r["ts"] = 1764321302100));
        yield return R("timestamp-with-trailing-newline", ContractRule.TimestampFormat, true,
            () => EditReading(Door, r => r["ts"] = "2026-11-28T09:15:02.100Z\n"));
        yield return R("sent-without-z", ContractRule.TimestampFormat, true,
            () => Batch(b => b["sent"] = "2026-11-28T09:15:02.120"));

        // Time window.
        yield return R("reading-6-minutes-ahead", ContractRule.TimestampOutOfRange, false,
            () => EditReading(Door, r => r["ts"] = Timestamp(ContractClock.Now.AddMinutes(6))));
        yield return R("reading-401-days-old", ContractRule.TimestampOutOfRange, false,
            () => EditReading(Door, r => r["ts"] = Timestamp(ContractClock.Now.AddDays(-401))));

        // Identifiers and names.
        yield return R("sensor-not-a-slug", ContractRule.InvalidIdentifier, true,
            () => EditReading(Door, r => r["sensor"] = "Door_Main"));
        yield return R("sensor-with-trailing-newline", ContractRule.InvalidIdentifier, true,
            () => EditReading(Door, r => r["sensor"] = "door-main\n"));
        yield return S("status-sensor-key-not-a-slug", ContractRule.InvalidIdentifier, true,
            () => Status(s => s["sensors"]!["Door Main"] = "ok"));
        yield return R("sensor-null", ContractRule.InvalidIdentifier, true,
            () => EditReading(Door, r => r["sensor"] = null));
        yield return R("kind-not-a-slug", ContractRule.InvalidKind, true,
            () => EditReading(Energy, r => r["kind"] = "Energy Meter"));
        yield return R("kind-null", ContractRule.InvalidKind, true,
            () => EditReading(Energy, r => r["kind"] = null));
        yield return R("value-name-uppercase", ContractRule.InvalidValueName, true,
            () => EditValues(Energy, v => Rename(v, "power_w", "Power_W")));
        yield return R("value-name-with-trailing-newline", ContractRule.InvalidValueName, true,
            () => EditValues(Energy, v => Rename(v, "power_w", "power_w\n")));
        yield return R("value-name-without-unit", ContractRule.ValueNameWithoutUnit, true,
            () => EditValues(Energy, v => Rename(v, "power_w", "power")));

        // Values.
        yield return R("value-is-string", ContractRule.NonNumericValue, true, () => EditValues(Dc, v => v["power_w"] = "12"));
        yield return R("value-is-true", ContractRule.NonNumericValue, true, () => EditValues(Dc, v => v["power_w"] = true));
        yield return R("value-is-null", ContractRule.NonNumericValue, true, () => EditValues(Dc, v => v["power_w"] = null));
        yield return R("value-overflows-double", ContractRule.NonFiniteValue, true,
            () => EditValues(Dc, v => v["power_w"] = JsonNode.Parse("1e400")));
        yield return R("33-values", ContractRule.TooManyValues, true, () => EditValues(Climate, v =>
        {
            for (var i = v.Count; i < ContractLimits.MaxValuesPerReading + 1; i++)
            {
                v[$"probe{i}_c"] = 20.5;
            }
        }));
        yield return R("values-missing", ContractRule.MissingValues, true, () => EditReading(Energy, r => r.Remove("values")));
        yield return R("values-empty", ContractRule.MissingValues, true, () => EditReading(Dc, r => r["values"] = new JsonObject()));

        // Counts.
        yield return R("counter-negative", ContractRule.InvalidCount, true, () => EditValues(Energy, v => v["energy_wh_total"] = -1.0));
        yield return R("door-count-fraction", ContractRule.InvalidCount, true, () => EditValues(Door, v => v["in"] = 1.5));
        yield return R("door-without-out-total", ContractRule.IncompleteDoorReading, true, () => EditValues(Door, v => v.Remove("out_total")));

        // Badge scans.
        yield return R("visitor-21-characters", ContractRule.InvalidVisitorPseudonym, true,
            () => EditReading(Badge, r => r["visitor"] = "Zk3J9aQ2mX0pR7tV1wY4b"));
        yield return R("visitor-with-plus", ContractRule.InvalidVisitorPseudonym, true,
            () => EditReading(Badge, r => r["visitor"] = "Zk3J9aQ2mX0pR7tV1wY4+C"));
        yield return R("visitor-with-trailing-newline", ContractRule.InvalidVisitorPseudonym, true,
            () => EditReading(Badge, r => r["visitor"] = "Zk3J9aQ2mX0pR7tV1wY4bC\n"));
        yield return R("badge-without-visitor", ContractRule.InvalidVisitorPseudonym, true,
            () => EditReading(Badge, r => r.Remove("visitor")));
        yield return R("anonymous-scan-with-another-value", ContractRule.InvalidVisitorPseudonym, true,
            () => EditReading(Badge, r =>
            {
                r.Remove("visitor");
                r["values"] = new JsonObject { ["anonymous_scans_total"] = 3, ["scans_total"] = 4 };
            }));
        yield return R("badge-without-visitor-with-other-value", ContractRule.InvalidVisitorPseudonym, true,
            () => EditReading(Badge, r =>
            {
                r.Remove("visitor");
                r["values"] = new JsonObject { ["scans_total"] = 4 };
            }));

        // Status.
        yield return S("status-uptime-negative", ContractRule.InvalidCount, true, () => Status(s => s["uptime_s"] = -1));
        yield return S("status-dropped-negative", ContractRule.InvalidCount, true, () => Status(s => s["outbox"]!["dropped"] = -3));
        yield return S("status-sleeping", ContractRule.InvalidStatus, true, () => Status(s => s["state"] = "sleeping"));
        yield return S("status-online-without-ts", ContractRule.InvalidStatus, true, () => Status(s => s.Remove("ts")));

    }
}
