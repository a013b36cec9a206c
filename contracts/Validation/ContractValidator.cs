using System.Buffers;
using System.Text.Json;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Contracts.Validation;

/// <summary>The outcome of validating one message: the payload, or the reasons it was refused.</summary>
public sealed class ValidationResult<T>
    where T : class
{
    private ValidationResult(TopicAddress address, T? value, IReadOnlyList<ContractViolation> violations)
    {
        Address = address;
        Value = value;
        Violations = violations;
    }

    public TopicAddress Address { get; }

    /// <summary>The payload; null when it was refused.</summary>
    public T? Value { get; }

    public IReadOnlyList<ContractViolation> Violations { get; }

    public bool IsValid => Value is not null;

    /// <summary>All reasons in one line, for logs and the dead-letter store.</summary>
    public string Reason => string.Join("; ", Violations.Select(v => v.ToString()));

    internal static ValidationResult<T> Valid(TopicAddress address, T value) => new(address, value, []);

    internal static ValidationResult<T> Invalid(TopicAddress address, IReadOnlyList<ContractViolation> violations) => new(address, null, violations);

    internal static ValidationResult<T> Invalid(TopicAddress address, ContractRule rule, string message) =>
        new(address, null, [new ContractViolation(rule, message)]);
}

/// <summary>
/// Enforces every rule of CONTRACT.md on incoming messages and says why a message was refused.
/// Never throws on bad input.
/// </summary>
public sealed class ContractValidator(TimeProvider clock)
{
    /// <summary>Stop listing violations after this many; a message that breaks more is junk anyway.</summary>
    private const int MaxViolationsListed = 20;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 };

    public ContractValidator()
        : this(TimeProvider.System)
    {
    }

    public ValidationResult<ReadingsBatch> ValidateReadings(string topic, ReadOnlySequence<byte> payload)
    {
        if (!ContractTopics.TryParse(topic, out var address, out var topicReason))
        {
            return ValidationResult<ReadingsBatch>.Invalid(default, ContractRule.InvalidTopic, topicReason);
        }

        if (address.Channel != TopicChannel.Readings)
        {
            return ValidationResult<ReadingsBatch>.Invalid(address, ContractRule.InvalidTopic, $"topic '{topic}' is not a readings topic");
        }

        if (!TryDeserialize(payload, ContractJsonContext.Default.ReadingsBatch, address, out ReadingsBatch? batch, out var failed))
        {
            return failed!;
        }

        var violations = new List<ContractViolation>();
        CheckBatch(batch!, violations);
        return violations.Count == 0
            ? ValidationResult<ReadingsBatch>.Valid(address, batch!)
            : ValidationResult<ReadingsBatch>.Invalid(address, violations);
    }

    public ValidationResult<ReadingsBatch> ValidateReadings(string topic, ReadOnlyMemory<byte> payload) =>
        ValidateReadings(topic, new ReadOnlySequence<byte>(payload));

    public ValidationResult<StatusMessage> ValidateStatus(string topic, ReadOnlySequence<byte> payload)
    {
        if (!ContractTopics.TryParse(topic, out var address, out var topicReason))
        {
            return ValidationResult<StatusMessage>.Invalid(default, ContractRule.InvalidTopic, topicReason);
        }

        if (address.Channel != TopicChannel.Status)
        {
            return ValidationResult<StatusMessage>.Invalid(address, ContractRule.InvalidTopic, $"topic '{topic}' is not a status topic");
        }

        if (!TryDeserialize(payload, ContractJsonContext.Default.StatusMessage, address, out StatusMessage? status, out var failed))
        {
            return failed!;
        }

        var violations = new List<ContractViolation>();
        CheckStatus(status!, violations);
        return violations.Count == 0
            ? ValidationResult<StatusMessage>.Valid(address, status!)
            : ValidationResult<StatusMessage>.Invalid(address, violations);
    }

    public ValidationResult<StatusMessage> ValidateStatus(string topic, ReadOnlyMemory<byte> payload) =>
        ValidateStatus(topic, new ReadOnlySequence<byte>(payload));

    private static bool TryDeserialize<T>(
        ReadOnlySequence<byte> payload,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo,
        TopicAddress address,
        out T? value,
        out ValidationResult<T>? failed)
        where T : class
    {
        value = null;
        failed = null;
        if (payload.Length > ContractLimits.MaxMessageBytes)
        {
            failed = ValidationResult<T>.Invalid(address, ContractRule.MessageTooLarge,
                $"message is {payload.Length:N0} bytes; the limit is {ContractLimits.MaxMessageBytes:N0}");
            return false;
        }

        if (payload.Length == 0)
        {
            failed = ValidationResult<T>.Invalid(address, ContractRule.MalformedJson, "message is empty");
            return false;
        }

        if (TryDeserializeInOnePass(payload, typeInfo, out value))
        {
            return true;
        }

        try
        {
            var reader = new Utf8JsonReader(payload, ReaderOptions);
            value = JsonSerializer.Deserialize(ref reader, typeInfo);
            if (value is null)
            {
                failed = ValidationResult<T>.Invalid(address, ContractRule.MalformedJson, "message is JSON null");
                return false;
            }

            // One JSON value and nothing after it but whitespace: anything else makes Read throw
            // ("'x' is invalid after a single JSON value"), so a message is refused whole.
            if (reader.Read())
            {
                failed = ValidationResult<T>.Invalid(address, ContractRule.MalformedJson, "the message goes on after its JSON value");
                value = null;
                return false;
            }

            return true;
        }
        catch (ContractFormatException e)
        {
            failed = ValidationResult<T>.Invalid(address, e.Rule, WithPath(e.Message, e.Path));
        }
        catch (JsonException e)
        {
            failed = ValidationResult<T>.Invalid(address, ContractRule.MalformedJson, Shorten(e.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            failed = ValidationResult<T>.Invalid(address, ContractRule.MalformedJson, Shorten(e.Message));
        }

        return false;
    }

    /// <summary>
    /// The fast path for a valid message: <c>Deserialize(ref reader)</c> below first skips over the
    /// whole value to scope it and then reads it a second time; a single-segment payload can be read
    /// once. When this pass fails for any reason, the path below runs and has the final word (its
    /// messages), so the outcome is the same: both refuse anything but whitespace after the value.
    /// </summary>
    private static bool TryDeserializeInOnePass<T>(ReadOnlySequence<byte> payload, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, out T? value)
        where T : class
    {
        value = null;
        if (!payload.IsSingleSegment)
        {
            return false;
        }

        try
        {
            value = JsonSerializer.Deserialize(payload.FirstSpan, typeInfo);
            return value is not null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            value = null;
            return false;
        }
    }

    private void CheckBatch(ReadingsBatch batch, List<ContractViolation> violations)
    {
        if (batch.V != ReadingsBatch.CurrentVersion)
        {
            violations.Add(new(ContractRule.UnsupportedVersion, $"v is {batch.V}; this is version {ReadingsBatch.CurrentVersion} of the contract"));
        }

        if (batch.Seq > ContractLimits.MaxSeq)
        {
            violations.Add(new(ContractRule.SeqOutOfRange, $"seq is {batch.Seq}; the largest seq is 2^63 - 1 ({ContractLimits.MaxSeq})"));
        }

        // JSON null passes [JsonRequired] (the property is present) and lands in the non-nullable list.
        if (batch.Readings is null)
        {
            violations.Add(new(ContractRule.MalformedJson, "readings is null; it must be an array of readings"));
            return;
        }

        if (batch.Readings.Count == 0)
        {
            violations.Add(new(ContractRule.EmptyBatch, "readings is empty"));
        }

        if (batch.Readings.Count > ContractLimits.MaxReadingsPerBatch)
        {
            violations.Add(new(ContractRule.TooManyReadings,
                $"batch has {batch.Readings.Count:N0} readings; the limit is {ContractLimits.MaxReadingsPerBatch:N0}"));
            return;
        }

        var now = clock.GetUtcNow();
        for (var i = 0; i < batch.Readings.Count && violations.Count < MaxViolationsListed; i++)
        {
            var reading = batch.Readings[i];
            if (reading is null)
            {
                violations.Add(new(ContractRule.MalformedJson, $"readings[{i}] is null"));
                continue;
            }

            CheckReading(reading, i, now, violations);
        }
    }

    /// <summary>A reading's place in messages (<c>readings[3]</c>); made only when a rule is broken, not for every reading.</summary>
    private readonly struct ReadingPath(int index)
    {
        public override string ToString() => $"readings[{index}]";
    }

    private static void CheckReading(Reading reading, int index, DateTimeOffset now, List<ContractViolation> violations)
    {
        var at = new ReadingPath(index);
        if (reading.Ts > now + ContractLimits.MaxFutureSkew)
        {
            violations.Add(new(ContractRule.TimestampOutOfRange, $"{at}.ts {UtcTimestamp.Format(reading.Ts)} is more than 5 minutes in the future"));
        }
        else if (reading.Ts < now - ContractLimits.MaxAge)
        {
            violations.Add(new(ContractRule.TimestampOutOfRange, $"{at}.ts {UtcTimestamp.Format(reading.Ts)} is more than 400 days in the past"));
        }

        if (!Identifiers.IsSlug(reading.Sensor))
        {
            violations.Add(new(ContractRule.InvalidIdentifier, $"{at}.sensor '{ContractTopics.Printable(reading.Sensor ?? "null")}' is not a slug ({Identifiers.SlugPattern})"));
        }

        if (!Identifiers.IsSlug(reading.Kind))
        {
            violations.Add(new(ContractRule.InvalidKind, $"{at}.kind '{ContractTopics.Printable(reading.Kind ?? "null")}' is not a slug ({Identifiers.SlugPattern})"));
        }

        var values = reading.Values;
        if (values is not null)
        {
            foreach (var (name, number) in values)
            {
                if (!Identifiers.IsValueName(name))
                {
                    violations.Add(new(ContractRule.InvalidValueName, $"{at}.values name '{ContractTopics.Printable(name)}' does not match {Identifiers.ValueNamePattern}"));
                    continue;
                }

                if (!Identifiers.HasUnitSuffix(name))
                {
                    violations.Add(new(ContractRule.ValueNameWithoutUnit,
                        $"{at}.values.{name} does not end in its unit ({string.Join(", ", Identifiers.UnitSuffixes)})"));
                }

                if (Identifiers.IsCounter(name) && number < 0)
                {
                    violations.Add(new(ContractRule.InvalidCount, $"{at}.values.{name} is a counter and is negative ({number})"));
                }
            }
        }

        if (reading.Kind == ReadingKinds.Badge)
        {
            // An anonymous scan (random UID) carries no visitor, only its cumulative count.
            var anonymousScan = reading.Visitor is null && values is { Count: 1 } && values.ContainsKey(ReadingKinds.BadgeValues.AnonymousScansTotal);
            if (!anonymousScan && !IsPseudonym(reading.Visitor))
            {
                violations.Add(new(ContractRule.InvalidVisitorPseudonym,
                    $"{at}.visitor must be {ContractLimits.VisitorPseudonymLength} characters of base64url (HMAC-SHA256 of the card UID with the site key), or absent with only values.{ReadingKinds.BadgeValues.AnonymousScansTotal} for an anonymous scan"));
            }
        }
        else if (values is null || values.Count == 0)
        {
            violations.Add(new(ContractRule.MissingValues, $"{at} has no values"));
        }

        if (reading.Kind == ReadingKinds.Door && values is not null)
        {
            CheckDoor(values, at, violations);
        }
    }

    private static readonly string[] DoorValueNames = [ReadingKinds.DoorValues.In, ReadingKinds.DoorValues.Out, ReadingKinds.DoorValues.InTotal, ReadingKinds.DoorValues.OutTotal];

    private static void CheckDoor(Dictionary<string, double> values, ReadingPath at, List<ContractViolation> violations)
    {
        foreach (var name in DoorValueNames)
        {
            if (!values.TryGetValue(name, out var count))
            {
                violations.Add(new(ContractRule.IncompleteDoorReading, $"{at} is a door reading without values.{name}"));
            }
            else if (count < 0 || count != Math.Floor(count))
            {
                violations.Add(new(ContractRule.InvalidCount, $"{at}.values.{name} must be a whole number of crossings, not {count}"));
            }
        }
    }

    private static void CheckStatus(StatusMessage status, List<ContractViolation> violations)
    {
        if (status.V != ReadingsBatch.CurrentVersion)
        {
            violations.Add(new(ContractRule.UnsupportedVersion, $"v is {status.V}; this is version {ReadingsBatch.CurrentVersion} of the contract"));
        }

        if (status.State is not (StatusMessage.Online or StatusMessage.Offline))
        {
            violations.Add(new(ContractRule.InvalidStatus, $"state '{ContractTopics.Printable(status.State ?? "null")}' is neither online nor offline"));
        }
        else if (status.State == StatusMessage.Online && status.Ts is null)
        {
            violations.Add(new(ContractRule.InvalidStatus, "an online status needs ts"));
        }

        if (status.Outbox is { Pending: < 0 })
        {
            violations.Add(new(ContractRule.InvalidCount, "outbox.pending is negative"));
        }

        if (status.Outbox is { Dropped: < 0 })
        {
            violations.Add(new(ContractRule.InvalidCount, "outbox.dropped is negative"));
        }

        if (status.UptimeS is < 0)
        {
            violations.Add(new(ContractRule.InvalidCount, "uptime_s is negative"));
        }

        if (status.Sensors is not null)
        {
            foreach (var sensor in status.Sensors.Keys)
            {
                if (!Identifiers.IsSlug(sensor))
                {
                    violations.Add(new(ContractRule.InvalidIdentifier, $"sensors key '{ContractTopics.Printable(sensor)}' is not a slug"));
                }
            }
        }
    }

    /// <summary>base64url, 22 characters (HMAC-SHA256 cut to 132 bits).</summary>
    public static bool IsPseudonym(string? value)
    {
        if (value is null || value.Length != ContractLimits.VisitorPseudonymLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static string WithPath(string message, string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? message : $"{message} (at {path})";

    private static string Shorten(string message) => message.Length > 300 ? message[..300] + "…" : message;
}
