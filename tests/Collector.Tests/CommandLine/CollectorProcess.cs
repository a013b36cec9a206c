using System.Diagnostics;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Tests.CommandLine;

/// <summary>Runs <c>dotnet collector.dll …</c> from the test's output folder to its end, with standard input if given.</summary>
public static class CollectorProcess
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] args, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "collector.dll"), .. args])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_TieredPGO"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the collector");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command stopped reading (a bounded read refused the rest): its exit code says what happened.
        }
        using var wait = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"collector {string.Join(' ', args)} did not exit within {Patience}.\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A site file with one room and the devices given, each with one door into it.</summary>
    public static string WriteSite(string folder, params string[] devices)
    {
        var doors = string.Join(",", devices.Select(d => $$"""{ "id": "door-{{d}}", "from": "outside", "to": "hall", "device": "{{d}}" }"""));
        var path = Path.Combine(folder, "site.json");
        File.WriteAllText(path, $$"""
            { "site": "{{TestData.SiteId}}", "name": "Test site", "time_zone": "Europe/Amsterdam",
              "rooms": [ { "id": "hall", "name": { "nl": "Hal", "en": "Hall" }, "capacity": 50, "kind": "hall" } ],
              "doors": [ {{doors}} ] }
            """);
        return path;
    }

    /// <summary>A store in <paramref name="dataDirectory"/> with one batch of <paramref name="device"/>, received and read at the times given.</summary>
    public static void WriteStore(string dataDirectory, string device, DateTimeOffset received, DateTimeOffset readingTime)
    {
        using (var store = new SqliteStore(Path.Combine(dataDirectory, "collector.db"), Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteStore>.Instance))
        {
            store.Commit([TestData.Batch(device, 1, received, TestData.Door($"door-{device}", readingTime, 1, 0, 1, 0))]);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
