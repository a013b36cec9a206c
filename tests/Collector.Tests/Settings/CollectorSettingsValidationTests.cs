using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Contracts.Configuration;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Collector.Tests.Settings;

/// <summary>
/// Every setting of the collector, found by reflection on <see cref="CollectorOptions"/>, is given
/// values it must refuse; the collector must refuse each one at start, naming the setting. All of
/// them through the real builder and start-up validation in-process, a few through the real program
/// (exit code 2, message on stderr, no stack trace).
/// </summary>
public sealed class CollectorSettingsValidationTests(ITestOutputHelper output)
{
    /// <summary>Bad values that attributes cannot derive: custom rules, files, addresses.</summary>
    private static readonly Dictionary<string, string[]> Custom = new(StringComparer.Ordinal)
    {
        ["Collector:SiteFile"] = ["missing-site.json"],
        ["Collector:Sites:0"] = ["missing-sites-folder"],
        ["Collector:Broker:BindAddress"] = ["not-an-ip"],
        ["Collector:Broker:PasswordFile"] = ["/nonexistent/passwords"],
        ["Collector:Broker:Readers:0"] = ["Not A User!"],
        ["Collector:Broker:Tls:CertificateFile"] = ["/nonexistent/cert.pem"],
        ["Collector:Broker:Tls:KeyFile"] = ["/nonexistent/key.pem"],
        ["Collector:Broker:Tls:BindAddress"] = ["not-an-ip"],
        ["Collector:Ingest:SessionExpiry"] = ["00:00:00", "50000.00:00:00"],
        ["Collector:Occupancy:DailyReset"] = ["1.00:00:00"],
        ["Collector:Influx:Mode"] = ["Instead"],
        ["Collector:Influx:Url"] = ["ftp://influx.local", "not a url"],
        ["Collector:Influx:Timeout"] = ["00:00:00.500", "02:00:00"],
        ["Collector:Influx:RetryMinDelay"] = ["00:00:00", "00:02:00"],
        ["Collector:Influx:RetryMaxDelay"] = ["2.00:00:00"],
        ["Collector:Retention:Raw"] = ["12:00:00"],
        ["Collector:Retention:Minute"] = ["10.00:00:00"],
        ["Collector:Retention:Hour"] = ["10.00:00:00"],
        ["Collector:Retention:Day"] = ["10.00:00:00"],
        ["Collector:Retention:Interval"] = ["00:00:05", "2.00:00:00"],
        ["Collector:Visitors:ScanRetention"] = ["30.00:00:00"],
        ["Collector:Visitors:FreezeAfter"] = ["400.00:00:00"],
        ["Collector:Admin:Token"] = ["short", "with spaces in the token"],
        ["Collector:Auth:Tokens:0:Name"] = ["Klas 3B!", "-klas"],
        ["Collector:Auth:Tokens:0:Role"] = ["Sideways", "root", ""],
        ["Collector:Auth:Tokens:0:Token"] = ["short", "with spaces in the token"],
        ["Collector:Http:AuthFailureWindow"] = ["00:00:00.500", "2.00:00:00"],
        ["Collector:Http:CorsOrigins:0"] = ["*", "https://intranet.example/path"],
        ["Collector:Health:StoreWriteTimeout"] = ["00:00:00.500", "00:10:00"],
        ["Collector:Notifications:CheckInterval"] = ["00:00:00.500", "00:11:00"],
        ["Collector:Notifications:OfflineAfter"] = ["00:00:30", "8.00:00:00"],
        ["Collector:Notifications:Webhooks:0:Name"] = ["not a name!", ""],
        ["Collector:Notifications:Webhooks:0:Url"] = ["ftp://example.org/hook", "not a url", "/relative/hook", "file:///etc/passwd"],
        ["Collector:Notifications:Webhooks:0:Events:0"] = ["room-exploded"],
        ["Collector:Notifications:Webhooks:0:QuietPeriod"] = ["8.00:00:00"],
        ["Collector:Notifications:Webhooks:0:Headers:example"] = ["line\nbreak", "nön-ascii"],
        ["Collector:Notifications:Webhooks:0:Secret"] = ["too-short"],
        ["Collector:Notifications:Webhooks:0:Timeout"] = ["00:00:00.500", "00:03:00"],
        ["Collector:Notifications:Webhooks:0:MaxAttempts"] = ["0", "101"],
        ["Collector:Notifications:Webhooks:0:RetryMinDelay"] = ["00:00:00.001", "00:11:00"],
        ["Collector:Notifications:Webhooks:0:RetryMaxDelay"] = ["07:00:00"],
        ["Collector:Notifications:Webhooks:0:QueueCapacity"] = ["0", "10001"],
        ["Collector:Report:TargetsFile"] = ["/nonexistent/targets.json"],
        ["Collector:Report:Monthly:Folder"] = ["/dev/null/reports"],
        ["Collector:Report:Monthly:SettleTime"] = ["-00:00:01", "1.00:00:00"],
        ["Collector:HomeAssistant:DiscoveryPrefix"] = ["home/assistant", "ha#", "+"],
        ["Collector:HomeAssistant:StatePrefix"] = ["ntp/v1/ha", "a/b/c/d/e", "ntp/+", "homeassistant/states"],
        ["Collector:HomeAssistant:StateInterval"] = ["00:00:00.500", "02:00:00"],
        ["Collector:HomeAssistant:OccupancyInterval"] = ["00:00:00", "00:11:00"],
        ["Collector:Region:Enabled"] = ["true"],
        ["Collector:Region:Interval"] = ["00:00:00.500", "00:01:00"],
        ["Collector:Region:SettleDelay"] = ["-00:00:01", "07:00:00"],
        ["Collector:Region:CatchUp"] = ["12:00:00", "401.00:00:00"],
    };

