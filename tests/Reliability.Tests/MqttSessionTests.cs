using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>MQTT session behaviour that the fault tests do not cover on the way.</summary>
[Trait("Category", "Slow")]
public sealed class MqttSessionTests
{
    [Fact]
    public async Task A_broker_that_refuses_the_connection_gets_one_clear_error_line_and_the_agent_keeps_recording()
    {
        var root = Directory.CreateTempSubdirectory("ntp-refused-").FullName;
        var port = FreePort.Next();
        await using var broker = new MosquittoProcess(port, Path.Combine(root, "mosquitto"), allowAnonymous: false);
        await broker.StartAsync();
        var data = Path.Combine(root, "agent");
        await using var agent = ChildProcess.StartDotnet("agent", "ntp-load-agent.dll", [
            "--Agent:Device=pi-refused",
            $"--Agent:DataDirectory={data}",
            $"--Agent:Broker:Port={port}",
            "--Agent:Broker:ReconnectMinDelay=00:00:00.200",
            "--Load:Rate=100",
            "--Load:Total=200",
            $"--Load:RecordFile={Path.Combine(data, "recorded.log")}",
        ]);

        // MQTTnet 5 returns the refusal as a result code; the agent logs it as an error that names broker and reason.
        await agent.WaitForOutputAsync($"Broker mqtt://127.0.0.1:{port} refused the connection of ntp-newtechpark-pi-refused: NotAuthorized", TimeSpan.FromSeconds(20));
        await agent.WaitForOutputAsync("LOAD DONE made 200 refused 0", TimeSpan.FromSeconds(20));
        Assert.Equal(200, File.ReadAllLines(Path.Combine(data, "recorded.log")).Sum(l => int.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)));
        await agent.StopAsync(TimeSpan.FromSeconds(10));
        Directory.Delete(root, recursive: true);
    }
}
