using System.Buffers;
using Microsoft.Extensions.Options;
using MQTTnet;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Collector.Ingest;

/// <summary>
/// Turns an MQTT message into an ingest item: a valid readings batch or status, or a dead letter
/// with the rule it broke. Shared by the two ways messages arrive: the MQTT subscriber (outside
/// broker) and the embedded broker's publish interceptor. With a site, a valid batch must also
/// pass the <see cref="ReadingsGuard"/> (ownership, clock, closed years, plausibility).
/// </summary>
public sealed class IngestIntake
{
    private readonly ContractValidator _validator;
    private readonly ReadingsGuard? _guard;

    /// <summary>The contract's rules only (tests of the contract path).</summary>
    public IngestIntake(TimeProvider clock)
    {
        _validator = new ContractValidator(clock);
    }

    public IngestIntake(TimeProvider clock, SiteModel site, IOptions<CollectorOptions> options)
        : this(clock)
    {
        _guard = new ReadingsGuard(site, options.Value);
    }

    /// <summary>True for the topics the collector ingests (<c>ntp/v1/+/+/readings</c> and <c>…/status</c>).</summary>
    public static bool IsIngestTopic(string topic) =>
        MqttTopicFilterComparer.Compare(topic, ContractTopics.AllReadingsFilter) == MqttTopicFilterCompareResult.IsMatch
        || MqttTopicFilterComparer.Compare(topic, ContractTopics.AllStatusFilter) == MqttTopicFilterCompareResult.IsMatch;

    public IngestItem Read(string topic, ReadOnlySequence<byte> payload, DateTimeOffset received)
    {
        if (topic.EndsWith("/" + ContractTopics.StatusLeaf, StringComparison.Ordinal))
        {
            var result = _validator.ValidateStatus(topic, payload);
            return result.IsValid
                ? new StatusItem(result.Address, result.Value!, received)
                : DeadLetter(topic, result.Violations, result.Reason, payload, received);
        }

        var readings = _validator.ValidateReadings(topic, payload);
        if (!readings.IsValid)
        {
            return DeadLetter(topic, readings.Violations, readings.Reason, payload, received);
        }

        var item = new ReadingsItem(readings.Address, readings.Value!, received);
        if (_guard is null)
        {
            return item;
        }

        var (checkedItem, rule, reason) = _guard.Check(item);
        return checkedItem is null ? DeadLetter(topic, rule, reason, payload, received) : checkedItem;
    }

    /// <summary>
    /// The topic as it may go into a log line or the dead-letter store: at most 200 characters,
    /// control and format characters (line breaks, NUL, direction overrides) shown as '?', so a
    /// client cannot forge log lines or reorder what an operator reads.
    /// </summary>
    public static string Printable(string topic) => Neutralised(topic.Length > 200 ? topic[..200] : topic);

    /// <summary>Control and format characters as '?': a reason quotes what the client sent.</summary>
    private static string Neutralised(string text) =>
        !text.Any(IsUnprintable) ? text : string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = IsUnprintable(source[i]) ? '?' : source[i];
            }
        });

    private static bool IsUnprintable(char c) => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format;

    /// <summary>
    /// A dead letter keeps the first <see cref="DeadLetterItem.MaxStoredPayloadBytes"/> of the payload
    /// and its full length: a multi-megabyte message is evidence, not something to keep whole.
    /// </summary>
    private static DeadLetterItem DeadLetter(string topic, IReadOnlyList<ContractViolation> violations, string reason, ReadOnlySequence<byte> payload, DateTimeOffset received) =>
        DeadLetter(topic, violations.Count > 0 ? violations[0].Rule.ToString() : "Unknown", reason, payload, received);

    private static DeadLetterItem DeadLetter(string topic, string rule, string reason, ReadOnlySequence<byte> payload, DateTimeOffset received)
    {
        var kept = payload.Length > DeadLetterItem.MaxStoredPayloadBytes ? payload.Slice(0, DeadLetterItem.MaxStoredPayloadBytes) : payload;
        return new(Printable(topic), rule, Neutralised(reason), kept.ToArray(), received)
        {
            PayloadLength = payload.Length,
        };
    }
}
