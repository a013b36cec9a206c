using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Collector.Tests.Settings;

/// <summary>
/// Every collector and demo settings file in the tree binds to the collector's options and passes
/// its real validators (through the same builder and start-up validation as the program).
/// </summary>
public sealed class SettingsFilesTests
{
    public static TheoryData<string> Files() => [.. SettingsFiles.Below("collector", "demo", "hardware")];

    [Fact]
    public void The_shipped_file_is_found() => Assert.Contains("collector/appsettings.json", SettingsFiles.Below("collector", "demo", "hardware"));

    [Fact]
    public async Task Settings_files_are_read_once_and_not_watched()
    {
        using var data = new TempDirectory();
        var app = CollectorHost.Build([$"--Collector:DataDirectory={data.Path}"]);
        await using (app.ConfigureAwait(false))
        {
            var files = ((IConfigurationRoot)app.Configuration).Providers
                .OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider>().ToList();
            Assert.NotEmpty(files);
            Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, f.Source.Path));
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task A_settings_file_binds_and_validates(string file)
    {
        using var data = new TempDirectory();
        var root = SettingsFiles.RepositoryRoot();
        var settings = new ConfigurationBuilder().AddJsonFile(Path.Combine(root, file), optional: false).Build()
            .AsEnumerable().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        // Only where the data goes differs from the file; the site file is found as the program finds it.
        settings["Collector:DataDirectory"] = data.Path;
        try
        {
            var app = CollectorHost.Build([.. settings.Select(p => $"--{p.Key}={p.Value}")]);
            await using (app.ConfigureAwait(false))
            {
                app.Services.GetRequiredService<IStartupValidator>().Validate();
            }
        }
        catch (OptionsValidationException e)
        {
            Assert.Fail($"{file}: {string.Join("; ", e.Failures)}");
        }
        catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
        {
            Assert.Fail($"{file}: {problem}");
        }
    }
}