    /// <summary>Settings that take any value of their type, and why.</summary>
    private static readonly Dictionary<string, string> AnyValue = new(StringComparer.Ordinal)
    {
        ["Collector:Broker:Username"] = "whatever user name the outside broker has",
        ["Collector:Broker:Password"] = "whatever password the outside broker has",
        ["Collector:Broker:Users:example"] = "hashes are checked when the broker loads them (BrokerCredentials, EmbeddedBrokerSecurityTests)",
        ["Collector:Broker:Tls:CertificatePassword"] = "whatever password the PKCS#12 file has",
        ["Collector:Influx:Token"] = "whatever token the server has; empty for none",
    };

    public static TheoryData<string> SettingPaths()
    {
        var data = new TheoryData<string>();
        foreach (var setting in SettingsWalker.Leaves(typeof(CollectorOptions), CollectorOptions.Section))
        {
            data.Add(setting.Path);
        }

        return data;
    }

    [Fact]
    public void Every_setting_has_values_to_refuse_or_a_reason_it_takes_any()
    {
        var missing = SettingsWalker.Leaves(typeof(CollectorOptions), CollectorOptions.Section)
            .Where(s => SettingsWalker.NeedsTable(s) && !Custom.ContainsKey(s.Path) && !AnyValue.ContainsKey(s.Path))
            .Select(s => s.Path)
            .ToList();
        Assert.True(missing.Count == 0, "Settings without a range, a [Required] or a custom check: give them one (and bad values here), or list why any value is fine: " + string.Join(", ", missing));
        Assert.Empty(Custom.Keys.Concat(AnyValue.Keys).Except(SettingsWalker.Leaves(typeof(CollectorOptions), CollectorOptions.Section).Select(s => s.Path)));
    }

    [Fact]
    public async Task The_defaults_start()
    {
        using var data = new TempDirectory();
        Assert.Null(await RefusalAsync([$"--Collector:DataDirectory={data.Path}"]));
    }

    [Fact]
    public async Task Every_setting_refuses_values_out_of_its_range_naming_itself()
    {
        using var data = new TempDirectory();
        var started = Stopwatch.StartNew();
        var problems = new List<string>();
        var cases = 0;
        foreach (var setting in SettingsWalker.Leaves(typeof(CollectorOptions), CollectorOptions.Section))
        {
            foreach (var value in BadValues(setting))
            {
                cases++;
                var refusal = await RefusalAsync([$"--Collector:DataDirectory={data.Path}", $"--{setting.Path}={value}"]);
                if (refusal is null)
                {
                    problems.Add($"{setting.Path}={value} was accepted");
                }
                else if (!refusal.Contains(setting.Path, StringComparison.Ordinal))
                {
                    problems.Add($"{setting.Path}={value} was refused without naming the setting: {refusal}");
                }
            }
        }

        output.WriteLine($"{cases} bad values of {SettingPaths().Count} settings checked in {started.Elapsed.TotalSeconds:0.0} s");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Theory]
    [InlineData("Collector:Ingest:MaxMessagesPerCommit", "0")]
    [InlineData("Collector:Ingest:ReceiveMaximum", "70000")]
    [InlineData("Collector:Broker:Port", "70000")]
    [InlineData("Collector:Broker:Tls:Port", "0")]
    [InlineData("Collector:Ingest:ReceiveMaximum", "lots")]
    [InlineData("Collector:Influx:Mode", "Sideways")]
    [InlineData("Collector:Retention:Interval", "-00:00:01")]
    [InlineData("Collector:Auth:Tokens:0:Role", "root")]
    public async Task The_program_exits_with_2_naming_the_setting(string setting, string value)
    {
        using var data = new TempDirectory();
        var (exit, stderr, printed) = await SettingsWalker.RunProgramAsync("collector.dll", data.Path, [$"--Collector:DataDirectory={data.Path}", "--urls=http://127.0.0.1:0", $"--{setting}={value}"]);
        output.WriteLine(printed);
        Assert.Equal(2, exit);
        Assert.Contains(setting, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
    }

    private static IEnumerable<string> BadValues(Setting setting) => SettingsWalker.BadValues(setting, Custom);

    /// <summary>Builds the collector as Program does and runs the start-up validation; the refusal it would print, or null.</summary>
    private static async Task<string?> RefusalAsync(string[] args)
    {
        try
        {
            var app = CollectorHost.Build(args);
            await using (app.ConfigureAwait(false))
            {
                app.Services.GetRequiredService<IStartupValidator>().Validate();
            }

            return null;
        }
        catch (OptionsValidationException e)
        {
            return string.Join(Environment.NewLine, e.Failures);
        }
        catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
        {
            return problem;
        }
    }
}
