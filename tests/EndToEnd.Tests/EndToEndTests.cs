using System.Net;
using System.Text.Json;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests;

public sealed record RoomDto(string Room, long Count, int Capacity, long Drift);

public sealed record OccupancyDto(long Building, List<RoomDto> Rooms)
{
    public long Count(string room) => Rooms.Single(r => r.Room == room).Count;
}

public sealed record SeriesPointDto(DateTimeOffset Ts, double Min, double Max, double Mean, long Count);

public sealed record SeriesDto(string Sensor, string Field, List<SeriesPointDto> Points);

public sealed record DeviceDto(string Device, string State, string? Version, ulong? LastSeq, long Batches, Dictionary<string, string>? Sensors);

/// <summary>
/// From a beam interrupted in the simulated GPIO driver to <c>/api/v1/occupancy</c>, through the
/// real agent, real MQTT, the real collector and its SQLite store. Run once per broker.
/// </summary>
public abstract class EndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    protected RunningCollector Collector { get; private set; } = null!;

    protected SimulatedPi Pi { get; set; } = null!;

    public async Task InitializeAsync()
    {
        var brokerPort = await StartBrokerAsync();
        Collector = await RunningCollector.StartAsync(brokerPort);
        Pi = await SimulatedPi.StartAsync(Collector.BrokerPort);
        await Pi.WaitReadyAsync(Patience);
    }

    public async Task DisposeAsync()
    {
        if (Pi is not null)
        {
            await Pi.DisposeAsync();
        }

        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }

        await StopBrokerAsync();
    }

    /// <summary>Starts the broker under test; null for the collector's embedded one.</summary>
    protected abstract Task<int?> StartBrokerAsync();

    protected abstract Task StopBrokerAsync();

    [Fact]
    public async Task Door_crossings_in_the_simulated_driver_change_occupancy_over_mqtt()
    {
        // Three people come in through the main door, one goes on into the DC-Lab, one leaves.
        for (var i = 0; i < 3; i++)
        {
            await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: true);
        }

        await Pi.WalkAsync(SimulatedPi.LabOuter, SimulatedPi.LabInner, inwards: true);
        await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: false);

        var occupancy = await Collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy",
            o => o.Building == 2 && o.Count("ontmoetingsplek") == 1 && o.Count("dc-lab") == 1, Patience);
        Assert.Equal(0, occupancy.Count("technodiscovery"));
        Assert.All(occupancy.Rooms, r => Assert.Equal(0, r.Drift));

        // Everyone leaves again: the lab first, then the building.
        await Pi.WalkAsync(SimulatedPi.LabOuter, SimulatedPi.LabInner, inwards: false);
        await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: false);
        await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: false);
        await Collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy",
            o => o.Building == 0 && o.Rooms.All(r => r.Count == 0), Patience);
    }

    [Fact]
    public async Task Dc_readings_of_the_simulated_ina219_are_stored_and_served_as_a_series()
    {
        var series = await Collector.EventuallyAsync<SeriesDto>("/api/v1/series?sensor=dc-bench-1&field=voltage_v&points=50",
            s => s.Points.Sum(p => p.Count) >= 5, Patience);
        Assert.All(series.Points, p => Assert.InRange(p.Mean, 23.98, 24.02));

        var current = await Collector.GetAsync<SeriesDto>("/api/v1/series?sensor=dc-bench-1&field=current_a&points=10");
        Assert.NotEmpty(current.Points);
        Assert.All(current.Points, p => Assert.InRange(p.Mean, 1.49, 1.51));

        // The load changes: the new value reaches the store too.
        Pi.Bench.SetLoad(12.0, 0.5);
        await Collector.EventuallyAsync<SeriesDto>("/api/v1/series?sensor=dc-bench-1&field=power_w&points=1000",
            s => s.Points.Count > 0 && Math.Abs(s.Points[^1].Mean - 6.0) < 0.1, Patience);
    }

    [Fact]
    public async Task The_device_shows_online_with_its_version_and_healthy_sensors()
    {
        var devices = await Collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices",
            // The first status can leave before the readers report: wait for one that lists them.
            list => list.Any(d => d.Device == SimulatedPi.Device && d.State == "online" && d.Version is not null && d.Sensors?.ContainsKey("door-main") == true), Patience);
        var pi = devices.Single(d => d.Device == SimulatedPi.Device);
        Assert.NotNull(pi.Sensors);
        Assert.Contains("door-main", pi.Sensors!.Keys);
        // Devices of the site file that never spoke are listed too, so staff see what is missing.
        Assert.Contains(devices, d => d.Device == "pi-hall-north" && d.State == "never-seen");
    }

    [Fact]
    public async Task A_sensor_that_fails_shows_in_the_device_list_before_the_next_heartbeat()
    {
        // The heartbeat is 30 s: a status inside the patience below is one the health change sent.
        await Collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices",
            list => list.Any(d => d.Device == SimulatedPi.Device && d.Sensors?.GetValueOrDefault("dc-bench-1") == "ok"), Patience);

        Pi.Hardware.I2c.Detach(1, SimulatedPi.BenchAddress);

        var devices = await Collector.EventuallyAsync<List<DeviceDto>>("/api/v1/devices",
            list => list.Any(d => d.Device == SimulatedPi.Device && d.Sensors?.GetValueOrDefault("dc-bench-1")?.StartsWith("error", StringComparison.Ordinal) == true), Patience);
        var pi = devices.Single(d => d.Device == SimulatedPi.Device);
        Assert.Equal("online", pi.State);
        Assert.Equal("ok", pi.Sensors!["door-main"]);
    }

    [Fact]
    public async Task A_crossing_reaches_the_live_stream_as_an_occupancy_event()
    {
        using var cancel = new CancellationTokenSource(Patience);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/stream");
        using var response = await Collector.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
        using var reader = new StreamReader(stream);

        await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: true);

        string? eventName = null;
        while (await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "occupancy")
            {
                using var data = JsonDocument.Parse(line["data: ".Length..]);
                Assert.Equal("ontmoetingsplek", data.RootElement.GetProperty("room").GetString());
                Assert.Equal(1, data.RootElement.GetProperty("count").GetInt64());
                Assert.Equal(1, data.RootElement.GetProperty("building").GetInt64());
                return;
            }
        }

        Assert.Fail("the stream ended without an occupancy event");
    }

    [Fact]
    public async Task Health_metrics_openapi_site_and_page_are_served()
    {
        await Collector.EventuallyAsync<JsonElement>("/api/v1/devices", _ => true, Patience);
        var health = await Collector.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var openApi = await Collector.GetAsync<JsonElement>("/openapi/v1.json");
        var paths = openApi.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/site", "/api/v1/occupancy", "/api/v1/series", "/api/v1/devices", "/api/v1/stream" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");
        }

        var site = await Collector.GetAsync<JsonElement>("/api/v1/site");
        Assert.Equal("newtechpark", site.GetProperty("site").GetString());
        Assert.True(site.GetProperty("rooms").GetArrayLength() >= 21);

        var page = await Collector.Http.GetStringAsync("/");
        Assert.Contains("Bezetting per ruimte", page);

        await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: true);
        await Collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy", o => o.Building == 1, Patience);
        var metrics = await Collector.Http.GetStringAsync("/metrics");
        Assert.Contains("ntp_ingest_readings_total", metrics);
        Assert.Contains("ntp_occupancy_people{room=\"ontmoetingsplek\"} 1", metrics);
    }

    [Fact]
    public async Task A_restarted_agent_continues_its_sequence_so_nothing_it_sends_is_taken_for_a_duplicate()
    {
        await Pi.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: true);
        await Collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy", o => o.Building == 1, Patience);
        var before = (await Collector.GetAsync<List<DeviceDto>>("/api/v1/devices")).Single(d => d.Device == SimulatedPi.Device);

        // The Pi reboots: same state folder, new process state.
        var data = Pi.DataDirectory;
        Pi.KeepDataOnDispose();
        await using (var keep = Pi)
        {
            Pi = null!;
        }

        var restarted = await SimulatedPi.StartAsync(Collector.BrokerPort, data);
        Pi = restarted;
        try
        {
            await restarted.WaitReadyAsync(Patience);
            await restarted.WalkAsync(SimulatedPi.MainOuter, SimulatedPi.MainInner, inwards: true);
            var occupancy = await Collector.EventuallyAsync<OccupancyDto>("/api/v1/occupancy", o => o.Building == 2, Patience);
            Assert.Equal(2, occupancy.Count("ontmoetingsplek"));
            var after = (await Collector.GetAsync<List<DeviceDto>>("/api/v1/devices")).Single(d => d.Device == SimulatedPi.Device);
            Assert.True(after.LastSeq > before.LastSeq, $"seq went from {before.LastSeq} to {after.LastSeq}");
        }
        finally
        {
            await restarted.DisposeAsync();
            Directory.Delete(data, recursive: true);
            Pi = null!;
        }
    }

    [Fact]
    public async Task A_bad_series_request_gets_a_problem_details_answer()
    {
        var response = await Collector.Http.GetAsync("/api/v1/series?field=power_w");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("sensor", problem.GetProperty("title").GetString());
    }
}

/// <summary>Against the collector's embedded MQTTnet broker.</summary>
public sealed class EmbeddedBrokerEndToEndTests : EndToEndTests
{
    protected override Task<int?> StartBrokerAsync() => Task.FromResult<int?>(null);

    protected override Task StopBrokerAsync() => Task.CompletedTask;
}

/// <summary>Against Debian's Mosquitto, started by the test on a free port.</summary>
[Trait("Category", "Slow")]
public sealed class MosquittoEndToEndTests : EndToEndTests
{
    private MosquittoBroker? _broker;

    protected override async Task<int?> StartBrokerAsync()
    {
        _broker = await MosquittoBroker.StartAsync();
        return _broker.Port;
    }

    protected override async Task StopBrokerAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}
