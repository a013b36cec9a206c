using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// Issue 14: a second collector on the same MQTT port used to start without error (MQTTnet's
/// ReuseAddress is SO_REUSEPORT on Linux) and took half the devices into its own database.
/// </summary>
public sealed class BrokerPortTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_taken_broker_port_stops_the_collector_with_exit_2_naming_the_setting()
    {
        using var data = new TempDirectory();
        // Held the way another program would hold it: a plain listener, no SO_REUSEPORT.
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, error, console) = await RunCollectorAsync(data.Path, $"--Collector:Broker:Port={port}");

        output.WriteLine(error + console);
        Assert.Equal(2, exitCode);
        Assert.Contains("Collector:Broker:Port", error, StringComparison.Ordinal);
        Assert.Contains($"port {port} on 127.0.0.1 is already in use", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error + console, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Error, string Output)> RunCollectorAsync(string dataDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "collector.dll"), $"--Collector:DataDirectory={dataDirectory}", "--urls=http://127.0.0.1:0", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stderr, await stdout);
    }
}
