using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.CommandLine;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// Devices come and go without a restart: the embedded broker reads its password file again when
/// it changes or on SIGHUP; connected devices stay connected, a removed one is cut off.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes and SIGHUP are Unix's
public sealed class PasswordFileReloadTests(Xunit.Abstractions.ITestOutputHelper testOutput)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_device_added_or_removed_while_others_are_connected_takes_effect_without_a_restart()
    {
        using var folder = new TempDirectory("ntp-reload-");
        var file = Path.Combine(folder.Path, "mqtt.passwd");
        WritePrivately(file, [Line("pi-file-a"), Line("pi-file-b")]);
        var logs = new CapturedLogs();
        await using var collector = await RunningCollector.StartAsync(logs: logs, extra: [$"--Collector:Broker:PasswordFile={file}", "--Logging:LogLevel:NewTechPark=Information"]);
        var reload = collector.Services.GetRequiredService<PasswordFileReload>();

        // Connected before any change: a device from the settings and two from the file.
        var drops = new List<string>();
        var bDropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var settingsDevice = await ConnectAsync(collector, "pi-a", TestCredentials.PasswordOf("pi-a"), drops);
        using var fileDevice = await ConnectAsync(collector, "pi-file-a", PasswordOf("pi-file-a"), drops);
        using var removedLater = await ConnectAsync(collector, "pi-file-b", PasswordOf("pi-file-b"), drops, bDropped);

        // 1. collector devices add writes the file (by a rename); the new device logs in without a restart.
        var output = new StringWriter();
        Assert.Equal(0, await CollectorCommandLine.RunAsync(["devices", "add", "pi-new", "--password-file", file], output, TextWriter.Null));
        var password = output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[1];
        // Wait for the broker to know the user rather than polling logins: every refused attempt
        // would count towards the address's login throttle (0x97) and spoil the checks below.
        var credentials = collector.Services.GetRequiredService<BrokerCredentials>();
        await Eventually.UntilAsync(() => credentials.Contains("pi-new"), "the password file reloaded with pi-new", Patience);
        Assert.Equal(MqttClientConnectResultCode.Success, await TryConnectAsync(collector, "pi-new", password));
        Assert.Empty(drops);
        Assert.True(settingsDevice.IsConnected && fileDevice.IsConnected && removedLater.IsConnected);
        Assert.True((await fileDevice.PublishAsync(EmbeddedBrokerSecurityTests.Batch("ntp/v1/newtechpark/pi-file-a/readings", 1, "probe"))).IsSuccess);

        // 2. A malformed file keeps the users loaded before, and says why.
        var before = reload.Reloads;
        var good = await File.ReadAllLinesAsync(file);
        WritePrivately(file, [.. good, "this line has no colon"]);
        await Eventually.UntilAsync(() => reload.Reloads > before && logs.All.Contains("not reloaded", StringComparison.Ordinal), "the broken file was read and refused", Patience);
        Assert.Contains("expected 'user:hash'", logs.All, StringComparison.Ordinal);
        Assert.Equal(MqttClientConnectResultCode.Success, await TryConnectAsync(collector, "pi-new", password));

        // 3. SIGHUP reads the file again (as Mosquitto does), without ending the collector.
        WritePrivately(file, good);
        await Eventually.UntilAsync(() => logs.All.Contains("reloaded (the file changed)", StringComparison.Ordinal), "the good file was read again", Patience);
        // A test run started under nohup inherits SIGHUP as ignored, and the runtime then never
        // delivers it: that part can only be checked where SIGHUP reaches this process.
        if (SigHupIgnoredAtStart())
        {
            testOutput.WriteLine("SIGHUP is ignored in this process (started under nohup?): the signal step is not checked here");
        }
        else
        {
            before = reload.Reloads;
            using (var hangUp = Process.Start("kill", ["-HUP", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await hangUp.WaitForExitAsync();
            }

            await Eventually.UntilAsync(() => reload.Reloads > before && logs.All.Contains("reloaded (SIGHUP)", StringComparison.Ordinal), "SIGHUP reloaded the file", Patience);
        }

        // 4. A removed device is cut off (its open connection too) and cannot log in again; the others stay.
        WritePrivately(file, good.Where(l => !l.StartsWith("pi-file-b:", StringComparison.Ordinal)).ToArray());
        await bDropped.Task.WaitAsync(Patience);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await TryConnectAsync(collector, "pi-file-b", PasswordOf("pi-file-b")));
        Assert.Equal(["pi-file-b"], drops);
        Assert.True(settingsDevice.IsConnected && fileDevice.IsConnected);
        Assert.Equal(MqttClientConnectResultCode.Success, await TryConnectAsync(collector, "pi-new", password));
    }

    /// <summary>Bit 0 of SigIgn in /proc/self/status is SIGHUP.</summary>
    private static bool SigHupIgnoredAtStart()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 1) != 0;
    }

    private static string PasswordOf(string user) => $"reload-{user}-password";

    private static string Line(string user) => $"{user}:{MqttPasswordHash.Create(PasswordOf(user), 10)}";

    /// <summary>Replaces the file by a rename, readable by its owner only, as an administrator's tools do.</summary>
    private static void WritePrivately(string file, string[] lines)
    {
        var temporary = file + ".new";
        File.WriteAllText(temporary, string.Join('\n', lines) + "\n");
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, file, overwrite: true);
    }

    private static MqttClientOptions Options(RunningCollector collector, string user, string password) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", collector.BrokerPort).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(user).WithCredentials(user, password).WithTimeout(TimeSpan.FromSeconds(10)).Build();

    private static async Task<IMqttClient> ConnectAsync(RunningCollector collector, string user, string password, List<string> drops, TaskCompletionSource? dropped = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        Assert.Equal(MqttClientConnectResultCode.Success, (await client.ConnectAsync(Options(collector, user, password))).ResultCode);
        client.DisconnectedAsync += _ =>
        {
            lock (drops)
            {
                drops.Add(user);
            }

            dropped?.TrySetResult();
            return Task.CompletedTask;
        };
        return client;
    }

    private static async Task<MqttClientConnectResultCode> TryConnectAsync(RunningCollector collector, string user, string password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options(collector, user, password));
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        return result.ResultCode;
    }
}
