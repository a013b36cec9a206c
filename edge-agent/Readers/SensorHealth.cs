using System.Collections.Concurrent;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>
/// The health of every sensor, as the status message reports it: <c>ok</c>, <c>starting</c> or
/// <c>error: …</c>. <see cref="Changed"/> fires only when a sensor's state really changes (readers
/// report <c>ok</c> with every reading), so the status can follow without a publish per reading.
/// </summary>
public sealed class SensorHealth
{
    public const string Ok = "ok";
    public const string Starting = "starting";

    private readonly ConcurrentDictionary<string, string> _states = new(StringComparer.Ordinal);

    /// <summary>Raised after a sensor's state changed; handlers must be quick and must not throw.</summary>
    public event Action? Changed;

    public void ReportStarting(string sensorId) => Set(sensorId, Starting);

    public void ReportOk(string sensorId) => Set(sensorId, Ok);

    public void ReportError(string sensorId, string problem) => Set(sensorId, "error: " + problem);

    public string Get(string sensorId) => _states.TryGetValue(sensorId, out var state) ? state : Starting;

    public Dictionary<string, string> Snapshot() => new(_states, StringComparer.Ordinal);

    private void Set(string sensorId, string state)
    {
        var previous = _states.GetValueOrDefault(sensorId);
        if (string.Equals(previous, state, StringComparison.Ordinal))
        {
            return;
        }

        _states[sensorId] = state;
        Changed?.Invoke();
    }
}
