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
    // Several owned sites: a guard per site; one site keeps the single _guard (one comparison per message).
    private readonly Dictionary<string, ReadingsGuard>? _guards;
    private readonly string? _site;

    /// <summary>The contract's rules only (tests of the contract path).</summary>
    public IngestIntake(TimeProvider clock)
    {
        _validator = new ContractValidator(clock);
    }

    public IngestIntake(TimeProvider clock, SiteModel site, IOptions<CollectorOptions> options)
        : this(clock, new SiteCatalog(site), options)
    {
    }

    /// <summary>Every owned site's rules; a message for a site the collector does not own is refused (<see cref="ReadingsGuard.Rules.SiteNotOwned"/>).</summary>
    public IngestIntake(TimeProvider clock, SiteCatalog sites, IOptions<CollectorOptions> options)
        : this(clock)
    {
        if (sites.Count == 1)
        {
            _site = sites.Default.Site;
            _guard = new ReadingsGuard(sites.Default, options.Value);
        }
        else
        {
            _guards = sites.Sites.ToDictionary(s => s.Site, s => new ReadingsGuard(s, options.Value), StringComparer.Ordinal);
        }
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
            if (result.IsValid && !Owns(result.Address.Site))
            {
                return NotOwned(topic, result.Address.Site, payload, received);
            }

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
        ReadingsGuard? guard;
        if (_guards is not null)
        {
            if (!_guards.TryGetValue(item.Address.Site, out guard))
            {
                return NotOwned(topic, item.Address.Site, payload, received);
            }
        }
        else if (_guard is null)
        {
            return item;
        }
        else if (!string.Equals(_site, item.Address.Site, StringComparison.Ordinal))
        {
            return NotOwned(topic, item.Address.Site, payload, received);
        }
        else
        {
            guard = _guard;
        }

        var (checkedItem, rule, reason) = guard.Check(item);
        return checkedItem is null ? DeadLetter(topic, rule, reason, payload, received) : checkedItem;
    }

    /// <summary>Whether the site is one this collector owns (always, for the contract-only intake).</summary>
    public bool Owns(string site) =>
        _guards?.ContainsKey(site) ?? (_site is null || string.Equals(_site, site, StringComparison.Ordinal));

    private static DeadLetterItem NotOwned(string topic, string site, ReadOnlySequence<byte> payload, DateTimeOffset received) =>
        DeadLetter(topic, ReadingsGuard.Rules.SiteNotOwned, $"site '{site}' is not one this collector owns (Collector:Sites)", payload, received);

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
