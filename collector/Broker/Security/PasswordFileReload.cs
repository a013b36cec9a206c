using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Adds and removes devices without a restart: the embedded broker reads its password file
/// (<c>Collector:Broker:PasswordFile</c>) again on SIGHUP, as Mosquitto does, and when the file
/// changes (a watcher with a debounce, since editors and <c>collector devices add</c> write in
/// several steps). A malformed file keeps the previous users and logs an error. Users that were
/// removed, or whose password changed, are disconnected; everyone else stays connected.
/// </summary>
public sealed class PasswordFileReload(BrokerCredentials credentials, EmbeddedBroker broker, TimeProvider clock, ILogger<PasswordFileReload> logger) : IHostedService, IDisposable
{
    /// <summary>Changes closer together than this are read once.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);

    private readonly SemaphoreSlim _one = new(1, 1);
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _hangUp;
    private ITimer? _timer;

    /// <summary>Reloads done, successful or not (tests wait for it).</summary>
    public int Reloads { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (credentials.PasswordFile is not { } file)
        {
            return Task.CompletedTask;
        }

        _timer = clock.CreateTimer(_ => _ = ReloadAsync("the file changed"), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var full = Path.GetFullPath(file);
        // The folder is watched, not the file: `collector devices` and editors replace the file by a rename.
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, _) => Later();
        _watcher.Created += (_, _) => Later();
        _watcher.Renamed += (_, _) => Later();
        _watcher.Error += (_, e) => logger.LogError(e.GetException(), "Watching the password file {File} failed; send SIGHUP to reload it", full);
        _watcher.EnableRaisingEvents = true;
        if (!OperatingSystem.IsWindows())
        {
            _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                // Handled: SIGHUP must not end the collector.
                context.Cancel = true;
                _ = ReloadAsync("SIGHUP");
            });
        }

        return Task.CompletedTask;
    }

    private void Later() => _timer?.Change(Debounce, Timeout.InfiniteTimeSpan);

    /// <summary>Reads the file again and applies it; never throws (it runs from a signal or a timer).</summary>
    public async Task ReloadAsync(string why)
    {
        await _one.WaitAsync().ConfigureAwait(false);
        try
        {
            var problems = credentials.ReloadPasswordFile(out var dropped);
            if (problems.Count > 0)
            {
                logger.LogError("Password file {File} not reloaded ({Why}); the users loaded before stay:{NewLine}- {Problems}",
                    credentials.PasswordFile, why, Environment.NewLine, string.Join(Environment.NewLine + "- ", problems));
                return;
            }

            logger.LogInformation("Password file {File} reloaded ({Why}): {Users} user(s); {Dropped} removed or changed", credentials.PasswordFile, why, credentials.Count, dropped.Count);
            if (dropped.Count > 0)
            {
                await broker.DisconnectUsersAsync(dropped).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError(e, "Password file {File} not reloaded ({Why}); the users loaded before stay", credentials.PasswordFile, why);
        }
        finally
        {
            Reloads++;
            _one.Release();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _hangUp?.Dispose();
        _hangUp = null;
        _watcher?.Dispose();
        _watcher = null;
        _timer?.Dispose();
        _timer = null;
    }
}
