using System.CommandLine;
using System.Globalization;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Storage.Export;
using NewTechPark.Edge.Collector.Storage.Transfer;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// <c>collector sites export|import</c>: moving a site's state from one collector's store to
/// another's (the procedure is in this folder's README, "Moving a site"). Export reads one snapshot
/// beside a running collector (<see cref="SiteExport"/>); import merges with no collector on the
/// data directory (it takes <see cref="DataDirectoryLock"/>, as <c>restore</c>), counting nothing
/// twice (<see cref="SiteImport"/>).
/// </summary>
public static class SitesTransferCommand
{
    public static Command Create(SettingsArguments settings)
    {
        var command = new Command("sites", "Move a site between collectors: export its whole state from one store, import it into another.");
        command.Add(Export(settings));
        command.Add(Import(settings));
        return command;
    }

    private static Option<string> SiteOption(string description)
    {
        var site = new Option<string>("--site") { Description = description, HelpName = "SITE", Required = true };
        site.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && !Identifiers.IsSlug(value))
            {
                result.AddError($"--site '{value}' is not a site id ({Identifiers.SlugPattern})");
            }
        });
        return site;
    }

    private static Command Export(SettingsArguments settings)
    {
        var site = SiteOption("The site to export (its id, as in its site file).");
        var out_ = new Option<string>("--out", "-o") { Description = "The transfer file to write (an SQLite file; written beside it, checked, then renamed).", HelpName = "FILE", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var command = new Command("export", "Write every row of one site (raw points, rollups, batch ledger, devices, badge scans, corrections, group visits, sessions, room history) to a transfer file. Works beside a running collector: one consistent snapshot.")
        {
            site, out_, force,
        };
        command.SetAction((parse, cancellationToken) => CollectorCommandLine.GuardAsync(parse, async error =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var data = DataCommandSettings.Load(settings);
                var zone = data.LoadSite().TimeZone;
                var result = SiteExport.Run(data.StorePath, parse.GetValue(site)!, zone, parse.GetValue(out_)!, parse.GetValue(force), DateTimeOffset.UtcNow,
                    null, cancellationToken);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"sites export: site {result.Site} to {result.Path} ({DataCommandSettings.Size(result.Bytes)}) in {result.Elapsed.TotalSeconds:0.0} s")).ConfigureAwait(false);
                foreach (var (table, rows) in result.Tables)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {table,-22} {rows,14:N0} rows")).ConfigureAwait(false);
                }

                return 0;
            }
            catch (Exception e) when (e is DataCommandException or StoreFileException or SiteTransferException)
            {
                await error.WriteLineAsync($"sites export: {e.Message}").ConfigureAwait(false);
                return CollectorCommandLine.Invalid;
            }
        }));
        return command;
    }

    private static Command Import(SettingsArguments settings)
    {
        var file = new Argument<string>("FILE") { Description = "A transfer file made by collector sites export." };
        var site = SiteOption("The site the file must hold (a file of another site is refused).");
        var command = new Command("import", "Merge a site's transfer file into this collector's store. The collector must be stopped. Rows the store holds already (the same batch, point, scan, …) are skipped: importing twice, or after live data of the same site arrived, counts nothing twice.")
        {
            file, site,
        };
        command.SetAction((parse, cancellationToken) => CollectorCommandLine.GuardAsync(parse, async error =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var data = DataCommandSettings.Load(settings);
                using var claim = DataDirectoryLock.TryTake(data.DataDirectory)
                    ?? throw new DataCommandException($"a collector is running on {data.DataDirectory} (it holds {DataDirectoryLock.FileName}); stop it first (sudo systemctl stop ntp-collector), then import");
                var siteModel = data.LoadSite();
                var zone = TimeZoneInfo.FindSystemTimeZoneById(siteModel.TimeZone);
                var result = SiteImport.Run(parse.GetValue(file)!, parse.GetValue(site)!, data.StorePath, zone, siteModel.TimeZone,
                    Terminal.IsTerminal(error) ? note => error.WriteLine($"sites import: {note}") : null, cancellationToken);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"sites import: site {result.Site} into {data.StorePath} in {result.Elapsed.TotalSeconds:0.0} s")).ConfigureAwait(false);
                foreach (var merge in result.Tables)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {merge.Table,-22} {merge.Added,14:N0} added {merge.Skipped,14:N0} skipped")).ConfigureAwait(false);
                }

                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  raw points the store held: {result.DuplicatePoints:N0} also in the file (stored once), {result.TailPoints:N0} only in the store (kept), {result.ConflictingPoints:N0} with another value (the file's kept)")).ConfigureAwait(false);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  derived figures marked for rebuild at the collector's start: {result.DoorDaysMarked:N0} occupancy days, {result.BadgeDaysMarked:N0} visitor days")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is DataCommandException or StoreFileException or SiteTransferException)
            {
                await error.WriteLineAsync($"sites import: {e.Message}").ConfigureAwait(false);
                return CollectorCommandLine.Invalid;
            }
        }));
        return command;
    }
}
