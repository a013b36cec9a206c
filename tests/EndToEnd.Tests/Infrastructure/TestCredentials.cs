using NewTechPark.Edge.Collector.Broker.Security;

namespace NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

/// <summary>
/// MQTT users for tests: the embedded broker refuses anonymous clients, so every test collector is
/// started with these users and every test agent or probe logs in as one. Test-only passwords,
/// hashed with few iterations so a collector starts fast.
/// </summary>
public static class TestCredentials
{
    /// <summary>A user that may subscribe below ntp/v1/ and publish nothing.</summary>
    public const string Reader = "test-reader";

    /// <summary>Every device id the tests publish as.</summary>
    public static readonly IReadOnlyList<string> Devices =
    [
        "pi-entrance", "pi-hall", "pi-hall-north", "pi-hall-south", "pi-dc-lab", "pi-climate",
        "pi-test", "pi-simulated", "pi-meter", "pi-gaps", "pi-a", "pi-b", "pi-replay", "pi-other",
        "pi-door", "pi-barrier", "pi-fast-bench", "pi-refused",
        "pi-load-outage", "pi-load-instead", "pi-load-influx", "pi-load-full", "pi-load-collector",
        "pi-load-broker", "pi-load-backlog", "pi-load-agent", "pi-load-wal-1", "pi-load-wal-2",
    ];

    public static string PasswordOf(string user) => $"test-only-{user}-password";

    /// <summary>Collector command-line settings that provision <see cref="Devices"/>, <see cref="Reader"/> and <paramref name="extraDevices"/>.</summary>
    public static string[] CollectorArgs(params string[] extraDevices) =>
    [
        .. Devices.Concat(extraDevices).Append(Reader).Distinct(StringComparer.Ordinal)
            .Select(user => $"--Collector:Broker:Users:{user}={MqttPasswordHash.Create(PasswordOf(user), iterations: 10)}"),
        $"--Collector:Broker:Readers:0={Reader}",
    ];

    /// <summary>Agent settings that log in as <paramref name="device"/>.</summary>
    public static KeyValuePair<string, string?>[] AgentSettings(string device) =>
    [
        new("Agent:Broker:Username", device),
        new("Agent:Broker:Password", PasswordOf(device)),
    ];

    /// <summary>The same as command-line arguments, for agents run as processes.</summary>
    public static string[] AgentArgs(string device) => [.. AgentSettings(device).Select(s => $"--{s.Key}={s.Value}")];
}
