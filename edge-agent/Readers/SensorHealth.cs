using System.Collections.Concurrent;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>
/// The health of every sensor, as the status message reports it: <c>ok</c>, <c>starting</c> or
/// <c>error: …</c>.
/// </summary>
public sealed class SensorHealth
{
    public const string Ok = "ok";
    public const string Starting = "starting";

    private readonly ConcurrentDictionary<string, string> _states = new(StringComparer.Ordinal);

    public void ReportStarting(string sensorId) => _states[sensorId] = Starting;

    public void ReportOk(string sensorId) => _states[sensorId] = Ok;

    public void ReportError(string sensorId, string problem) => _states[sensorId] = "error: " + problem;

    public string Get(string sensorId) => _states.TryGetValue(sensorId, out var state) ? state : Starting;

    public Dictionary<string, string> Snapshot() => new(_states, StringComparer.Ordinal);
}
