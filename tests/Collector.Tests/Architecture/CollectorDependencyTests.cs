using System.Xml.Linq;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Tests.Architecture;

/// <summary>
/// The production collector ships without the edge agent, its GPIO and sensor libraries, or the
/// simulation and demo: those are their own programs (simulation/, demo/) built around it.
/// </summary>
public sealed class CollectorDependencyTests
{
    private static readonly string[] Forbidden = ["edge-agent", "simulated-agent", "demo", "System.Device.Gpio", "Iot.Device.Bindings"];

    [Fact]
    public void The_collector_project_references_only_the_contracts()
    {
        var project = XDocument.Load(Path.Combine(RepositoryRoot(), "collector", "NewTechPark.Edge.Collector.csproj"));
        var references = project.Descendants("ProjectReference").Select(r => r.Attribute("Include")!.Value.Replace('\\', '/')).ToList();
        Assert.Equal(["../contracts/NewTechPark.Edge.Contracts.csproj"], references);
        var packages = project.Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value).ToList();
        Assert.DoesNotContain(packages, p => p.StartsWith("System.Device", StringComparison.Ordinal) || p.StartsWith("Iot.Device", StringComparison.Ordinal));
    }

    [Fact]
    public void The_collector_assembly_and_its_build_output_hold_no_agent_gpio_or_simulation_assembly()
    {
        var referenced = typeof(CollectorHost).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(referenced, name => Forbidden.Contains(name, StringComparer.OrdinalIgnoreCase));

        // This test project references the collector alone, so its output is the collector's closure.
        var files = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll").Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.Contains("collector", files);
        Assert.DoesNotContain(files, name => Forbidden.Contains(name, StringComparer.OrdinalIgnoreCase));
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("the repository root (NewTechPark.Edge.sln) is not above " + sourceFile);
    }
}
