namespace NewTechPark.Edge.Simulation.Scenario;

/// <summary>
/// Scenario time: starts at <see cref="Origin"/> when the real clock reads its start and runs
/// <see cref="Factor"/> times as fast (1 = real time; 60 = an hour a minute).
/// </summary>
public sealed class ScenarioClock(TimeProvider real, DateTimeOffset origin, double factor = 1)
{
    private readonly long _started = real.GetTimestamp();

    public DateTimeOffset Origin { get; } = origin;

    public double Factor { get; } = factor > 0 ? factor : throw new ArgumentOutOfRangeException(nameof(factor), factor, "the factor must be above 0");

    public DateTimeOffset Now => Origin + (real.GetElapsedTime(_started) * Factor);

    /// <summary>Real time that passes while <paramref name="scenario"/> passes in the scenario.</summary>
    public TimeSpan RealFor(TimeSpan scenario) => scenario / Factor;
}
