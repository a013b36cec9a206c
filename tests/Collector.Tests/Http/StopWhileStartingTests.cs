using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary>A stop asked for while the services are still starting (SIGTERM from systemd, Ctrl+C) is a clean stop.</summary>
public sealed class StopWhileStartingTests
{
    [Fact]
    public async Task A_stop_during_start_ends_the_program_with_exit_code_0_and_no_exception()
    {
        using var data = new TempDirectory();
        var blocker = new StartThatWaitsForTheStop();
        WebApplication? app = null;
        string[] args =
        [
            "--urls", $"http://127.0.0.1:{FreePort.Next()}",
            $"--Collector:DataDirectory={data.Path}",
            $"--Collector:Broker:Port={FreePort.Next()}",
            "--Logging:LogLevel:Default=Warning",
        ];

        var run = CollectorHost.RunAsync(() => app = CollectorHost.Build(args, builder => builder.Services.AddSingleton<IHostedService>(blocker)), "collector");
        await blocker.Entered.Task.WaitAsync(TimeSpan.FromSeconds(60));
        app!.Lifetime.StopApplication();

        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(60)));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>A service whose start lasts until the host gives the start up, as a slow store conversion would.</summary>
    private sealed class StartThatWaitsForTheStop : IHostedService
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
