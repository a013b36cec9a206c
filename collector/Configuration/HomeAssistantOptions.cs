using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>
/// Home Assistant MQTT discovery (<c>Collector:HomeAssistant</c>): the collector publishes retained
/// discovery configs and states of rooms, meters, DC benches, climate sensors and Pis on its broker
/// (see collector/HomeAssistant/README.md). Off unless turned on; the demo turns it on.
/// </summary>
public sealed partial class HomeAssistantOptions
{
    /// <summary>Publish discovery configs and states.</summary>
    public bool Enabled { get; set; }

    /// <summary>Home Assistant's discovery prefix (its MQTT integration's setting; <c>homeassistant</c> unless changed there): one topic level.</summary>
    public string DiscoveryPrefix { get; set; } = "homeassistant";

    /// <summary>
    /// Where the states and the collector's availability go: <c>{StatePrefix}/{site}/…</c>. One to
    /// four topic levels, never below <c>ntp/v1/</c> (the devices' own topics).
    /// </summary>
    public string StatePrefix { get; set; } = "ntp/ha";

    /// <summary>
    /// The least time between two states of one measurement (energy, power, DC, climate): the latest
    /// value wins, so a DC bench at 5 Hz or a meter every few seconds does not flood Home Assistant's recorder.
    /// </summary>
    public TimeSpan StateInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The least time between two occupancy states of one room (and of the building), so a change shows within seconds.</summary>
    public TimeSpan OccupancyInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>One topic level of letters, digits, <c>_</c> and <c>-</c> (no wildcards, no <c>/</c>).</summary>
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    public static partial Regex TopicLevel();

    /// <summary>One to four such levels joined by <c>/</c>.</summary>
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64}){0,3}$")]
    public static partial Regex TopicLevels();
}

/// <summary>The Home Assistant settings' rules (topic shapes and durations); checked also while the section is off, so a typo shows at once.</summary>
public sealed class HomeAssistantOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var ha = options.HomeAssistant;
        var errors = new List<string>();
        if (!HomeAssistantOptions.TopicLevel().IsMatch(ha.DiscoveryPrefix ?? string.Empty))
        {
            errors.Add($"Collector:HomeAssistant:DiscoveryPrefix '{ha.DiscoveryPrefix}' must be one topic level of letters, digits, '_' and '-' (Home Assistant's default: homeassistant)");
        }

        var state = ha.StatePrefix ?? string.Empty;
        if (!HomeAssistantOptions.TopicLevels().IsMatch(state))
        {
            errors.Add($"Collector:HomeAssistant:StatePrefix '{state}' must be one to four topic levels of letters, digits, '_' and '-', such as ntp/ha");
        }
        else if (state == "ntp/v1" || state.StartsWith("ntp/v1/", StringComparison.Ordinal) || state == ha.DiscoveryPrefix || state.StartsWith(ha.DiscoveryPrefix + "/", StringComparison.Ordinal))
        {
            errors.Add($"Collector:HomeAssistant:StatePrefix '{state}' must lie outside the devices' ntp/v1/ and outside the discovery prefix");
        }

        if (ha.StateInterval < TimeSpan.FromSeconds(1) || ha.StateInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"Collector:HomeAssistant:StateInterval {ha.StateInterval} must be between 00:00:01 and 01:00:00");
        }

        if (ha.OccupancyInterval < TimeSpan.FromMilliseconds(100) || ha.OccupancyInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Collector:HomeAssistant:OccupancyInterval {ha.OccupancyInterval} must be between 00:00:00.1 and 00:10:00");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
