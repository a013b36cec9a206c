using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Demo.History;

/// <summary>Whether this start fills history: decided once, when the demo is built, before the store is opened.</summary>
public sealed class HistoryStart(IOptions<CollectorOptions> collector, IOptions<DemoOptions> demo, SiteModel site, TimeProvider clock)
{
    private bool _decided;

    /// <summary>The history this start fills; null when it fills none.</summary>
    public HistoryPlan? Plan { get; private set; }

    public void Decide()
    {
        if (_decided)
        {
            return;
        }

        Plan = HistoryPlan.Decide(collector.Value.DataDirectory, demo.Value, TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone), clock.GetUtcNow());
        _decided = true;
    }
}
