namespace NewTechPark.Edge.Contracts.Topics;

/// <summary>What a message on a contract topic is about.</summary>
public enum TopicChannel
{
    Readings,
    Status,
}

/// <summary>The parts of a contract topic: <c>ntp/v1/{site}/{device}/{channel}</c>.</summary>
public readonly record struct TopicAddress(string Site, string Device, TopicChannel Channel)
{
    public override string ToString() => ContractTopics.Format(Site, Device, Channel);
}

/// <summary>
/// The one place that knows the shape of the contract's MQTT topics. Nothing else in the code
/// concatenates topic strings.
/// </summary>
public static class ContractTopics
{
    public const string Root = "ntp";
    public const string Version = "v1";
    public const string ReadingsLeaf = "readings";
    public const string StatusLeaf = "status";

    /// <summary>Template of the readings topic, as written in CONTRACT.md.</summary>
    public const string ReadingsTemplate = "ntp/v1/{site}/{device}/readings";

    /// <summary>Template of the status topic, as written in CONTRACT.md.</summary>
    public const string StatusTemplate = "ntp/v1/{site}/{device}/status";

    /// <summary>Subscription filter for every device's readings at every site.</summary>
    public const string AllReadingsFilter = "ntp/v1/+/+/readings";

    /// <summary>Subscription filter for every device's status at every site.</summary>
    public const string AllStatusFilter = "ntp/v1/+/+/status";

    public static string Readings(string site, string device) => Format(site, device, TopicChannel.Readings);

    public static string Status(string site, string device) => Format(site, device, TopicChannel.Status);

    /// <summary>The prefix below which a device may publish: <c>ntp/v1/{site}/{device}/</c>.</summary>
    public static string DevicePrefix(string site, string device)
    {
        RequireSlug(site, nameof(site));
        RequireSlug(device, nameof(device));
        return $"{Root}/{Version}/{site}/{device}/";
    }

    public static string Format(string site, string device, TopicChannel channel)
    {
        var leaf = channel switch
        {
            TopicChannel.Readings => ReadingsLeaf,
            TopicChannel.Status => StatusLeaf,
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "unknown topic channel"),
        };
        return DevicePrefix(site, device) + leaf;
    }

    /// <summary>Parses a contract topic; false (with the reason) for anything else.</summary>
    public static bool TryParse(string? topic, out TopicAddress address, out string reason)
    {
        address = default;
        if (string.IsNullOrEmpty(topic))
        {
            reason = "topic is empty";
            return false;
        }

        var parts = topic.Split('/');
        if (parts.Length != 5 || parts[0] != Root || parts[1] != Version)
        {
            reason = $"topic '{Printable(topic)}' is not of the form {ReadingsTemplate} or {StatusTemplate}";
            return false;
        }

        if (!Identifiers.IsSlug(parts[2]))
        {
            reason = $"site '{Printable(parts[2])}' in the topic is not a slug ({Identifiers.SlugPattern})";
            return false;
        }

        if (!Identifiers.IsSlug(parts[3]))
        {
            reason = $"device '{Printable(parts[3])}' in the topic is not a slug ({Identifiers.SlugPattern})";
            return false;
        }

        TopicChannel? channel = parts[4] switch
        {
            ReadingsLeaf => TopicChannel.Readings,
            StatusLeaf => TopicChannel.Status,
            _ => null,
        };
        if (channel is null)
        {
            reason = $"topic leaf '{Printable(parts[4])}' is neither '{ReadingsLeaf}' nor '{StatusLeaf}'";
            return false;
        }

        address = new TopicAddress(parts[2], parts[3], channel.Value);
        reason = string.Empty;
        return true;
    }

    private static void RequireSlug(string value, string name)
    {
        if (!Identifiers.IsSlug(value))
        {
            throw new ArgumentException($"{name} '{value}' is not a slug ({Identifiers.SlugPattern})", name);
        }
    }

    /// <summary>Keeps rejection reasons printable and short whatever a client sent.</summary>
    internal static string Printable(string value)
    {
        const int max = 80;
        var cut = value.Length > max ? value[..max] + "…" : value;
        return string.Create(cut.Length, cut, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}
