namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Admin calls (<c>Collector:Admin</c>): corrections and group registrations.</summary>
public sealed class AdminOptions
{
    /// <summary>The bearer token admin calls must carry; without one configured, admin calls are refused.</summary>
    public string? Token { get; set; }
}
