using System.CommandLine;
using System.Globalization;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Storage.Backup;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// <c>collector restore FILE</c>: puts a backup in place of the store (<see cref="StoreRestore"/>),
/// only while no collector runs on the data directory: it takes the directory's lock
/// (<see cref="DataDirectoryLock"/>) that a running collector holds, and holds it until done.
/// </summary>
public static class RestoreCommand
{
    public static Command Create(SettingsArguments settings)
    {
        var file = new Argument<string>("FILE") { Description = "A backup made by collector backup (or a copy of collector.db)." };
        var command = new Command("restore", "Replace the store with a backup. The collector must be stopped; the current store is kept as collector.db.before-restore-<UTC time>.")
        {
            file,
        };
        // Named refusals: exit 2; an I/O failure on the way (disk full while copying): one line, exit 1 (GuardAsync).
        command.SetAction(parse => CollectorCommandLine.GuardAsync(parse, async error =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var data = DataCommandSettings.Load(settings);
                using var claim = DataDirectoryLock.TryTake(data.DataDirectory)
                    ?? throw new DataCommandException($"a collector is running on {data.DataDirectory} (it holds {DataDirectoryLock.FileName}); stop it first (sudo systemctl stop ntp-collector), then restore");
                var result = StoreRestore.Run(parse.GetValue(file)!, data.StorePath, DateTimeOffset.UtcNow);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"restore: {result.StorePath} is now the backup ({DataCommandSettings.Size(result.Bytes)}, schema version {result.SchemaVersion}, integrity ok)")).ConfigureAwait(false);
                await output.WriteLineAsync(result.KeptAs is null
                    ? "restore: there was no store before"
                    : $"restore: the store before is kept as {result.KeptAs}").ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is DataCommandException or StoreBackupException)
            {
                await error.WriteLineAsync($"restore: {e.Message}").ConfigureAwait(false);
                return CollectorCommandLine.Invalid;
            }
        }));
        return command;
    }
}
