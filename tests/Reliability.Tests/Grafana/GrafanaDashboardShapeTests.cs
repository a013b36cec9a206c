using System.Text.Json;

namespace NewTechPark.Edge.Reliability.Tests.Grafana;

/// <summary>
/// Every dashboard of <c>dashboards/grafana/dashboards/</c> imports through Grafana's UI (an
/// <c>__inputs</c> data source of plugin prometheus, <c>__requires</c>) and through provisioning (a
/// data source variable of the same name whose default is the provisioned uid), and holds no Flux.
/// </summary>
public sealed class GrafanaDashboardShapeTests
{
    private static readonly string[] Builtins = ["__interval", "__interval_ms", "__rate_interval", "__range", "__range_s", "__range_ms"];

    [Fact]
    public void The_folder_holds_the_four_dashboards_and_the_collectors_own()
    {
        Assert.Equal(
            ["collector.json", "dc-lab.json", "energy.json", "occupancy.json", "visitors.json"],
            GrafanaDashboard.All().Select(d => d.File));
    }

    [Fact]
    public void Every_dashboard_has_the_input_the_requires_and_a_unique_uid()
    {
        var uids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dashboard in GrafanaDashboard.All())
        {
            var root = dashboard.Root;
            var inputs = root.GetProperty("__inputs").EnumerateArray().ToList();
            var input = Assert.Single(inputs);
            Assert.Equal(GrafanaDashboard.Input, GrafanaDashboard.Text(input, "name"));
            Assert.Equal("datasource", GrafanaDashboard.Text(input, "type"));
            Assert.Equal("prometheus", GrafanaDashboard.Text(input, "pluginId"));

            var requires = root.GetProperty("__requires").EnumerateArray()
                .Select(r => (GrafanaDashboard.Text(r, "type"), GrafanaDashboard.Text(r, "id"))).ToHashSet();
            Assert.Contains(("grafana", "grafana"), requires);
            Assert.Contains(("datasource", "prometheus"), requires);
            foreach (var type in dashboard.Panels().Select(p => GrafanaDashboard.Text(p, "type")).Distinct())
            {
                Assert.True(requires.Contains(("panel", type)), $"{dashboard.File}: __requires lacks the panel type {type}");
            }

            var uid = GrafanaDashboard.Text(root, "uid");
            Assert.Matches("^ntp-[a-z0-9-]{1,36}$", uid);
            Assert.True(uids.Add(uid!), $"{dashboard.File}: uid {uid} is used twice");
            Assert.False(string.IsNullOrWhiteSpace(dashboard.Title), $"{dashboard.File} has no title");
            Assert.Equal("Europe/Amsterdam", GrafanaDashboard.Text(root, "timezone"));
            Assert.Equal(JsonValueKind.Null, root.GetProperty("id").ValueKind);
        }
    }

    [Fact]
    public void Every_panel_target_and_query_variable_goes_through_the_input_and_no_Flux_is_left()
    {
        foreach (var dashboard in GrafanaDashboard.All())
        {
            var text = File.ReadAllText(Path.Combine(GrafanaDashboard.Folder, "dashboards", dashboard.File));
            foreach (var flux in (string[])["from(bucket", "|>", "aggregateWindow", "import \\\"", "\"influxdb\"", "v.timeRangeStart"])
            {
                Assert.False(text.Contains(flux, StringComparison.Ordinal), $"{dashboard.File} still holds Flux or InfluxDB: {flux}");
            }

            var variable = Assert.Single(dashboard.Variables(), v => v.Name == GrafanaDashboard.Input);
            Assert.Equal("datasource", variable.Type);
            Assert.Equal("prometheus", variable.Query);
            var current = dashboard.Root.GetProperty("templating").GetProperty("list").EnumerateArray()
                .Single(v => GrafanaDashboard.Text(v, "name") == GrafanaDashboard.Input).GetProperty("current");
            Assert.Equal(GrafanaDashboard.ProvisionedUid, GrafanaDashboard.Text(current, "value"));

            var ids = new HashSet<int>();
            foreach (var panel in dashboard.Panels())
            {
                var title = GrafanaDashboard.Text(panel, "title");
                Assert.False(string.IsNullOrWhiteSpace(title), $"{dashboard.File}: a panel without a title");
                Assert.True(ids.Add(panel.GetProperty("id").GetInt32()), $"{dashboard.File}: panel id of '{title}' used twice");
                AssertInput(panel, $"{dashboard.File} '{title}'");
                var targets = panel.GetProperty("targets").EnumerateArray().ToList();
                Assert.True(targets.Count > 0, $"{dashboard.File} '{title}' has no query");
                foreach (var target in targets)
                {
                    AssertInput(target, $"{dashboard.File} '{title}' {GrafanaDashboard.Text(target, "refId")}");
                    Assert.False(string.IsNullOrWhiteSpace(GrafanaDashboard.Text(target, "expr")), $"{dashboard.File} '{title}': a target without expr");
                }

                var grid = panel.GetProperty("gridPos");
                Assert.True(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32() <= 24, $"{dashboard.File} '{title}' is wider than the grid");
            }

            foreach (var query in dashboard.Root.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => GrafanaDashboard.Text(v, "type") == "query"))
            {
                AssertInput(query, $"{dashboard.File} variable {GrafanaDashboard.Text(query, "name")}");
            }
        }
    }

    [Fact]
    public void Every_variable_a_query_names_is_defined_or_built_in_and_variable_queries_are_label_values()
    {
        foreach (var dashboard in GrafanaDashboard.All())
        {
            var variables = dashboard.Variables();
            var known = variables.Select(v => v.Name).Concat(Builtins).ToHashSet(StringComparer.Ordinal);
            foreach (var target in dashboard.Targets())
            {
                foreach (var name in GrafanaDashboard.Referenced(target.Expr))
                {
                    Assert.True(known.Contains(name), $"{dashboard.File} '{target.Panel}' names ${name}, which the dashboard does not define: {target.Expr}");
                }

                if (target.MinInterval is { } interval)
                {
                    GrafanaInterpolation.ParseDuration(interval);
                }
            }

            for (var i = 0; i < variables.Count; i++)
            {
                if (variables[i].Type != "query")
                {
                    continue;
                }

                Assert.StartsWith("label_values(", variables[i].Query);
                foreach (var name in GrafanaDashboard.Referenced(variables[i].Query!))
                {
                    // A variable may use only the ones before it (Grafana resolves them in order).
                    Assert.True(variables.Take(i).Any(v => v.Name == name), $"{dashboard.File}: variable {variables[i].Name} names ${name} before it is defined");
                }
            }
        }
    }

    [Fact]
    public void The_provisioned_data_source_is_prometheus_on_VictoriaMetrics_with_the_dashboards_uid()
    {
        var folder = Path.Combine(GrafanaDashboard.Folder, "provisioning", "datasources");
        var file = Assert.Single(Directory.GetFiles(folder, "*.yaml"));
        var text = File.ReadAllText(file);
        Assert.Contains($"uid: {GrafanaDashboard.ProvisionedUid}", text, StringComparison.Ordinal);
        Assert.Contains("type: prometheus", text, StringComparison.Ordinal);
        Assert.DoesNotContain("influxdb", text.Split('\n').Where(l => !l.TrimStart().StartsWith('#')).Aggregate(string.Empty, string.Concat), StringComparison.OrdinalIgnoreCase);
    }

    private static void AssertInput(JsonElement element, string where)
    {
        Assert.True(element.TryGetProperty("datasource", out var ds), $"{where} has no datasource");
        Assert.Equal("prometheus", GrafanaDashboard.Text(ds, "type"));
        Assert.Equal("${" + GrafanaDashboard.Input + "}", GrafanaDashboard.Text(ds, "uid"));
    }
}
