namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>A clock that always says 2026-11-28T09:15:05Z, a few seconds after the contract's examples.</summary>
public sealed class FixedTimeProvider : TimeProvider
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 9, 15, 5, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}
