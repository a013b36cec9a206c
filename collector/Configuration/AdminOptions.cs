namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>The single admin token of earlier versions (<c>Collector:Admin</c>); <see cref="AuthOptions"/> holds tokens per role.</summary>
public sealed class AdminOptions
{
    /// <summary>An admin token named <c>admin</c>, besides <c>Collector:Auth:Tokens</c>; kept so existing deployments go on working.</summary>
    public string? Token { get; set; }
}
