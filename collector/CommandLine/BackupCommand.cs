using System.CommandLine;
using System.Globalization;
using NewTechPark.Edge.Collector.Storage.Backup;
using NewTechPark.Edge.Collector.Storage.Export;
using Spectre.Console;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// <c>collector backup --out FILE</c>: an online, consistent copy of the store while the collector
/// runs (<see cref="StoreBackup"/>: SQLite's backup API in one snapshot, checked, renamed into place).
/// </summary>
public static class BackupCommand
{
    public static Command Create(SettingsArguments settings)
    {
        var out_ = new Option<string>("--out", "-o") { Description = "The backup file (written beside it, checked, then renamed). Best on another disk.", HelpName = "FILE", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists (a nightly backup to the same name)." };
        var command = new Command("backup", "Copy the store to a file while the collector runs: one consistent snapshot through SQLite's backup API, checked with SQLite's integrity check.")
        {
            out_, force,
        };
        // Named refusals: exit 2; an I/O or SQLite failure on the way (disk full): one line, exit 1 (GuardAsync).
        command.SetAction((parse, cancellationToken) => CollectorCommandLine.GuardAsync(parse, async error =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var data = DataCommandSettings.Load(settings);
                var target = parse.GetValue(out_)!;
                var overwrite = parse.GetValue(force);
                BackupResult result;
                if (DataCommandSettings.ProgressConsole() is { } console)
                {
                    result = null!;
                    await console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                        .StartAsync(context =>
                        {
                            var task = context.AddTask("backup", maxValue: 1);
                            result = StoreBackup.Run(data.StorePath, target, overwrite, (done, total) =>
                            {
                                task.MaxValue = Math.Max(1, total);
                                task.Value = done;
                                task.Description = done < total
                                    ? string.Create(CultureInfo.InvariantCulture, $"backup {done:N0}/{total:N0} pages")
                                    : "backup copied, checking its integrity";
                            }, cancellationToken);
                            return Task.CompletedTask;
                        }).ConfigureAwait(false);
                }
                else
                {
                    result = StoreBackup.Run(data.StorePath, target, overwrite, null, cancellationToken);
                }

                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"backup: {result.Path}: {result.Pages:N0} pages, {DataCommandSettings.Size(result.Bytes)}, schema version {result.SchemaVersion}, integrity ok, in {result.Elapsed.TotalSeconds:0.0} s")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is DataCommandException or StoreFileException or StoreBackupException)
            {
                await error.WriteLineAsync($"backup: {e.Message}").ConfigureAwait(false);
                return CollectorCommandLine.Invalid;
            }
        }));
        return command;
    }
}
