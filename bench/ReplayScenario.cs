using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// The real agent stack (outbox, publisher, MQTT connection) with 1,000,000 readings in its outbox
/// (written through Outbox.Append while no broker was there), then connected to the collector with
/// its embedded broker: readings a second until every batch is committed in the collector's store,
/// and whether they arrived in sequence order.
/// </summary>
public static class ReplayScenario
{
    private const string Device = "pi-replay";
    private const int Total = 1_000_000;
    private const int PerBatch = 1000;

    public static async Task<string> RunAsync()
    {
        using var agentData = new TempDirectory("ntp-bench-replay-agent-");
        var brokerPort = FreePort.Next();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([
            new("Agent:Site", "newtechpark"),
            new("Agent:Device", Device),
            new("Agent:DataDirectory", agentData.Path),
            new("Agent:Broker:Host", "127.0.0.1"),
            new("Agent:Broker:Port", brokerPort.ToString()),
            new("Agent:Broker:ReconnectMinDelay", "00:00:00.100"),
            new("Agent:Broker:ReconnectMaxDelay", "00:00:00.500"),
            .. BenchUsers.AgentSettings(Device),
        ]);
        builder.Services.AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        builder.Services.AddEdgeAgent(builder.Configuration, new SimulatedHardware().ToAgentHardware());
        using var agent = builder.Build();

        // Fill the outbox as an agent does during an outage.
        var outbox = agent.Services.GetRequiredService<Outbox>();
        var fill = Stopwatch.StartNew();
        var start = DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeMilliseconds();
        for (var b = 0; b < Total / PerBatch; b++)
        {
            var readings = new Reading[PerBatch];
            for (var r = 0; r < PerBatch; r++)
            {
                var ts = start + (long)b * PerBatch + r;
                readings[r] = new Reading
                {
                    Ts = DateTimeOffset.FromUnixTimeMilliseconds(ts),
                    Sensor = "dc-replay",
                    Kind = ReadingKinds.Dc,
                    Values = new Dictionary<string, double> { [ReadingKinds.DcValues.VoltageV] = 24 + r / 1000.0 },
                };
            }

            outbox.Append(readings);
        }

        Console.WriteLine($"  outbox filled: {outbox.PendingReadings:N0} readings in {outbox.PendingBatches:N0} batches ({fill.Elapsed.TotalSeconds:F1} s)");
        var batches = outbox.PendingBatches;

        // The broker comes back: the collector with its embedded broker on the agent's port.
        await using var collector = await StartCollectorOnAsync(brokerPort);
        var watch = Stopwatch.StartNew();
        await agent.StartAsync();
        long committed;
        while ((committed = Count(collector)) < batches)
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"only {committed} of {batches} batches were committed in 5 minutes");
            }

            await Task.Delay(20);
        }

        var elapsed = watch.Elapsed;
        var rate = Total / elapsed.TotalSeconds;
        await agent.StopAsync();
        var (stored, span, outOfOrder) = Order(collector);
        Console.WriteLine($"  replayed {Total:N0} readings ({stored:N0} batches, seq span {span:N0}) in {elapsed.TotalSeconds:F1} s from agent start (connect included): {rate:N0} readings/s");
        Console.WriteLine($"  batches committed out of sequence order: {outOfOrder}; outbox left: {outbox.PendingReadings:N0} readings");
        Console.WriteLine($"  target >= 20,000 readings/s in order: {(rate >= 20_000 && outOfOrder == 0 && stored == batches ? "met" : "MISSED")}");
        SqliteConnection.ClearAllPools();
        return $"replay: {rate:F0} readings/s ({Total:N0} readings, {outOfOrder} out of order)";
    }

    private static Task<BenchCollector> StartCollectorOnAsync(int port) => BenchCollector.StartAsync(outsideBrokerPort: null, embeddedPort: port);

    private static long Count(BenchCollector collector)
    {
        using var connection = collector.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM batches WHERE device = $d";
        command.Parameters.AddWithValue("$d", Device);
        return (long)command.ExecuteScalar()!;
    }

    private static (long Stored, long Span, long OutOfOrder) Order(BenchCollector collector)
    {
        using var connection = collector.OpenReader();
        using var command = connection.CreateCommand();
        // received_ms follows the order of the commits: a later seq committed earlier is out of order.
        command.CommandText = """
            SELECT count(*), max(seq) - min(seq) + 1,
                   (SELECT count(*) FROM (SELECT received_ms, lag(received_ms) OVER (ORDER BY seq) AS prev FROM batches WHERE device = $d) WHERE received_ms < prev)
            FROM batches WHERE device = $d
            """;
        command.Parameters.AddWithValue("$d", Device);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
