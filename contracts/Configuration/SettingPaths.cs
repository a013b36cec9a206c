using System.Text.RegularExpressions;

namespace NewTechPark.Edge.Contracts.Configuration;

/// <summary>
/// For both programs: turns the member paths in the messages of the source-generated options
/// validators (<c>Collector.Broker.Tls.Port</c>, <c>Agent.Sensors[2].Id</c>) into the configuration
/// paths a person types (<c>Collector:Broker:Tls:Port</c>, <c>Agent:Sensors:2:Id</c>).
/// </summary>
public static partial class SettingPaths
{
    public static string Rewrite(string message, string root) =>
        MemberPath().Replace(message, m => m.Value.StartsWith(root + ".", StringComparison.Ordinal) || m.Value.StartsWith(root + "[", StringComparison.Ordinal)
            ? m.Value.Replace('.', ':').Replace("[", ":", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal)
            : m.Value);

    [GeneratedRegex(@"\b[A-Z]\w*(?:\.[A-Z]\w*|\[\d+\])+")]
    private static partial Regex MemberPath();
}
