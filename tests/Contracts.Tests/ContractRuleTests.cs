using System.Buffers;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>
/// One test per <see cref="ContractRule"/>: each broken message is refused, the refusal names that
/// rule, and every reason is a sentence.
/// </summary>
public sealed class ContractRuleTests
{
    private readonly ContractValidator validator = new(ContractClock.Create());

    [Fact]
    public void Every_rule_has_at_least_one_broken_message()
    {
        var covered = BrokenPayloads.All.Values.Select(c => c.Rule).ToHashSet();

        Assert.All(Enum.GetValues<ContractRule>(), rule => Assert.Contains(rule, covered));
    }

    [Fact]
    public void MessageTooLarge_is_reported() => AssertRefused("larger-than-256-kib", ContractRule.MessageTooLarge);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.MalformedJson, MemberType = typeof(BrokenPayloads))]
    public void MalformedJson_is_reported(string name) => AssertRefused(name, ContractRule.MalformedJson);

    [Fact]
    public void MalformedJson_is_reported_for_an_empty_message()
    {
        var result = validator.ValidateReadings(ContractFiles.ReadingsTopic, ReadOnlyMemory<byte>.Empty);

        AssertHasRule(result.IsValid, result.Violations, ContractRule.MalformedJson);
    }

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.InvalidTopic, MemberType = typeof(BrokenPayloads))]
    public void InvalidTopic_is_reported(string name) => AssertRefused(name, ContractRule.InvalidTopic);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.UnsupportedVersion, MemberType = typeof(BrokenPayloads))]
    public void UnsupportedVersion_is_reported(string name) => AssertRefused(name, ContractRule.UnsupportedVersion);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.SeqOutOfRange, MemberType = typeof(BrokenPayloads))]
    public void SeqOutOfRange_is_reported(string name) => AssertRefused(name, ContractRule.SeqOutOfRange);

    [Fact]
    public void EmptyBatch_is_reported() => AssertRefused("no-readings", ContractRule.EmptyBatch);

    [Fact]
    public void TooManyReadings_is_reported() => AssertRefused("1001-readings", ContractRule.TooManyReadings);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.TimestampFormat, MemberType = typeof(BrokenPayloads))]
    public void TimestampFormat_is_reported(string name) => AssertRefused(name, ContractRule.TimestampFormat);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.TimestampOutOfRange, MemberType = typeof(BrokenPayloads))]
    public void TimestampOutOfRange_is_reported(string name) => AssertRefused(name, ContractRule.TimestampOutOfRange);

    [Theory]
    [InlineData(4)]
    [InlineData(-399 * 24 * 60)]
    public void Timestamps_inside_the_window_are_accepted(int minutesFromNow)
    {
        var bytes = BrokenPayloads.EditReading(0, r => r["ts"] = BrokenPayloads.Timestamp(ContractClock.Now.AddMinutes(minutesFromNow)));

        var result = validator.ValidateReadings(ContractFiles.ReadingsTopic, bytes);

        Assert.True(result.IsValid, result.Reason);
    }

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.InvalidIdentifier, MemberType = typeof(BrokenPayloads))]
    public void InvalidIdentifier_is_reported(string name) => AssertRefused(name, ContractRule.InvalidIdentifier);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.InvalidKind, MemberType = typeof(BrokenPayloads))]
    public void InvalidKind_is_reported(string name) => AssertRefused(name, ContractRule.InvalidKind);

    [Fact]
    public void InvalidValueName_is_reported() => AssertRefused("value-name-uppercase", ContractRule.InvalidValueName);

    [Fact]
    public void ValueNameWithoutUnit_is_reported() => AssertRefused("value-name-without-unit", ContractRule.ValueNameWithoutUnit);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.NonNumericValue, MemberType = typeof(BrokenPayloads))]
    public void NonNumericValue_is_reported(string name) => AssertRefused(name, ContractRule.NonNumericValue);

    [Fact]
    public void NonFiniteValue_is_reported() => AssertRefused("value-overflows-double", ContractRule.NonFiniteValue);

    [Fact]
    public void TooManyValues_is_reported() => AssertRefused("33-values", ContractRule.TooManyValues);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.MissingValues, MemberType = typeof(BrokenPayloads))]
    public void MissingValues_is_reported(string name) => AssertRefused(name, ContractRule.MissingValues);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.InvalidCount, MemberType = typeof(BrokenPayloads))]
    public void InvalidCount_is_reported(string name) => AssertRefused(name, ContractRule.InvalidCount);

    [Fact]
    public void IncompleteDoorReading_is_reported() => AssertRefused("door-without-out-total", ContractRule.IncompleteDoorReading);

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.InvalidVisitorPseudonym, MemberType = typeof(BrokenPayloads))]
    public void InvalidVisitorPseudonym_is_reported(string name) => AssertRefused(name, ContractRule.InvalidVisitorPseudonym);

    [Fact]
    public void An_anonymous_scan_without_visitor_is_accepted_by_validator_and_schema()
    {
        var payload = BrokenPayloads.EditReading(BrokenPayloads.Badge, r =>
        {
            r.Remove("visitor");
            r["values"] = new System.Text.Json.Nodes.JsonObject { ["anonymous_scans_total"] = 3 };
        });

        var result = validator.ValidateReadings(ContractFiles.ReadingsTopic, payload);
        Assert.True(result.IsValid, result.Reason);
        var schema = ContractFiles.Evaluate(ContractFiles.ReadingsSchema, payload);
        Assert.True(schema.IsValid, ContractFiles.Describe(schema));
    }

    [Theory]
    [MemberData(nameof(BrokenPayloads.NamesFor), ContractRule.InvalidStatus, MemberType = typeof(BrokenPayloads))]
    public void InvalidStatus_is_reported(string name) => AssertRefused(name, ContractRule.InvalidStatus);

    [Fact]
    public void A_payload_split_over_several_segments_is_read_whole()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(ContractFiles.ReadingsExample);
        var first = new Segment(bytes.AsMemory(0, 100));
        var last = first.Append(bytes.AsMemory(100));

        var result = validator.ValidateReadings(ContractFiles.ReadingsTopic, new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));

        Assert.True(result.IsValid, result.Reason);
    }

    private void AssertRefused(string name, ContractRule rule)
    {
        var broken = BrokenPayloads.Get(name);
        Assert.Equal(rule, broken.Rule);
        var payload = broken.Build();

        var (isValid, violations) = broken.Channel switch
        {
            TopicChannel.Readings => Outcome(validator.ValidateReadings(broken.Topic, payload)),
            TopicChannel.Status => Outcome(validator.ValidateStatus(broken.Topic, payload)),
            _ => throw new ArgumentOutOfRangeException(nameof(name), broken.Channel, "unknown channel"),
        };

        AssertHasRule(isValid, violations, rule);
    }

    private static (bool IsValid, IReadOnlyList<ContractViolation> Violations) Outcome<T>(ValidationResult<T> result)
        where T : class
    {
        Assert.Equal(result.IsValid, result.Value is not null);
        return (result.IsValid, result.Violations);
    }

    private static void AssertHasRule(bool isValid, IReadOnlyList<ContractViolation> violations, ContractRule rule)
    {
        var reasons = string.Join("; ", violations);
        Assert.False(isValid, $"expected a refusal for {rule}");
        Assert.True(violations.Any(v => v.Rule == rule), $"expected {rule}, got: {reasons}");
        Assert.All(violations, v => Assert.False(string.IsNullOrWhiteSpace(v.Message), $"{v.Rule} has no message"));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
