using Microsoft.Extensions.Diagnostics.HealthChecks;
using NewTechPark.Edge.Collector.Ingest;

namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>Healthy when the ingest is connected to the broker and keeping up.</summary>
public sealed class CollectorHealthCheck(IngestClient ingest, IngestPipeline pipeline) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!ingest.IsConnected)
        {
            return Task.FromResult(HealthCheckResult.Degraded("ingest is not connected to the broker"));
        }

        return Task.FromResult(pipeline.Queued > 100_000
            ? HealthCheckResult.Degraded($"{pipeline.Queued} messages wait to be committed")
            : HealthCheckResult.Healthy($"{pipeline.Committed} messages committed"));
    }
}
